"""Faults through the real server: what the client sees, what the log says, and that nothing is lost.

Covered elsewhere, not repeated here: a scoring timeout (tests/test_errors.py
``test_a_slow_run_logs_its_stack_before_the_timeout``, tests/test_log_stream.py
``test_scoring_timeout_is_answered_as_bare_and_logs_where_run_was``); debugpy missing and the debug port
already taken (tests/test_debugger.py ``test_a_debugger_problem_is_a_warning_and_the_server_serves``); a
script that cannot be imported (tests/test_startup_failures.py); hold mode (tests/test_hold.py); a failing
log stream inside the process (tests/test_logging.py); memory (tests/test_memory.py). The script is
tests/scripts/faults.py.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import threading
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path
from typing import Any

import httpx
import pytest

from shim.cli.serve import ServeOptions, server_command, server_environment, stop, wait_until_healthy
from tests._server import Server, free_port, parse_lines, running_server, wait_for

pytestmark = pytest.mark.server

EXIT_BOOT_ERROR = 3
JSON_TYPE = {"content-type": "application/json"}


@pytest.fixture(scope="module")
def script(scripts: Path) -> Path:
    return scripts / "faults.py"


def score(client: httpx.Client, body: dict[str, Any], request_id: str) -> httpx.Response:
    return client.post("/score", content=json.dumps(body), headers={**JSON_TYPE, "x-request-id": request_id})


def names(server: Server, **match: Any) -> list[str]:
    return [event["event"] for event in server.events(**match)]


# -- init() raising anything: the server stops (exit 3), as bare, with one shim.init.failed -------------


@pytest.mark.parametrize(
    ("fault", "error_type"),
    [
        ("exception", "faults.ModelLoadError"),
        ("base-exception", "faults.NotAnException"),
        ("system-exit-1", "SystemExit"),
        ("system-exit-0", "SystemExit"),
        ("keyboard-interrupt", "KeyboardInterrupt"),
    ],
)
def test_init_raising_anything_stops_the_server_as_bare(
    script: Path, log_dir: Path, fault: str, error_type: str
) -> None:
    codes = {}
    for shim in (False, True):
        env = {"FAULT_INIT": fault}
        with running_server(script, log_dir, shim=shim, env=env, expect_healthy=False) as server:
            codes[shim] = server.process.wait(timeout=60)
    assert codes == {False: EXIT_BOOT_ERROR, True: EXIT_BOOT_ERROR}
    [failed] = server.events("shim.init.failed")
    assert failed["error"]["type"] == error_type
    assert failed["error"]["where"]["function"] == "init" and failed["error"]["where"]["file"] == str(script)
    assert failed["phase"] == "init"
    # Nothing lost: the user's own line from init() is there, before the failure.
    events = names(server)
    assert events.index(f"faults init pid={failed['pid']}") < events.index("shim.init.failed")


# -- run() failing in each way, on one server: the worker keeps serving ----------------------------------


@pytest.fixture(scope="module")
def servers(script: Path, log_dir: Path) -> Iterator[dict[str, Server]]:
    with running_server(script, log_dir) as wrapped, running_server(script, log_dir, shim=False) as bare:
        yield {"wrapped": wrapped, "bare": bare}


def test_run_raising_is_a_500_one_failed_line_and_the_next_request_is_served(servers: dict[str, Server]) -> None:
    server = servers["wrapped"]
    with server.client() as client:
        failed = score(client, {"raise": "row 7"}, "fault-raise")
        after = score(client, {"echo": "after-raise"}, "fault-raise-after")
    assert failed.status_code == 500 and failed.headers["x-ms-run-function-failed"] == "True"
    assert after.status_code == 200 and after.json() == {"echo": "after-raise"}
    [line] = server.events("shim.run.failed", request_id="fault-raise")
    assert line["error"]["type"] == "faults.ModelLoadError"
    assert line["error"]["message"] == "run failed on row 7"
    assert line["error"]["where"]["function"] == "run"
    server.wait_for_event("shim.run.ok", request_id="fault-raise-after")
    assert not server.events("shim.run.ok", request_id="fault-raise")


def test_unserialisable_result_is_the_servers_500_and_the_line_says_why(servers: dict[str, Server]) -> None:
    answers = {}
    for name, server in servers.items():
        with server.client() as client:
            answers[name] = score(client, {"unserialisable": 1}, f"fault-unserialisable-{name}")
    assert answers["wrapped"].status_code == answers["bare"].status_code == 500
    assert answers["wrapped"].json() == answers["bare"].json()
    server = servers["wrapped"]
    line = server.wait_for_event("shim.run.ok", request_id="fault-unserialisable-wrapped")
    assert line["http"]["status"] == 500
    assert "JSON-serialisable" in line["diagnosis"]
    # A 5xx answer keeps the server's own access line: nothing is folded away.
    assert wait_for(lambda: bool(server.events(request_id="fault-unserialisable-wrapped", logger="gunicorn.access")))


def test_sys_exit_in_run_is_a_500_as_bare_and_the_worker_keeps_serving(servers: dict[str, Server]) -> None:
    answers = {}
    for name, server in servers.items():
        with server.client() as client:
            answers[name] = score(client, {"exit": 2}, f"fault-exit-{name}")
            assert score(client, {"echo": "after-exit"}, f"fault-exit-after-{name}").status_code == 200
    assert answers["wrapped"].status_code == answers["bare"].status_code == 500
    assert answers["wrapped"].text == answers["bare"].text
    server = servers["wrapped"]
    [line] = server.events("shim.run.failed", request_id="fault-exit-wrapped")
    assert line["error"]["type"] == "SystemExit" and line["error"]["message"] == "2"
    assert line["error"]["where"]["function"] == "run"
    assert "called sys.exit(2)" in line["diagnosis"]
    assert server.wait_for_event("shim.run.ok", request_id="fault-exit-after-wrapped")["pid"] == line["pid"]


# -- gunicorn's WORKER_TIMEOUT kills the worker mid-request ----------------------------------------------


@pytest.mark.slow
def test_worker_timeout_leaves_the_stack_then_a_new_worker_runs_init_and_serves(script: Path, log_dir: Path) -> None:
    # The slow-run threshold is half of WORKER_TIMEOUT by default (shim/runtime/watchdog.py): 1.5 s here.
    with running_server(script, log_dir, env={"WORKER_TIMEOUT": "3"}) as server, server.client() as client:
        [first_init] = server.events("shim.init.ok")
        killed = score(client, {"sleep": 30}, "fault-worker-timeout")
        # gunicorn's abort handler raises SystemExit inside run(); the worker answers 500 and exits.
        assert killed.status_code == 500
        assert wait_for(lambda: len(server.events("shim.init.ok")) == 2, timeout=30), server.log_text()[-3000:]
        after = score(client, {"echo": "after-timeout"}, "fault-worker-timeout-after")
        assert after.status_code == 200 and after.json() == {"echo": "after-timeout"}
        server.wait_for_event("shim.run.ok", request_id="fault-worker-timeout-after")
    events = server.events()
    order = [event["event"] for event in events]
    slow = server.events("shim.run.slow", request_id="fault-worker-timeout")
    assert slow, server.log_text()[-3000:]
    assert slow[0]["where"]["function"] == "block_in_c" and slow[0]["where"]["file"] == str(script)
    assert "block_in_c" in slow[0]["stack"] and "WORKER_TIMEOUT=3" in slow[0]["diagnosis"]
    timeout_line = next(i for i, event in enumerate(events) if str(event["event"]).startswith("WORKER TIMEOUT"))
    assert order.index("shim.run.slow") < timeout_line
    [failed] = server.events("shim.run.failed", request_id="fault-worker-timeout")
    assert failed["error"]["where"]["function"] == "block_in_c"
    assert "gunicorn stopped this worker" in failed["diagnosis"] and "WORKER_TIMEOUT=3 s" in failed["diagnosis"]
    # The new worker is another process, and init() ran in it.
    [_, second_init] = server.events("shim.init.ok")
    assert second_init["pid"] != first_init["pid"]


# -- SIGTERM during a request: the request finishes and its line is written before the server exits ------


@pytest.mark.slow
def test_sigterm_during_a_request_lets_it_finish_and_flushes_its_line(script: Path, log_dir: Path) -> None:
    answers: list[httpx.Response] = []
    with running_server(script, log_dir) as server:

        def post() -> None:
            with server.client() as client:
                answers.append(score(client, {"sleep": 2}, "fault-sigterm"))

        thread = threading.Thread(target=post, daemon=True)
        thread.start()
        server.wait_for_event("sleeping 2", request_id="fault-sigterm")
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(timeout=40) == 0
        thread.join(timeout=30)
    assert [(answer.status_code, answer.json()) for answer in answers] == [(200, {"slept": 2})]
    [line] = server.events("shim.run.ok", request_id="fault-sigterm")
    assert line["http"]["status"] == 200
    _, not_json = parse_lines(server.log_text())
    assert not [text for text in not_json if text.startswith("{")], "a torn JSON line"


# -- stdout a pipe whose reader goes away, or no stdout at all: scoring goes on ----------------------------


def _close_stdout() -> None:
    os.close(1)


@pytest.mark.slow
@pytest.mark.parametrize("stdout", ["broken pipe", "closed"])
def test_a_broken_or_closed_stdout_does_not_stop_scoring(script: Path, log_dir: Path, stdout: str) -> None:
    port = free_port()
    options = ServeOptions(
        script=script, model_dir=None, port=port, workers=1, shim=True, env={"SCORE_SHIM_LOG_FORMAT": "json"}
    )
    stderr_path = log_dir / f"stdout-{stdout.replace(' ', '-')}.stderr"
    with stderr_path.open("wb") as stderr:
        process = subprocess.Popen(
            server_command(),
            env=server_environment(options),
            start_new_session=True,
            stdout=subprocess.PIPE if stdout == "broken pipe" else None,
            stderr=stderr,
            cwd=str(script.parent),
            # "closed": the server starts with no file descriptor 1, as under a supervisor that closed it.
            preexec_fn=_close_stdout if stdout == "closed" else None,
        )
    try:
        # The start-up lines fit in the pipe's buffer; once healthy, the reader goes away.
        assert wait_until_healthy(process, port, 60), stderr_path.read_text()
        if process.stdout is not None:
            process.stdout.close()
        statuses = []
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            for index in range(50):
                body = {"raise": index} if index % 10 == 9 else {"echo": index}
                statuses.append((score(client, body, f"stdout-{index}").status_code, index))
        assert all(status == (500 if index % 10 == 9 else 200) for status, index in statuses), statuses
        assert process.poll() is None, "the server died when its stdout went away"
    finally:
        code = stop(process, grace=20)
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
    assert code == 0
    text = stderr_path.read_text(errors="replace")
    # No raw traceback (the failing runs' tracebacks are inside their JSON lines).
    assert not [line for line in text.splitlines() if "Traceback" in line and not line.startswith("{")]
    # Nothing lost: once stdout is gone, the lines go to stderr, announced once.
    events = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    notices = [e["pid"] for e in events if e["event"] == "shim.output.fallback"]
    assert notices and len(notices) == len(set(notices))  # once per process (the master and the worker)
    answered = {e["request_id"] for e in events if e["event"] in ("shim.run.ok", "shim.run.failed")}
    assert {f"stdout-{index}" for index in range(50)} <= answered


# -- a model folder the worker cannot read ---------------------------------------------------------------


def _without_root_powers(command: list[str]) -> list[str]:
    """Root reads everything; drop CAP_DAC_OVERRIDE (setpriv), as tests/test_model_probe.py does."""
    if os.geteuid() != 0:
        return command
    setpriv = shutil.which("setpriv")
    assert setpriv, "this test needs setpriv (util-linux) when run as root"
    return [setpriv, "--bounding-set", "-dac_override,-dac_read_search", *command]


def test_an_unreadable_model_folder_stops_the_server_and_the_probe_says_which(
    script: Path, log_dir: Path, tmp_path: Path
) -> None:
    model_dir = tmp_path / "azureml-models" / "sk" / "1"
    (model_dir / "model").mkdir(parents=True)
    (model_dir / "model" / "model.pkl").write_bytes(b"model")
    (model_dir / "model").chmod(0)
    log_path = log_dir / "unreadable-model.log"
    options = ServeOptions(
        script=script,
        model_dir=model_dir,
        port=free_port(),
        workers=1,
        shim=True,
        env={"SCORE_SHIM_LOG_FORMAT": "json", "FAULT_INIT": "unreadable-model"},
    )
    try:
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                _without_root_powers(server_command()),
                env=server_environment(options),
                start_new_session=True,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=str(script.parent),
            )
        try:
            code = process.wait(timeout=60)
        finally:
            with suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
    finally:
        (model_dir / "model").chmod(0o755)
    events, _ = parse_lines(log_path.read_text(encoding="utf-8", errors="replace"))
    assert code == EXIT_BOOT_ERROR
    [failed] = [event for event in events if event["event"] == "shim.init.failed"]
    assert failed["error"]["type"] == "PermissionError"
    assert failed["error"]["where"]["function"] == "init"
    probes = [event for event in events if event["event"] == "shim.model.probe"]
    assert probes and "cannot list model: Permission denied" in probes[0]["problems"], probes
