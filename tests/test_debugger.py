"""Attach a debugger to the real server: a real DAP client, real debugpy, requests over HTTP on 127.0.0.1.

Every wait is bounded. In listen mode the shim holds the port and starts debugpy only when a client speaks
(`shim.runtime.debug_relay`), so until then the worker has nothing of debugpy loaded and no tracer; the
tests wait for ``shim.debugger.listening`` in the log and then connect for real. (With WORKER_PRELOAD=true
debugpy listens on the port itself, and its adapter takes one client session per connection.)
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from shim.cli.serve import (
    ServeError,
    ServeOptions,
    check_can_serve,
    server_command,
    server_environment,
    wait_until_healthy,
)
from tests._dap import DAPClient, DAPError, attached
from tests._server import Server, free_port, parse_lines, running_server, wait_for

DEBUGGEE = Path(__file__).parent / "scripts" / "debuggee.py"


def marked_line(marker: str) -> int:
    lines = DEBUGGEE.read_text().splitlines()
    return next(number for number, text in enumerate(lines, 1) if text.rstrip().endswith(f"# {marker}"))


RUN_LINE = marked_line("BREAKPOINT")
INIT_LINE = marked_line("INIT BREAKPOINT")


class Request:
    """A POST /score on a thread of its own, so that the test can drive the debugger while it is held."""

    def __init__(self, url: str, body: dict[str, Any]) -> None:
        self.response: httpx.Response | None = None
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._send, args=(url, body), daemon=True)
        self._thread.start()

    def _send(self, url: str, body: dict[str, Any]) -> None:
        try:
            self.response = httpx.post(f"{url}/score", content=json.dumps(body), timeout=60)
        except BaseException as error:
            self.error = error

    def result(self, timeout: float = 30) -> httpx.Response:
        self._thread.join(timeout)
        if self.response is None:
            raise AssertionError(f"the request did not complete: {self.error!r}")
        return self.response


def stop_at(client: DAPClient, line: int) -> dict[str, Any]:
    """Wait for ``stopped`` and check that it is at ``line`` of the user's own score.py."""
    stopped = client.event("stopped", timeout=30)
    assert stopped["body"]["reason"] == "breakpoint"
    frame = client.top_frame(stopped["body"]["threadId"])
    assert (frame["source"]["path"], frame["line"]) == (str(DEBUGGEE), line)
    return {"thread": stopped["body"]["threadId"], "frame": frame["id"]}


def stops_or_answers(clients: list[DAPClient], request: Request) -> DAPClient | None:
    """Which debug session the request stopped in; None when it was answered without stopping."""
    stopped: list[DAPClient] = []

    def settled() -> bool:
        stopped.extend(client for client in clients if client.has_event("stopped"))
        return bool(stopped) or request.response is not None or request.error is not None

    assert wait_for(settled, 30), "the request neither stopped nor completed"
    return stopped[0] if stopped else None


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # connections in TIME_WAIT do not count
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


# -- score-shim serve --debug-port: the whole loop ------------------------------------------------


@contextmanager
def serve(args: list[str], log_dir: Path) -> Iterator[tuple[subprocess.Popen[bytes], Path, Path]]:
    out = log_dir / f"serve-debug-{len(list(log_dir.iterdir()))}.out"
    err = out.with_suffix(".err")
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "shim", "serve", str(DEBUGGEE), *args],
            stdout=stdout,
            stderr=stderr,
            env={**os.environ, "SCORE_SHIM_LOG_FORMAT": "json"},
            start_new_session=True,
        )
    try:
        yield process, out, err
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


def wait_for_event(out: Path, event: str, timeout: float = 60) -> dict[str, Any]:
    def found() -> list[dict[str, Any]]:
        return [e for e in parse_lines(out.read_text())[0] if e.get("event") == event]

    assert wait_for(lambda: bool(found()), timeout), f"no {event} in:\n{out.read_text()[-3000:]}"
    return found()[0]


