"""An optional debugpy port, so that VS Code can attach to the server and stop in the user's score.py.

Why it is built this way (measured with azureml-inference-server-http 1.5.1 and debugpy 1.8):

- Nothing of debugpy runs until a client attaches. Once ``debugpy.listen()`` has run, pydevd's tracing stays
  installed and pure-Python code on Python 3.11 runs 2-5 times slower even with no client attached
  (``python -m benchmarks.debugger``). So in listen mode the shim binds the port itself and accepts on a
  hidden thread (`shim.runtime.debug_relay`); the first client that speaks starts debugpy on a loopback
  port of its own (0.5-1.5 s measured here), and every client is relayed to it from then on. With
  ``WORKER_PRELOAD=true`` debugpy still starts at once, in the master: workers forked before it started
  could never join the session. Connect mode (the IDE listens) starts it at once too: it has to connect.
- The server loads the entry script in every gunicorn worker, and only one of them can listen on the port
  (a second ``listen`` fails with "Address already in use"; an unguarded failure there stops the whole
  server, exit 3). So one process owns the port (`shim.runtime.debug_lock`: a lock the kernel drops when
  its process dies, so the worker gunicorn starts in its place takes the port over), claimed before it
  binds. The other workers log which process owns it and serve without a debugger.
- Nothing here may take the server down: debugpy missing, the port taken, debugpy failing to start when a
  client comes, nothing listening in connect mode, all end in a ``shim.debugger.*`` warning and the server
  goes on serving.
- Anyone who reaches a debugpy port can run any code in the process. The default host is 127.0.0.1; any
  other host is the user's explicit choice and is logged as a loud warning.
- At a breakpoint, the server's ``SCORING_TIMEOUT_MS`` and gunicorn's ``WORKER_TIMEOUT`` still run; a
  worker also has to finish booting (this wait and ``init()`` included) within ``WORKER_TIMEOUT``.
"""

from __future__ import annotations

import contextlib
import errno
import importlib.util
import ipaddress
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

from ..settings import PREFIX, Settings
from ..stream.configure import get_logger
from . import debug_lock, debug_relay, user_files

log = get_logger("shim")

#: Below these, a paused breakpoint soon turns into a killed request or worker: warn when debugging.
SHORT_WORKER_TIMEOUT_S = 900
SHORT_SCORING_TIMEOUT_MS = 900_000
#: What `score-shim serve` sets when debugging (unless the user set them): an hour at a breakpoint.
GENEROUS_WORKER_TIMEOUT_S = 3600
GENEROUS_SCORING_TIMEOUT_MS = 3_600_000
#: gunicorn's default --timeout, as azmlinfsrv passes it when WORKER_TIMEOUT is unset.
SERVER_DEFAULT_WORKER_TIMEOUT_S = 300
SERVER_DEFAULT_SCORING_TIMEOUT_MS = 3_600_000
#: How often the attach watcher looks whether a client came or went.
WATCH_INTERVAL_S = 0.05  # short sessions (one breakpoint, then detach) must not be missed
#: A wait for the debugger ends this long before gunicorn would kill the booting worker.
BOOT_MARGIN_S = 15.0

_lock = threading.Lock()
_started_pid: int | None = None
_watching_pid: int | None = None
_attached = False
_attached_lock = threading.Lock()
_debugpy: Any = None  # the debugpy module once it has started in this process

#: The ``debugpy_starts`` field of ``shim.debugger.listening``.
STARTS_ON_ATTACH = "on_attach"
STARTS_AT_START = "at_start"


def start(settings: Settings, remote_root: str | None = None) -> None:
    """Open (or connect) the debug port if one is asked for; wait for a client if asked to. Never raises.

    Called before the user's script is imported and before ``init()``, once per process: in each gunicorn
    worker, or once in the master with ``WORKER_PRELOAD=true`` (the forked workers then join the same
    debug session as subprocesses).
    """
    global _started_pid
    if settings.debug_port is None:
        return
    with _lock:
        if _started_pid == os.getpid():
            return
        _started_pid = os.getpid()
        try:
            _start(settings, remote_root)
        except Exception as error:  # a debugger problem must never stop the server
            log.warning(
                "shim.debugger.failed",
                debug_port=settings.debug_port,
                debug_host=settings.debug_host,
                error=error,
                diagnosis="the debugger could not be started; the server goes on without it.",
            )


