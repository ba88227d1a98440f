"""``score-shim serve``: the real server, set up as ``azmlinfsrv`` sets it up, but on loopback.

``azmlinfsrv`` always binds 0.0.0.0. The shim runs the server's own start-up code
(``amlserver_linux.run``, which builds the gunicorn command) in a child process with the same
environment ``azmlinfsrv`` would set, but the address 127.0.0.1, as Azure ML images run the app behind
their proxy. The child gets its own session so that a Ctrl-C reaches only this process, which then
stops the server gracefully (SIGTERM) and waits for it. The server never outlives ``serve``: closing the
terminal (SIGHUP) stops it as Ctrl-C does, and when ``serve`` itself dies (SIGKILL) the server is sent
SIGTERM by the kernel (see `shim.cli.server_process`).
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import FrameType
from typing import Any

from ..runtime import serve_report
from ..runtime.debugger import GENEROUS_SCORING_TIMEOUT_MS, GENEROUS_WORKER_TIMEOUT_S
from ..runtime.loader import ENV_ENTRY_SCRIPT
from ..runtime.user_files import config_file
from ..stream.console import escape
from .server_process import PARENT_PID_ENV

LOOPBACK = "127.0.0.1"
SERVER_PACKAGE = "azureml_inference_server_http"
SERVER_DISTRIBUTION = "azureml-inference-server-http"

#: How long `serve` waits for the health probe before saying so (the server keeps starting).
HEALTH_WAIT_SECONDS = 120.0
#: While the server starts, how often `serve` says how long it has been.
PROGRESS_EVERY_SECONDS = 10.0
#: How long a stopping server may take to finish in-flight requests before it is killed.
STOP_GRACE_SECONDS = 35.0


class ServeError(Exception):
    """Something the user can fix before the server can start; the message says what."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class ServeOptions:
    script: Path
    model_dir: Path | None = None
    port: int = 5001
    workers: int = 1
    shim: bool = True
    env: Mapping[str, str] = field(default_factory=dict)
    #: A debugpy port for VS Code (SCORE_SHIM_DEBUG_PORT), where it listens, and whether init() waits for it.
    debug_port: int | None = None
    debug_host: str | None = None
    wait_for_debugger: bool = False
    #: The server's working directory (``serve --deployment``: AML_APP_ROOT, as in the container).
    cwd: Path | None = None


def wrapper_entry_script() -> Path:
    """The drop-in entry file that the server loads in place of the user's script."""
    import score_wrappers

    return Path(score_wrappers.__file__).resolve().parent / "entry.py"


def _server_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(SERVER_DISTRIBUTION)
    except PackageNotFoundError:
        return "unknown"