@pytest.mark.server
def test_serve_debug_port_stops_at_a_breakpoint_in_score_py(log_dir: Path) -> None:
    port, debug_port = free_port(), free_port()
    with serve(["--port", str(port), "--debug-port", str(debug_port)], log_dir) as (process, out, err):
        listening = wait_for_event(out, "shim.debugger.listening")
        assert (listening["debug_host"], listening["debug_port"]) == ("127.0.0.1", debug_port)
        assert listening["remote_root"] == str(DEBUGGEE.parent)
        with attached("127.0.0.1", debug_port, breakpoints={str(DEBUGGEE): [RUN_LINE]}) as (client, verdicts):
            assert verdicts[str(DEBUGGEE)][0]["verified"] is True
            assert wait_for(lambda: healthy(port), 60), err.read_text()
            request = Request(f"http://127.0.0.1:{port}", {"x": [1, 2, 3]})
            held = stop_at(client, RUN_LINE)
            assert client.evaluate("data['x']", held["frame"]) == "[1, 2, 3]"
            assert request.response is None  # held at the breakpoint
            client.request("continue", {"threadId": held["thread"]})
            response = request.result()
            assert response.status_code == 200
            assert response.json()["total"] == 16
        wait_for_event(out, "shim.debugger.attached")
        wait_for_event(out, "shim.debugger.detached")
        assert f"attach VS Code to 127.0.0.1:{debug_port}" in err.read_text()
        # serve set the server's timeouts generously, so nothing warns that a breakpoint will be killed.
        assert "shim.debugger.short_timeouts" not in out.read_text()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=40) == 0
    assert wait_for(lambda: port_is_free(debug_port), 15), "the debug port stayed open after the server stopped"


# -- issue 17: a debug port that costs nothing until a client attaches -----------------------------


@pytest.mark.server
def test_the_port_costs_nothing_until_a_client_attaches_then_stops_at_a_breakpoint(log_dir: Path) -> None:
    debug_port = free_port()
    with running_server(DEBUGGEE, log_dir, env={"SCORE_SHIM_DEBUG_PORT": str(debug_port)}) as server:
        listening = server.wait_for_event("shim.debugger.listening")
        assert (listening["debug_port"], listening["debugpy_starts"]) == (debug_port, "on_attach")
        with server.client() as http:
            # Served at once (nothing waits for a client), with nothing of debugpy loaded and no tracer.
            before = [http.post("/score", content=json.dumps({"x": [n]})).json() for n in range(3)]
            assert [(a["total"], a["debugpy_loaded"], a["traced"]) for a in before] == [
                (10, False, False),
                (11, False, False),
                (12, False, False),
            ]
            # A port probe (a connection that says nothing) starts nothing either.
            socket.create_connection(("127.0.0.1", debug_port), timeout=5).close()
            assert wait_for(lambda: port_is_busy(debug_port), 5)
            assert http.post("/score", content=b'{"x": [1]}').json()["debugpy_loaded"] is False
            assert not server.events("shim.debugger.started")
        # A real client: debugpy starts behind the port and run() stops at the breakpoint; then detach, and
        # a second client does the same.
        for session in (1, 2):
            with attached("127.0.0.1", debug_port, breakpoints={str(DEBUGGEE): [RUN_LINE]}) as (client, verdicts):
                assert verdicts[str(DEBUGGEE)][0]["verified"] is True
                request = Request(server.url, {"x": [1, 2, 3]})
                held = stop_at(client, RUN_LINE)
                assert client.evaluate("data['x']", held["frame"]) == "[1, 2, 3]"
                assert request.response is None  # held at the breakpoint
                client.request("continue", {"threadId": held["thread"]})
                answer = request.result().json()
                assert (answer["total"], answer["debugpy_loaded"], answer["traced"]) == (16, True, True)
            assert wait_for(lambda n=session: len(server.events("shim.debugger.detached")) == n, 15)
        started = server.events("shim.debugger.started")
        assert len(started) == 1 and started[0]["pid"] == listening["pid"]
        assert 0 < started[0]["took_s"] <= started[0]["since_connection_s"] < 30
        assert len(server.events("shim.debugger.attached")) == 2
        assert server.client().post("/score", content=b'{"x": [1]}').json()["total"] == 11  # detached: serves