def _start(settings: Settings, remote_root: str | None) -> None:
    port = settings.debug_port
    assert port is not None
    host = settings.debug_host
    listen = settings.debug_mode == "listen"
    if os.environ.get("AZUREML_DEBUG_PORT", "").strip():
        # The server's own hook has already connected this process to a debugger (or stopped the server).
        log.warning(
            "shim.debugger.skipped",
            debug_port=port,
            diagnosis=(
                f"AZUREML_DEBUG_PORT is set too: the server itself connected this process to a debugger, so "
                f"{PREFIX}DEBUG_PORT is ignored. Use one of them; {PREFIX}DEBUG_MODE=connect does what "
                "AZUREML_DEBUG_PORT does without stopping the server when nothing listens."
            ),
        )
        return
    owner = _claim(port)
    if owner is not None:
        known = owner != debug_lock.UNKNOWN_OWNER
        log.info(
            "shim.debugger.elsewhere",
            debug_port=port,
            debug_host=host,
            owner_pid=owner if known else None,
            diagnosis=(
                f"{f'process {owner}' if known else 'another process'} owns debug port {port}; requests this "
                "worker serves do not stop at breakpoints. Debug with one worker (WORKER_COUNT=1) to stop on "
                "every request."
            ),
        )
        return
    _warn_short_timeouts(port)
    if listen and not _is_loopback(host):
        log.warning(
            "shim.debugger.exposed",
            debug_host=host,
            debug_port=port,
            diagnosis=(
                f"the debug port listens on {host}: ANYONE who can reach {host}:{port} can run any code in "
                "this process. Use it only inside a container whose port is published on loopback "
                f"(docker run -p 127.0.0.1:{port}:{port}) or reached through kubectl port-forward; never on "
                "a deployment that serves traffic."
            ),
        )
    if listen and not _preloaded():
        _listen_until_attach(settings, host, port, remote_root)
        return
    debugpy = _import_debugpy(port)
    if debugpy is None:
        debug_lock.release()
        return
    # Forked gunicorn workers (WORKER_PRELOAD=true) join the session as subprocesses instead of inheriting
    # a half-copied debugger.
    debugpy.configure(subProcess=True)
    if listen:
        try:
            bound_host, bound_port = debugpy.listen((host, port))
        except Exception as error:
            debug_lock.release()
            _listen_failed(host, port, error)
            return
        _log_listening(
            bound_host,
            bound_port,
            remote_root,
            STARTS_AT_START,
            diagnosis=(
                "WORKER_PRELOAD=true: debugpy starts now, in the master, because workers forked before a client "
                "attached could never join the debug session. Pure-Python code runs slower from now on, even with "
                "no client attached; without WORKER_PRELOAD debugpy starts only when a client attaches."
            ),
        )
    else:
        try:
            debugpy.connect((host, port))
        except Exception as error:
            debug_lock.release()
            log.error(
                "shim.debugger.connect_failed",
                debug_host=host,
                debug_port=port,
                error=error,
                diagnosis=(
                    f"nothing accepted the connection at {host}:{port}. In connect mode VS Code must listen "
                    'first: start a launch.json "attach" configuration with "listen": {"host": ..., "port": '
                    f"{port}}}, then restart the server. The server goes on without the debugger."
                ),
            )
            return
        log.info("shim.debugger.connected", debug_host=host, debug_port=port, remote_root=remote_root)
    _use(debugpy)
    if settings.wait_for_debugger:
        _wait(settings, host, port, attached=debugpy.is_client_connected)


def _listen_until_attach(settings: Settings, host: str, port: int, remote_root: str | None) -> None:
    """Bind the port with a plain socket; debugpy starts behind it when the first client speaks."""
    if not _debugpy_installed(port):
        debug_lock.release()
        return
    try:
        listener = debug_relay.bind(host, port)
    except OSError as error:
        debug_lock.release()
        _listen_failed(host, port, error)
        return
    relay = debug_relay.Relay(listener, lambda: _start_behind(relay, port))
    bound_host, bound_port = listener.getsockname()[:2]
    _log_listening(str(bound_host), int(bound_port), remote_root, STARTS_ON_ATTACH)
    relay.serve()
    if settings.wait_for_debugger:
        _wait(settings, host, port, attached=_client_attached, gave_up=lambda: relay.failed)