def server_environment(options: ServeOptions, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment ``azmlinfsrv --entry_script ... --model_dir ...`` would give the server.

    ``options.env`` is applied last, so an explicit value wins. ``AZUREML_MODEL_DIR`` is made absolute
    (as on Azure), unlike ``azmlinfsrv``, so that a script that changes directory still finds its model.
    With the shim, a ``config.json`` beside the script is named by ``AZUREML_CONFIG_FILE`` (see
    `_config_file_beside_script`), as the bare server would find it beside its entry script.
    """
    env = dict(os.environ if base is None else base)
    env.setdefault("AML_APP_ROOT", os.getcwd())
    script = options.script.resolve()
    if options.shim:
        env["AZUREML_ENTRY_SCRIPT"] = str(wrapper_entry_script())
        env[ENV_ENTRY_SCRIPT] = str(script)
    else:
        env["AZUREML_ENTRY_SCRIPT"] = str(script)
        env.pop(ENV_ENTRY_SCRIPT, None)
    if options.model_dir is not None:
        env["AZUREML_MODEL_DIR"] = str(options.model_dir.resolve())
    env["WORKER_COUNT"] = str(options.workers)
    env["SERVER_PORT"] = str(options.port)
    env["HEALTH_PORT"] = str(options.port)
    if env.get("SERVER_VERSION_LOG_RESPONSE_ENABLED", "true").lower() == "true":
        env.setdefault("HTTP_X_MS_SERVER_VERSION", f"azmlinfsrv/{_server_version()}")
    # azmlinfsrv turns App Insights off unless it is enabled with a key; a local run never sends to Azure.
    if env.get("AML_APP_INSIGHTS_ENABLED") != "true" or not env.get("AML_APP_INSIGHTS_KEY"):
        env["AML_APP_INSIGHTS_ENABLED"] = "false"
    if options.debug_port is not None:
        env["SCORE_SHIM_DEBUG_PORT"] = str(options.debug_port)
        if options.debug_host:
            env["SCORE_SHIM_DEBUG_HOST"] = options.debug_host
        if options.wait_for_debugger:
            env["SCORE_SHIM_WAIT_FOR_DEBUGGER"] = "1"
    env.update(options.env)  # what the caller set explicitly wins
    if options.shim:
        _config_file_beside_script(env, script)
    if options.shim and env.get("SCORE_SHIM_DEBUG_PORT", "").strip():
        # A breakpoint holds the request: keep the server's timeouts from killing it (unless set by the user).
        env.setdefault("WORKER_TIMEOUT", str(GENEROUS_WORKER_TIMEOUT_S))
        env.setdefault("SCORING_TIMEOUT_MS", str(GENEROUS_SCORING_TIMEOUT_MS))
    return env


def _config_file_beside_script(env: dict[str, str], script: Path) -> None:
    """A ``config.json`` beside the user's script, where the bare server would find it: the server's entry
    script is the shim's, so it is named by ``AZUREML_CONFIG_FILE``, which the server reads first. Not when
    ``AZUREML_CONFIG_FILE`` is set already, nor when the server finds one first (in ``AML_APP_ROOT``)."""
    if "AZUREML_CONFIG_FILE" in env or config_file(None, env) is not None:
        return
    beside = config_file(script, env)  # now only the one beside the script
    if beside is not None:
        env["AZUREML_CONFIG_FILE"] = str(beside)


def server_command() -> list[str]:
    return [sys.executable, "-m", "shim.cli.server_process"]


#: What stops `serve` and, through it, the server: Ctrl-C, `kill`, and the terminal closing.
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


def _stop_signals() -> list[int]:
    """`STOP_SIGNALS`, but a SIGHUP ignored by whoever started ``serve`` (``nohup``) stays ignored."""
    hangup = getattr(signal, "SIGHUP", None)
    return [sig for sig in STOP_SIGNALS if not (sig == hangup and signal.getsignal(sig) == signal.SIG_IGN)]


def check_can_serve(options: ServeOptions) -> None:
    """Fail early, with a fix, on what would otherwise be a traceback from the child."""
    import importlib.util

    if importlib.util.find_spec(SERVER_PACKAGE) is None:
        raise ServeError(
            f"the Azure ML inference server is not installed in this Python ({sys.executable}): "
            "pip install azureml-inference-server-http."
        )
    if not options.script.is_file():
        raise ServeError(f"{options.script}: no such file. Give the path of your score.py.")
    if options.model_dir is not None and not options.model_dir.exists():
        raise ServeError(f"--model-dir {options.model_dir}: no such directory.")
    if options.workers < 1:
        raise ServeError(f"--workers {options.workers}: use 1 or more.")
    if options.debug_port is not None:
        _check_can_debug(options)
    error = _bind_error(LOOPBACK, options.port)
    if error is not None:
        if error.errno == errno.EADDRINUSE:
            raise ServeError(
                f"port {options.port} on {LOOPBACK} is already in use: stop what holds it or pass "
                "--port with a free port."
            )
        raise ServeError(f"cannot use port {options.port} on {LOOPBACK}: {error.strerror}.")


def _bind_error(host: str, port: int) -> OSError | None:
    """Why a server could not bind ``host:port`` now, or None when it could.

    Bound as gunicorn binds: with SO_REUSEADDR, so that connections in TIME_WAIT do not count as "in use".
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            return error
    return None


def _check_can_debug(options: ServeOptions) -> None:
    import importlib.util

    if not options.shim:
        raise ServeError("--debug-port needs the shim: drop --no-shim.")
    if options.debug_port == options.port:
        raise ServeError(f"--debug-port {options.debug_port} is also the scoring port: pick another one.")
    if importlib.util.find_spec("debugpy") is None:
        raise ServeError(
            f"--debug-port needs debugpy, which is not installed in this Python ({sys.executable}): "
            "pip install debugpy."
        )
    host, debug_port = options.debug_host or LOOPBACK, options.debug_port
    if debug_port is None:
        return
    error = _bind_error(host, debug_port)
    if error is not None:
        if error.errno == errno.EADDRINUSE:
            raise ServeError(
                f"debug port {options.debug_port} on {host} is already in use (another debug session?): "
                "stop what holds it or pass --debug-port with a free port."
            )
        raise ServeError(
            f"cannot listen for the debugger on {host}:{options.debug_port}: {error.strerror or error}. "
            "Use 127.0.0.1 (the default), or 0.0.0.0 inside a container."
        )


def start(options: ServeOptions, *, die_with_parent: bool = False, **popen_kwargs: object) -> subprocess.Popen[bytes]:
    """Start the server in a child process of its own session; the caller owns its lifetime.

    ``die_with_parent``: the server stops (SIGTERM) when this process dies, even by SIGKILL. Only for a
    caller whose main thread starts it: on Linux the kernel's signal follows the thread that started it.
    """
    env = server_environment(options)
    if die_with_parent:
        env[PARENT_PID_ENV] = str(os.getpid())
    if options.cwd is not None:
        popen_kwargs.setdefault("cwd", options.cwd)
    return subprocess.Popen(  # type: ignore[call-overload, no-any-return]
        server_command(),
        env=env,
        start_new_session=True,
        **popen_kwargs,
    )


def wait_until_healthy(process: subprocess.Popen[bytes], port: int, timeout: float) -> bool:
    """Poll ``GET /`` until it answers 200, the process exits, or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    url = f"http://{LOOPBACK}:{port}/"
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.1)
    return False


def stop(process: subprocess.Popen[bytes], grace: float = STOP_GRACE_SECONDS) -> int:
    """SIGTERM (gunicorn's graceful shutdown), then SIGKILL to the whole group after ``grace`` seconds."""
    if process.poll() is None:
        try:
            process.send_signal(signal.SIGTERM)
            return process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
    return process.wait()


def _say(message: str) -> None:
    # stderr: stdout carries the server's JSON lines and stays machine-readable. After SIGHUP the terminal
    # may be gone (EIO): the server is still stopped.
    with contextlib.suppress(OSError, ValueError):
        print(f"score-shim: {message}", file=sys.stderr, flush=True)


def _debug_note(options: ServeOptions) -> str:
    host = options.debug_host or LOOPBACK
    note = (
        f"debug:  attach VS Code to {host}:{options.debug_port} (launch.json: type debugpy, request attach; "
        "same machine, so no pathMappings)"
    )
    if options.workers > 1:
        note += f"; only one of the {options.workers} workers listens: use --workers 1 to stop on every request"
    return note


def serve(options: ServeOptions) -> int:
    """Run the server in the foreground until it exits or this process is asked to stop."""
    check_can_serve(options)
    with tempfile.TemporaryDirectory(prefix="score-shim-serve-") as private:
        report = os.path.join(private, "init-failure.json")
        options = replace(options, env={**options.env, serve_report.ENV: report})
        code, stopped = _run_in_foreground(options)
        if stopped:
            _say("stopped")
            return 0 if code in (0, -signal.SIGTERM) else code
        if code == 3:
            _say_init_failed(options, serve_report.read(report))
        elif code != 0:
            _say(f"the server stopped with exit code {code}")
    return code


def _run_in_foreground(options: ServeOptions) -> tuple[int, bool]:
    """Start, announce, wait; Ctrl-C, ``kill`` and the terminal closing stop it. (exit code, asked to stop)."""
    process = start(options, die_with_parent=True)
    stop_requested_at: float | None = None

    def forward(signum: int, _: FrameType | None) -> None:
        nonlocal stop_requested_at
        if stop_requested_at is None:
            stop_requested_at = time.monotonic()
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)

    previous = {sig: signal.signal(sig, forward) for sig in _stop_signals()}
    try:
        _announce(process, options)
        while True:
            try:
                code = process.wait(timeout=0.5)
                break
            except subprocess.TimeoutExpired:
                waited = time.monotonic() - (stop_requested_at or time.monotonic())
                if stop_requested_at is not None and waited > STOP_GRACE_SECONDS:
                    code = stop(process, grace=0)
                    break
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return code, stop_requested_at is not None


def _announce(process: subprocess.Popen[bytes], options: ServeOptions) -> None:
    """While the server starts, how long it has been starting; once it answers, where to send requests."""
    mode = "with the shim" if options.shim else "WITHOUT the shim (bare server)"
    if options.debug_port is not None and options.wait_for_debugger:
        _say(f"init() waits until a debugger attaches: {_debug_note(options).removeprefix('debug:  ')}")
    started = time.monotonic()
    while not wait_until_healthy(process, options.port, PROGRESS_EVERY_SECONDS):
        if process.poll() is not None:
            return
        elapsed = time.monotonic() - started
        if elapsed >= HEALTH_WAIT_SECONDS:
            _say(f"the server has not answered on port {options.port} after {elapsed:.0f} s; still waiting")
            return
        _say(f"starting: {elapsed:.0f} s so far (the script's import and init() run before the first answer)")
    _say(f"serving {options.script} {mode}, ready after {time.monotonic() - started:.1f} s")
    _say(f"score:  POST http://{LOOPBACK}:{options.port}/score")
    _say(f"health: GET  http://{LOOPBACK}:{options.port}/   (Ctrl-C to stop)")
    if options.debug_port is not None:
        _say(_debug_note(options))
    if options.env.get("SCORE_SHIM_DEBUG") == "1":
        _say("debug:  errors are echoed in responses (--debug): for this machine only, never in a deployment")


def _say_init_failed(options: ServeOptions, report: dict[str, Any] | None) -> None:
    """The last lines on a failed start: what failed, where, why (the diagnosis), and what to do."""
    if report is None:
        _say(
            "the server stopped with exit code 3: the entry script failed to load or init() raised; "
            "the shim.init.failed event in the server's output (stdout) says why"
        )
        return
    what = "score.py failed to import" if report.get("phase") == "import" else "init() failed"
    _say(f"{what}, so the server stopped (exit code 3; on Azure: a crash loop)")
    _say(f"  {escape(str(report.get('type')))}: {escape(str(report.get('message') or ''))}".rstrip(": "))
    where = report.get("where")
    if isinstance(where, dict) and where.get("file"):
        _say(f"  at {escape(str(where['file']))}:{where.get('line')} in {escape(str(where.get('function')))}")
    if report.get("diagnosis"):
        _say(f"  why: {escape(str(report['diagnosis']))}")
    model = f" --model-dir {options.model_dir}" if options.model_dir is not None else ""
    _say(f"  fix it, then: score-shim check {options.script}{model}   (the same start in seconds, without a server)")