@pytest.mark.server
def test_debugpy_failing_when_a_client_comes_closes_the_port_and_the_server_serves(
    log_dir: Path, broken_debugpy: dict[str, str], tmp_path: Path
) -> None:
    debug_port = free_port()
    env = {"SCORE_SHIM_DEBUG_PORT": str(debug_port), "TMPDIR": str(tmp_path), **broken_debugpy}
    with running_server(DEBUGGEE, log_dir, env=env) as server:
        server.wait_for_event("shim.debugger.listening")
        client = DAPClient.connect("127.0.0.1", debug_port)
        try:
            with pytest.raises(DAPError, match="connection closed"):
                client.request("initialize", {"clientID": "score-shim-tests", "adapterID": "debugpy"})
        finally:
            client.close()
        problem = server.wait_for_event("shim.debugger.unavailable")
        assert "debugpy is broken here" in json.dumps(problem["error"]) and "goes on without" in problem["diagnosis"]
        assert wait_for(lambda: port_is_free(debug_port), 10), "the port stayed open although debugpy cannot start"
        assert not (tmp_path / f"score-shim-debug-{debug_port}.lock").exists()  # the lock is given up too
        answer = server.client().post("/score", content=b'{"x": [1]}').json()
        assert (answer["total"], answer["debugpy_loaded"]) == (11, False)
        assert server.process.poll() is None


def port_is_busy(port: int) -> bool:
    return not port_is_free(port)