def _start_behind(relay: debug_relay.Relay, port: int) -> debug_relay.Address | None:
    """Start debugpy on a loopback port of its own, for the relay (once, on a client's first bytes).

    Returns where its adapter accepts clients, or None (logged, the lock given up) when it cannot start.
    """
    began = time.monotonic()
    debugpy = _import_debugpy(port)
    if debugpy is None:
        debug_lock.release()
        return None
    try:
        debugpy.configure(subProcess=True)  # the user's own subprocesses join the session, as before
        internal = _checked_address(debugpy.listen(("127.0.0.1", 0)))
    except Exception as error:
        debug_lock.release()
        log.warning(
            "shim.debugger.failed",
            debug_port=port,
            error=error,
            diagnosis=(
                f"debugpy could not start when a client connected to debug port {port}; the port is closed and "
                "the server goes on without the debugger."
            ),
        )
        return None
    ready = time.monotonic()
    since = relay.connected_at
    log.info(
        "shim.debugger.started",
        debug_port=port,
        took_s=round(ready - began, 3),
        since_connection_s=round(ready - since, 3) if since is not None else None,
        diagnosis=(
            f"a client connected to debug port {port}: debugpy started and the port is relayed to it. "
            "Pure-Python code in this process runs slower from now on, attached or not, until it ends."
        ),
    )
    _use(debugpy)
    return internal


def _checked_address(address: Any) -> debug_relay.Address:
    """``debugpy.listen``'s answer, which must be the loopback port its adapter really bound (not 0)."""
    try:
        host, port = address
    except (TypeError, ValueError):
        raise RuntimeError(f"debugpy.listen() returned {address!r}, not (host, port)") from None
    if not isinstance(port, int) or not 0 < port < 65536:
        raise RuntimeError(f"debugpy.listen() returned no port it listens on: {address!r}")
    return str(host), port


def _use(debugpy: Any) -> None:
    """debugpy runs in this process from now on: the wait may ask it, the watcher logs attach and detach."""
    global _debugpy
    _debugpy = debugpy
    _watch(debugpy)


def _client_attached() -> bool:
    return _debugpy is not None and bool(_debugpy.is_client_connected())


def _log_listening(host: str, port: int, remote_root: str | None, starts: str, **fields: Any) -> None:
    # On 0.0.0.0 the port is reached through `docker -p 127.0.0.1:...` or `kubectl port-forward`.
    reach = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    log.info(
        "shim.debugger.listening",
        debug_host=host,
        debug_port=port,
        remote_root=remote_root,
        debugpy_starts=starts,
        attach=(
            f'VS Code: a launch.json "attach" configuration with "connect": {{"host": "{reach}", '
            f'"port": {port}}} and "pathMappings" from your local folder to "remoteRoot": '
            f'"{remote_root or "<the folder of score.py in the container>"}".'
        ),
        **fields,
    )


def _listen_failed(host: str, port: int, error: Exception) -> None:
    log.warning(
        "shim.debugger.listen_failed",
        debug_host=host,
        debug_port=port,
        error=error,
        diagnosis=_listen_diagnosis(host, port, error),
    )


def _import_debugpy(port: int) -> Any:
    # The "frozen modules" notice debugpy prints on Python 3.11+ concerns the standard library only and would
    # be a stray non-JSON line in the log stream.
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    try:
        import debugpy
    except ImportError as error:
        _unavailable(port, error)
        return None
    return debugpy


def _debugpy_installed(port: int) -> bool:
    """Whether debugpy can be found, without importing it (a missing one is said at start, not at attach)."""
    try:
        found = importlib.util.find_spec("debugpy") is not None
    except (ImportError, ValueError) as error:
        _unavailable(port, error)
        return False
    if not found:
        _unavailable(port, ModuleNotFoundError("No module named 'debugpy'"))
    return found