def _vscode_configuration(*args: str, cwd: Path) -> dict[str, Any]:
    """What ``score-shim vscode ARGS`` prints, run in ``cwd`` (the VS Code workspace), with its variables filled."""
    done = subprocess.run(
        [sys.executable, "-m", "shim", "vscode", *args], cwd=cwd, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    config: dict[str, Any] = json.loads(done.stdout.replace("${workspaceFolder}", str(cwd)))["configurations"][0]
    return config


@pytest.mark.server
def test_the_vscode_local_configuration_stops_at_a_breakpoint_of_serve(log_dir: Path) -> None:
    """What `score-shim vscode --local` prints, as VS Code sends it, attaches to `serve --debug-port`; the
    container's configuration (a mapping to /var/azureml-app) would leave the same breakpoint unverified."""
    port, debug_port = free_port(), free_port()
    workspace = DEBUGGEE.parent
    local = _vscode_configuration("--local", "--port", str(debug_port), cwd=workspace)
    container = _vscode_configuration("--port", str(debug_port), cwd=workspace)
    assert "pathMappings" not in local and container["pathMappings"][0]["remoteRoot"].startswith("/var/azureml-app")
    with serve(["--port", str(port), "--debug-port", str(debug_port)], log_dir) as (_, out, err):
        wait_for_event(out, "shim.debugger.listening")
        host, connect_port = local["connect"]["host"], local["connect"]["port"]
        attach_args = {key: local[key] for key in ("justMyCode",)}
        with attached(host, connect_port, breakpoints={str(DEBUGGEE): [RUN_LINE]}, **attach_args) as (client, verdicts):
            assert verdicts[str(DEBUGGEE)][0]["verified"] is True
            assert wait_for(lambda: healthy(port), 60), err.read_text()
            request = Request(f"http://127.0.0.1:{port}", {"x": [1]})
            held = stop_at(client, RUN_LINE)
            client.request("continue", {"threadId": held["thread"]})
            assert request.result().status_code == 200
        wait_for_event(out, "shim.debugger.detached")
        mapped = {key: container[key] for key in ("justMyCode", "pathMappings")}
        with attached(host, connect_port, breakpoints={str(DEBUGGEE): [RUN_LINE]}, **mapped) as (_, verdicts):
            assert verdicts[str(DEBUGGEE)][0]["verified"] is False  # the trap --local avoids


def healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.mark.server
def test_wait_for_debugger_lets_init_be_stepped_through(log_dir: Path) -> None:
    port, debug_port = free_port(), free_port()
    args = ["--port", str(port), "--debug-port", str(debug_port), "--wait-for-debugger"]
    with serve(args, log_dir) as (_, out, err):
        waiting = wait_for_event(out, "shim.debugger.waiting")
        assert f"attaches to 127.0.0.1:{debug_port}" in waiting["diagnosis"]
        assert not healthy(port)  # init() has not run: the server is not up yet
        with attached("127.0.0.1", debug_port, breakpoints={str(DEBUGGEE): [INIT_LINE]}) as (client, _):
            held = stop_at(client, INIT_LINE)
            client.request("continue", {"threadId": held["thread"]})
            assert wait_for(lambda: healthy(port), 60), err.read_text()
        assert "init() waits until a debugger attaches" in err.read_text()
    events = [e["event"] for e in parse_lines(out.read_text())[0]]
    # debugpy started only when the client came, during the wait, and the wait ended once it had attached.
    assert events.index("shim.debugger.waiting") < events.index("shim.debugger.started")
    assert events.index("shim.debugger.started") < events.index("shim.debugger.attached")
    assert events.index("shim.debugger.attached") < events.index("shim.init.ok")
    assert "shim.debugger.wait_timeout" not in events


@pytest.mark.server
def test_the_wait_is_bounded_and_then_the_server_serves(log_dir: Path) -> None:
    env = {"SCORE_SHIM_DEBUG_PORT": str(free_port()), "SCORE_SHIM_WAIT_FOR_DEBUGGER": "1"}
    env["SCORE_SHIM_DEBUG_WAIT_TIMEOUT"] = "1.5"
    with running_server(DEBUGGEE, log_dir, env=env) as server:
        timed_out = server.wait_for_event("shim.debugger.wait_timeout")
        assert "no debugger attached within 2 s" in timed_out["diagnosis"]
        assert server.client().post("/score", content=b'{"x": [1]}').json()["total"] == 11


@pytest.mark.server
def test_stopping_while_waiting_for_the_debugger_ends_the_wait(log_dir: Path) -> None:
    args = ["--port", str(free_port()), "--debug-port", str(free_port()), "--wait-for-debugger"]
    with serve(args, log_dir) as (process, out, err):
        wait_for_event(out, "shim.debugger.waiting")
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=40) == 0, err.read_text()
        cancelled = wait_for_event(out, "shim.debugger.wait_cancelled", timeout=5)
        assert "the server is stopping" in cancelled["diagnosis"]


# -- several workers -------------------------------------------------------------------------------


@pytest.mark.server
def test_two_workers_one_port_every_request_succeeds(log_dir: Path) -> None:
    debug_port = free_port()
    with running_server(DEBUGGEE, log_dir, workers=2, env={"SCORE_SHIM_DEBUG_PORT": str(debug_port)}) as server:
        elsewhere = server.wait_for_event("shim.debugger.elsewhere")
        listening = server.wait_for_event("shim.debugger.listening")
        assert elsewhere["owner_pid"] == listening["pid"] != elsewhere["pid"]
        with server.client() as client:
            responses = [client.post("/score", content=json.dumps({"x": [n]})) for n in range(20)]
        assert [r.status_code for r in responses] == [200] * 20
        assert [r.json()["total"] for r in responses] == [n + 10 for n in range(20)]
        assert len(server.events("shim.debugger.listening")) == 1
        assert not server.events("shim.debugger.listen_failed")
        # The worker that owns the port dies (as a WORKER TIMEOUT would kill it): its replacement takes over.
        os.kill(listening["pid"], signal.SIGKILL)
        assert wait_for(lambda: len(server.events("shim.debugger.listening")) == 2, 30), server.log_text()[-3000:]
        successor = server.events("shim.debugger.listening")[-1]
        assert successor["pid"] not in (listening["pid"], elsewhere["pid"])
        with server.client() as client:
            assert all(client.post("/score", content=b'{"x": [1]}').status_code == 200 for _ in range(10))
        # ... and it is a real debugger: attach and stop in the new owner.
        with attached("127.0.0.1", debug_port, breakpoints={str(DEBUGGEE): [RUN_LINE]}) as (dap, _):
            for _ in range(20):  # requests until one reaches the worker that listens
                request = Request(server.url, {"x": [5]})
                if stops_or_answers([dap], request) is not None:
                    held = stop_at(dap, RUN_LINE)
                    assert dap.evaluate("os.getpid()", held["frame"]) == str(successor["pid"])
                    dap.request("continue", {"threadId": held["thread"]})
                    assert request.result().json()["total"] == 15
                    break
                assert request.result().json()["total"] == 15
            else:
                raise AssertionError("no request reached the worker that listens")


@pytest.mark.server
def test_preloaded_workers_join_the_session_as_subprocesses(log_dir: Path) -> None:
    """WORKER_PRELOAD=true: the master listens before it forks; VS Code attaches to each worker it is told about."""
    debug_port = free_port()
    env = {"SCORE_SHIM_DEBUG_PORT": str(debug_port), "WORKER_PRELOAD": "true"}
    with running_server(DEBUGGEE, log_dir, workers=2, env=env) as server:
        listening = server.wait_for_event("shim.debugger.listening")
        # debugpy starts at once here: workers forked before a client attached could never join the session.
        assert listening["debugpy_starts"] == "at_start" and "WORKER_PRELOAD=true" in listening["diagnosis"]
        assert len(server.events("shim.debugger.listening")) == 1
        clients: list[DAPClient] = []
        master = DAPClient.connect("127.0.0.1", debug_port)
        try:
            master.attach()
            for _ in range(2):  # what VS Code does with each `debugpyAttach`: a session of its own
                child = master.event("debugpyAttach", timeout=20)["body"]
                clients.append(DAPClient.connect("127.0.0.1", debug_port))
                clients[-1].attach(breakpoints={str(DEBUGGEE): [RUN_LINE]}, **child)
            request = Request(server.url, {"x": [2]})
            worker = stops_or_answers(clients, request)
            assert worker is not None, "the request was answered without stopping at the breakpoint"
            held = stop_at(worker, RUN_LINE)
            worker.request("continue", {"threadId": held["thread"]})
            assert request.result().json()["total"] == 12
        finally:
            for client in [*clients, master]:
                client.disconnect()
                client.close()
        with server.client() as client:
            assert all(client.post("/score", content=b'{"x": [1]}').status_code == 200 for _ in range(6))


# -- nothing of debugpy without a port; a debugger problem never takes the server down ------------


@pytest.mark.server
def test_debugpy_is_not_imported_without_a_port(log_dir: Path) -> None:
    with running_server(DEBUGGEE, log_dir, env={"SCORE_SHIM_DEBUG_PORT": ""}) as server:
        answer = server.client().post("/score", content=b'{"x": [1]}').json()
        assert answer == {"total": 11, "debugpy_loaded": False, "traced": False, "pid": answer["pid"]}
        assert not [e for e in server.events() if str(e.get("event", "")).startswith("shim.debugger.")]


# What sitecustomize.py does on a Python path that comes before site-packages: debugpy is not to be found at
# all, as in an image installed with score-shim[server] only (find_spec says None, import fails).
HIDE_DEBUGPY = """
import sys

class HideDebugpy:
    @staticmethod
    def find_spec(name, path=None, target=None):
        if name == "debugpy" or name.startswith("debugpy."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, HideDebugpy)
"""