def _unavailable(port: int, error: Exception) -> None:
    log.warning(
        "shim.debugger.unavailable",
        debug_port=port,
        error=error,
        diagnosis=(
            f"{PREFIX}DEBUG_PORT={port} asks for a debugger, but debugpy is not installed in this Python. "
            "Add debugpy to the environment's pip dependencies. The server goes on "
            "without the debugger."
        ),
    )


def _listen_diagnosis(host: str, port: int, error: Exception) -> str:
    text = str(error)
    if "in use" in text.lower() or getattr(error, "errno", None) == errno.EADDRINUSE:
        return (
            f"port {port} on {host} is already in use by another process (another server, container or "
            f"debug session): stop it, or set {PREFIX}DEBUG_PORT to a free port. The server goes on without "
            "the debugger."
        )
    if "assign" in text.lower() or "resolve" in text.lower() or "name" in text.lower():
        return (
            f"cannot listen on {host}: it is not an address of this machine. Use 127.0.0.1 (the default), or "
            "0.0.0.0 inside a container whose port is published on loopback. The server goes on without the "
            "debugger."
        )
    return f"could not listen on {host}:{port} ({error}); the server goes on without the debugger."


def _wait(
    settings: Settings,
    host: str,
    port: int,
    attached: Callable[[], bool],
    gave_up: Callable[[], bool] = lambda: False,
) -> None:
    """Wait, bounded, until a client has attached (configurationDone), so that init() can be stepped through.

    ``attached`` is debugpy's own answer once it runs; in listen mode it is no until a client has connected
    and debugpy has started behind the port. ``gave_up`` ends the wait when the port has closed for good
    (debugpy could not start when a client came; that is logged).
    """
    timeout = settings.debug_wait_timeout
    limit = _boot_limit()
    capped = limit is not None and limit < timeout
    if limit is not None and capped:
        timeout = limit
    log.info(
        "shim.debugger.waiting",
        debug_host=host,
        debug_port=port,
        timeout_s=round(timeout, 3),
        diagnosis=(
            f"init() waits until VS Code attaches to {host}:{port} (Run and Debug, an 'attach' configuration), "
            f"for at most {timeout:.0f} s"
            + (
                f" (kept below gunicorn's WORKER_TIMEOUT={_worker_timeout()} s, which would kill the booting "
                "worker; raise WORKER_TIMEOUT to wait longer)"
                if capped
                else ""
            )
            + "."
        ),
    )
    started = time.monotonic()
    deadline = started + timeout
    with _stop_requests() as stopping:
        while not attached():
            if gave_up():
                return
            if stopping.is_set():
                log.info(
                    "shim.debugger.wait_cancelled",
                    waited_s=round(time.monotonic() - started, 3),
                    diagnosis="the server is stopping (SIGTERM): the wait for the debugger ends.",
                )
                return
            if time.monotonic() >= deadline:
                log.warning(
                    "shim.debugger.wait_timeout",
                    debug_host=host,
                    debug_port=port,
                    waited_s=round(time.monotonic() - started, 3),
                    diagnosis=(
                        f"no debugger attached within {timeout:.0f} s; init() goes on without one (the port stays "
                        f"open: attach later to stop in run()). Set {PREFIX}DEBUG_WAIT_TIMEOUT to wait longer."
                    ),
                )
                return
            time.sleep(0.05)
    _note_attached(True, waited_s=round(time.monotonic() - started, 3))


@contextlib.contextmanager
def _stop_requests() -> Iterator[threading.Event]:
    """An event set when SIGTERM arrives during the wait; the handler that was there still runs.

    gunicorn's worker handles SIGTERM by finishing its current work, and the wait is work it cannot see:
    without this, stopping a server that waits for a debugger takes gunicorn's whole graceful timeout.
    """
    stopping = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stopping
        return
    previous = signal.getsignal(signal.SIGTERM)

    def on_term(signum: int, frame: FrameType | None) -> None:
        stopping.set()
        if callable(previous):
            previous(signum, frame)
        elif previous == signal.SIG_DFL:  # no handler yet (WORKER_PRELOAD: the master before gunicorn's own)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTERM)

    signal.signal(signal.SIGTERM, on_term)
    try:
        yield stopping
    finally:
        if signal.getsignal(signal.SIGTERM) is on_term:
            signal.signal(signal.SIGTERM, previous)