@pytest.fixture()
def no_debugpy(tmp_path: Path) -> dict[str, str]:
    """A Python path on which debugpy cannot be found, as in an image installed with score-shim[server] only."""
    folder = tmp_path / "no-debugpy"
    folder.mkdir()
    (folder / "sitecustomize.py").write_text(HIDE_DEBUGPY)
    return {"PYTHONPATH": str(folder)}


@pytest.fixture()
def broken_debugpy(tmp_path: Path) -> dict[str, str]:
    """A Python path on which debugpy is found but fails to import (a broken install)."""
    shadow = tmp_path / "broken-debugpy" / "debugpy"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text('raise ImportError("debugpy is broken here")\n')
    return {"PYTHONPATH": str(shadow.parent)}


@contextmanager
def port_in_use() -> Iterator[int]:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield int(holder.getsockname()[1])


@pytest.mark.server
@pytest.mark.parametrize("case", ["debugpy missing", "port in use", "not an address here", "connect: no IDE"])
def test_a_debugger_problem_is_a_warning_and_the_server_serves(
    log_dir: Path, no_debugpy: dict[str, str], case: str
) -> None:
    expected = {
        "debugpy missing": ("shim.debugger.unavailable", "debugpy is not installed"),
        "port in use": ("shim.debugger.listen_failed", "already in use"),
        "not an address here": ("shim.debugger.listen_failed", "not an address of this machine"),
        "connect: no IDE": ("shim.debugger.connect_failed", "nothing accepted the connection"),
    }[case]
    with port_in_use() as busy:
        env = {"SCORE_SHIM_DEBUG_PORT": str(busy if case == "port in use" else free_port())}
        if case == "debugpy missing":
            env.update(no_debugpy)
        if case == "not an address here":
            env["SCORE_SHIM_DEBUG_HOST"] = "192.0.2.1"  # TEST-NET-1: never an address of this machine
        if case == "connect: no IDE":
            env["SCORE_SHIM_DEBUG_MODE"] = "connect"
        with running_server(DEBUGGEE, log_dir, env=env) as server:
            problem = server.wait_for_event(expected[0])
            assert problem["level"] in ("warning", "error")
            assert expected[1] in problem["diagnosis"] and "goes on without" in problem["diagnosis"]
            answer = server.client().post("/score", content=b'{"x": [1]}').json()
            assert answer["total"] == 11
            assert server.process.poll() is None
            if case == "not an address here":
                exposed = server.events("shim.debugger.exposed")[0]
                assert "ANYONE who can reach 192.0.2.1" in exposed["diagnosis"]
            assert not server.events("shim.debugger.listening")


# -- the reverse direction: the IDE listens, the server connects ----------------------------------


@pytest.mark.server
def test_connect_mode_reaches_a_listening_ide(log_dir: Path) -> None:
    """VS Code's "listen" attach: its debug adapter waits for the server, which connects to it."""
    import debugpy.adapter

    client_port, ide_port = free_port(), free_port()
    adapter = subprocess.Popen(
        [sys.executable, os.path.dirname(debugpy.adapter.__file__), "--host", "127.0.0.1", "--port", str(client_port)],
        start_new_session=True,
    )
    try:
        ide = connect_when_up(client_port)
        ide.request("initialize", {"clientID": "score-shim-tests", "adapterID": "debugpy", "pathFormat": "path"})
        attach = ide.send("attach", {"justMyCode": True, "listen": {"host": "127.0.0.1", "port": ide_port}})
        env = {"SCORE_SHIM_DEBUG_PORT": str(ide_port), "SCORE_SHIM_DEBUG_MODE": "connect"}
        with running_server(DEBUGGEE, log_dir, env=env, expect_healthy=False) as server:
            ide.event("initialized", timeout=60)
            ide.request("setBreakpoints", {"source": {"path": str(DEBUGGEE)}, "breakpoints": [{"line": RUN_LINE}]})
            ide.request("configurationDone")
            ide.response(attach)
            assert wait_until_healthy(server.process, server.port, 60), server.log_text()[-3000:]
            server.wait_for_event("shim.debugger.connected")
            request = Request(server.url, {"x": [4]})
            held = stop_at(ide, RUN_LINE)
            ide.request("continue", {"threadId": held["thread"]})
            assert request.result().json()["total"] == 14
            ide.disconnect()
            ide.close()
    finally:
        adapter.kill()
        adapter.wait(timeout=10)


def connect_when_up(port: int) -> DAPClient:
    holder: list[DAPClient] = []

    def up() -> bool:
        try:
            holder.append(DAPClient.connect("127.0.0.1", port, timeout=2))
        except OSError:
            return False
        return True

    assert wait_for(up, 20), f"the debug adapter did not listen on {port}"
    return holder[0]


# -- settings and serve's own checks (no server) ---------------------------------------------------


def test_serve_sets_generous_timeouts_only_when_debugging_and_only_if_unset(tmp_path: Path) -> None:
    script = tmp_path / "score.py"
    debugging = ServeOptions(script=script, debug_port=5678, debug_host="0.0.0.0", wait_for_debugger=True)
    env = server_environment(debugging, base={})
    assert (env["SCORE_SHIM_DEBUG_PORT"], env["SCORE_SHIM_DEBUG_HOST"], env["SCORE_SHIM_WAIT_FOR_DEBUGGER"]) == (
        "5678",
        "0.0.0.0",
        "1",
    )
    assert (env["WORKER_TIMEOUT"], env["SCORING_TIMEOUT_MS"]) == ("3600", "3600000")
    assert server_environment(debugging, base={"WORKER_TIMEOUT": "30"})["WORKER_TIMEOUT"] == "30"
    plain = server_environment(ServeOptions(script=script), base={})
    assert "WORKER_TIMEOUT" not in plain and "SCORE_SHIM_DEBUG_PORT" not in plain


def test_serve_refuses_a_debug_port_it_cannot_use(tmp_path: Path) -> None:
    script = tmp_path / "score.py"
    script.write_text("def init(): pass\ndef run(data): return data\n")
    port = free_port()
    with pytest.raises(ServeError, match="is also the scoring port"):
        check_can_serve(ServeOptions(script=script, port=port, debug_port=port))
    with port_in_use() as busy, pytest.raises(ServeError, match=f"debug port {busy} on 127.0.0.1 is already in use"):
        check_can_serve(ServeOptions(script=script, port=port, debug_port=busy))