def _watch(debugpy: Any) -> None:
    """Log ``shim.debugger.attached`` / ``detached`` as clients come and go, from a thread debugpy ignores."""
    global _watching_pid
    _watching_pid = os.getpid()

    def watch() -> None:
        errors = 0
        while errors < 100:  # a debugpy that keeps failing is given up on, not spun on
            try:
                _note_attached(bool(debugpy.is_client_connected()))
                errors = 0
            except Exception:
                errors += 1  # a transient failure while a client connects or leaves: look again
            time.sleep(WATCH_INTERVAL_S)

    # Hidden from the debugger's thread list and never traced: it is not the user's code.
    debug_relay.hidden_thread(watch, "score-shim-debugger-watch").start()


def _note_attached(now: bool, **fields: Any) -> None:
    """Log a client's arrival or departure once, whoever notices it first (the wait or the watcher)."""
    global _attached
    with _attached_lock:
        if now == _attached:
            return
        _attached = now
    log.info("shim.debugger.attached" if now else "shim.debugger.detached", **fields)


def _restart_watch_after_fork() -> None:
    # A worker forked from a listening master (WORKER_PRELOAD=true) joins the debug session as a subprocess.
    global _attached, _attached_lock
    if _watching_pid is not None and _watching_pid != os.getpid():
        _attached, _attached_lock = False, threading.Lock()  # another thread may have held it at the fork
        with contextlib.suppress(Exception):
            import debugpy

            _watch(debugpy)


os.register_at_fork(after_in_child=_restart_watch_after_fork)


# -- one owner per port ---------------------------------------------------------------------------


def _claim(port: int) -> int | None:
    """None when this process owns the port, else the owner's pid; with no lock possible, say so and try it."""
    try:
        return debug_lock.claim(port)
    except debug_lock.Unlocked as why:
        log.warning(
            "shim.debugger.unlocked",
            debug_port=port,
            diagnosis=(
                f"the workers cannot agree on who opens debug port {port}: {why}. Each one tries it: the first "
                "listens, the others log shim.debugger.listen_failed. Set TMPDIR to a writable folder to avoid this."
            ),
        )
        return None


# -- timeouts -------------------------------------------------------------------------------------


def _worker_timeout() -> int:
    try:
        return int(os.environ.get("WORKER_TIMEOUT", SERVER_DEFAULT_WORKER_TIMEOUT_S))
    except ValueError:
        return SERVER_DEFAULT_WORKER_TIMEOUT_S


def _scoring_timeout_ms() -> int:
    return user_files.server_scoring_timeout_ms()  # the environment's, else a config.json's, else the default


def _preloaded() -> bool:
    return os.environ.get("WORKER_PRELOAD", "false").lower() == "true"


def _boot_limit() -> float | None:
    """How long a booting worker may still take before gunicorn kills it (None: no limit applies)."""
    worker_timeout = _worker_timeout()
    if worker_timeout <= 0 or _preloaded():  # 0 disables gunicorn's timeout; preload boots in the master
        return None
    return max(worker_timeout - BOOT_MARGIN_S, worker_timeout / 2)


def _warn_short_timeouts(port: int) -> None:
    worker_timeout, scoring_timeout_ms = _worker_timeout(), _scoring_timeout_ms()
    short = []
    if 0 < worker_timeout < SHORT_WORKER_TIMEOUT_S:
        short.append(f"WORKER_TIMEOUT={worker_timeout} s kills the worker")
    if 0 < scoring_timeout_ms < SHORT_SCORING_TIMEOUT_MS:
        short.append(f"SCORING_TIMEOUT_MS={scoring_timeout_ms} ends the request")
    if short:
        log.warning(
            "shim.debugger.short_timeouts",
            debug_port=port,
            worker_timeout_s=worker_timeout,
            scoring_timeout_ms=scoring_timeout_ms,
            diagnosis=(
                "while you sit at a breakpoint, " + " and ".join(short) + ". While debugging, set "
                f"WORKER_TIMEOUT={GENEROUS_WORKER_TIMEOUT_S} and SCORING_TIMEOUT_MS={GENEROUS_SCORING_TIMEOUT_MS} "
                "in the container's environment (score-shim serve does this for you)."
            ),
        )


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