def test_debug_flags_without_a_port_are_a_usage_error(log_dir: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "shim", "serve", str(DEBUGGEE), "--wait-for-debugger"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "--debug-host and --wait-for-debugger need --debug-port" in result.stderr
    assert "Traceback" not in result.stderr


# -- issue 12, finding 8: the port's lock without a temp folder, and no lock file left behind --------


def stop_in_the_owner(server: Server, debug_port: int, owner_pid: int) -> None:
    """Attach for real and send requests until one reaches the worker that listens and stops there."""
    with attached("127.0.0.1", debug_port, breakpoints={str(DEBUGGEE): [RUN_LINE]}) as (dap, _):
        for _ in range(20):
            request = Request(server.url, {"x": [5]})
            if stops_or_answers([dap], request) is not None:
                held = stop_at(dap, RUN_LINE)
                assert dap.evaluate("os.getpid()", held["frame"]) == str(owner_pid)
                dap.request("continue", {"threadId": held["thread"]})
                assert request.result().json()["total"] == 15
                return
            assert request.result().json()["total"] == 15
    raise AssertionError("no request reached the worker that listens")


# Inside a user and mount namespace of its own, the temp folders (/tmp, /var/tmp and the working folder,
# where Python looks for one) are read-only, as on a container with a read-only root file system; then
# the server starts, if Python really finds no temp folder there (exit 97 otherwise).
READ_ONLY_TEMP = """
for folder in /tmp /var/tmp "$PWD"; do
    mount --bind "$folder" "$folder" && mount -o remount,bind,ro "$folder" || exit 98
done
cd "$PWD" || exit 98
"$1" -c 'import tempfile; tempfile.gettempdir()' 2>/dev/null && exit 97
exec "$@"
"""


def namespaces_available() -> bool:
    try:
        return subprocess.run(["unshare", "-rm", "true"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


@pytest.mark.server
@pytest.mark.skipif(sys.platform != "linux", reason="the fallback lock is Linux's (an abstract socket)")
@pytest.mark.skipif(not os.access("/dev/shm", os.W_OK), reason="gunicorn needs a writable --worker-tmp-dir")
def test_finding_8_debug_port_opens_without_a_writable_temp_folder(log_dir: Path, tmp_path: Path) -> None:
    if not namespaces_available():
        pytest.skip("no user namespaces here (unshare -rm) to make the temp folders read-only")
    port, debug_port = free_port(), free_port()
    workdir = tmp_path / "app"
    workdir.mkdir()
    env = server_environment(ServeOptions(script=DEBUGGEE, port=port, workers=2))
    env.update(
        SCORE_SHIM_LOG_FORMAT="json",
        SCORE_SHIM_DEBUG_PORT=str(debug_port),
        TMPDIR=str(tmp_path / "missing"),  # TMPDIR points nowhere, as it is often unset or stale
        GUNICORN_CMD_ARGS="--worker-tmp-dir /dev/shm",  # gunicorn's own heartbeat file, as such images set it
    )
    log_path = log_dir / f"read-only-temp-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            ["unshare", "-rm", "sh", "-c", READ_ONLY_TEMP, "sh", *server_command()],
            cwd=workdir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(process, port, log_path)
    try:
        assert wait_until_healthy(process, port, 60), f"exit {process.poll()}:\n{server.log_text()[-3000:]}"
        listening = server.wait_for_event("shim.debugger.listening", timeout=30)
        elsewhere = server.wait_for_event("shim.debugger.elsewhere", timeout=30)
        assert elsewhere["owner_pid"] == listening["pid"] != elsewhere["pid"]  # one owner, and the other knows it
        assert not server.events("shim.debugger.failed") and not server.events("shim.debugger.listen_failed")
        stop_in_the_owner(server, debug_port, listening["pid"])
    finally:
        server.stop()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)


@pytest.mark.server
def test_finding_8_lock_file_is_removed_when_its_owner_exits(log_dir: Path, tmp_path: Path) -> None:
    debug_port = free_port()
    lock = tmp_path / f"score-shim-debug-{debug_port}.lock"
    env = {"SCORE_SHIM_DEBUG_PORT": str(debug_port), "TMPDIR": str(tmp_path)}
    with running_server(DEBUGGEE, log_dir, workers=2, env=env) as server:
        first = server.wait_for_event("shim.debugger.listening")["pid"]
        assert lock.read_text() == str(first)
        # A killed owner cannot remove its file: the worker that takes the port over reuses it.
        os.kill(first, signal.SIGKILL)
        assert wait_for(lambda: len(server.events("shim.debugger.listening")) == 2, 30), server.log_text()[-3000:]
        successor = server.events("shim.debugger.listening")[-1]["pid"]
        assert lock.read_text() == str(successor)
        assert server.stop() == 0
    assert not lock.exists(), "the owner left its lock file behind when it exited"
    assert list(tmp_path.glob("score-shim-debug-*")) == []


@pytest.mark.server
def test_finding_8_lock_file_is_removed_when_the_port_cannot_be_opened(log_dir: Path, tmp_path: Path) -> None:
    with port_in_use() as busy:
        env = {"SCORE_SHIM_DEBUG_PORT": str(busy), "TMPDIR": str(tmp_path)}
        with running_server(DEBUGGEE, log_dir, env=env) as server:
            server.wait_for_event("shim.debugger.listen_failed")
            assert server.client().post("/score", content=b'{"x": [1]}').json()["total"] == 11
            assert not (tmp_path / f"score-shim-debug-{busy}.lock").exists()  # given up at once, not at exit
