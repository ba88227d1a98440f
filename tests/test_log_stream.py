"""One structured stream: the shim's events, the server's lines, the user's logging and print, as JSON."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests._server import Server, parse_lines, running_server, wait_for

pytestmark = pytest.mark.server

ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


@pytest.fixture(scope="module")
def server(scripts: Path, log_dir: Path) -> Iterator[Server]:
    with running_server(scripts / "plain.py", log_dir) as server:
        yield server


def score(server: Server, body: bytes, **headers: str) -> int:
    with server.client() as client:
        return client.post("/score", content=body, headers={"Content-Type": "application/json", **headers}).status_code


def test_run_ok_carries_the_request_ids_duration_and_input_size(server: Server) -> None:
    assert score(server, b'{"x": [1]}', **{"x-request-id": "req-ok-1", "x-ms-client-request-id": "cli-1"}) == 200
    event = server.wait_for_event("shim.run.ok", request_id="req-ok-1")
    assert event["client_request_id"] == "cli-1"
    assert event["input_bytes"] == len(b'{"x": [1]}')
    assert isinstance(event["duration_ms"], float) and event["duration_ms"] >= 0
    assert event["level"] == "info" and event["logger"] == "shim"
    assert isinstance(event["pid"], int) and event["host"]
    assert ISO_UTC.match(event["timestamp"])
    assert "traceparent" not in event


def test_users_logging_and_print_inside_run_are_json_with_the_request_id(server: Server) -> None:
    assert score(server, b"{}", **{"x-request-id": "req-user-lines"}) == 200
    server.wait_for_event("shim.run.ok", request_id="req-user-lines")
    mine = server.events(request_id="req-user-lines")
    by_logger = {e["logger"]: e for e in mine}
    assert by_logger["user.plain"]["event"] == "plain run got 2 characters"
    assert by_logger["user.plain"]["level"] == "info"  # dropped below WARNING by the bare server
    # The server's own line (its capture of print, logger azmlinfsrv.print) carries the request's id too:
    # ``mine`` holds only the lines with the id.
    assert by_logger["azmlinfsrv.print"]["event"] == "plain run printed"


def test_one_line_per_successful_request_folds_the_servers_access_lines(server: Server) -> None:
    assert score(server, b'{"x": [5]}', **{"x-request-id": "req-folded"}) == 200
    event = server.wait_for_event("shim.run.ok", request_id="req-folded")
    assert event["http"]["method"] == "POST" and event["http"]["path"] == "/score"
    assert event["http"]["status"] == 200 and event["http"]["bytes"] > 0
    assert event["http"]["duration_ms"] >= event["duration_ms"]
    # The next request's lines are written: by then the folded access lines would have been too.
    assert score(server, b"{}", **{"x-request-id": "req-folded-next"}) == 200
    server.wait_for_event("shim.run.ok", request_id="req-folded-next")
    lines = server.events(request_id="req-folded")
    assert [e["event"] for e in lines if e["logger"] in ("azmlinfsrv", "gunicorn.access")] == []
    assert [e["event"] for e in lines if e["logger"] == "shim"] == ["shim.run.ok"]


def test_requests_that_do_not_end_in_a_successful_run_keep_the_servers_lines(server: Server) -> None:
    assert score(server, b'{"fail": 1}', **{"x-request-id": "req-kept-500"}) == 500
    assert score(server, b"\xff", **{"x-request-id": "req-kept-400"}) == 400  # not UTF-8: run() is not called
    for request_id, status in (("req-kept-500", 500), ("req-kept-400", 400)):
        assert wait_for(
            lambda rid=request_id, st=status: any(
                e["logger"] == "gunicorn.access" and e["http"]["status"] == st for e in server.events(request_id=rid)
            )
        )
        assert any(
            e["logger"] == "azmlinfsrv" and f" {status} " in e["event"] for e in server.events(request_id=request_id)
        )
    with server.client() as client:
        assert client.get("/nope").status_code == 404
    assert wait_for(lambda: any(e.get("http", {}).get("path") == "/nope" for e in server.events()))


def test_users_lines_during_init_are_json(server: Server) -> None:
    events = server.events()
    assert any(e["event"] == "plain init with scale 2" and e["logger"] == "user.plain" for e in events)
    assert any(e["event"] == "plain init printed" for e in events)
    start = server.wait_for_event("shim.init.start")
    assert start["entry_script"].endswith("plain.py")
    assert server.wait_for_event("shim.init.ok")["duration_ms"] >= 0


def test_run_failed_carries_the_error_and_the_users_line(server: Server) -> None:
    assert score(server, b'{"fail": "on purpose"}', **{"x-request-id": "req-fail-1"}) == 500
    event = server.wait_for_event("shim.run.failed", request_id="req-fail-1")
    error = event["error"]
    assert error["type"] == "ValueError"
    assert error["message"] == "asked to fail: on purpose"
    assert error["where"]["file"].endswith("plain.py") and error["where"]["function"] == "run"
    assert "raise ValueError" in error["traceback"]
    assert event["level"] == "error"


def test_traceparent_is_carried_when_valid_only(server: Server) -> None:
    score(server, b"{}", **{"x-request-id": "req-tp-1", "traceparent": TRACEPARENT})
    assert server.wait_for_event("shim.run.ok", request_id="req-tp-1")["traceparent"] == TRACEPARENT
    score(server, b"{}", **{"x-request-id": "req-tp-2", "traceparent": "not-a-trace-context x" * 20})
    assert "traceparent" not in server.wait_for_event("shim.run.ok", request_id="req-tp-2")


def test_the_payload_is_not_logged(server: Server) -> None:
    marker = "payload-marker-6d1f0c"
    score(server, f'{{"secret": "{marker}"}}'.encode(), **{"x-request-id": "req-payload"})
    server.wait_for_event("shim.run.ok", request_id="req-payload")
    assert marker not in server.log_text()


def test_every_line_is_json_with_the_schema_head(server: Server) -> None:
    score(server, b"{}")
    server.wait_for_event("shim.run.ok")
    events, other = parse_lines(server.log_text())
    # The one line the server prints before any logging is configured, with print() itself.
    assert other == ["Initializing logger"]
    for event in events:
        assert list(event)[:4] == ["timestamp", "level", "event", "logger"], event
        assert ISO_UTC.match(event["timestamp"])
    # gunicorn's master process logs into the same stream.
    assert any(e["event"].startswith("Listening at: http://127.0.0.1:") for e in events)


def test_requests_without_an_id_get_the_servers_uuid(server: Server) -> None:
    with server.client() as client:
        response = client.post("/score", content=b"{}")
    request_id = response.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f-]{36}", request_id)
    server.wait_for_event("shim.run.ok", request_id=request_id)


def test_scoring_timeout_is_answered_as_bare_and_logs_where_run_was(scripts: Path, log_dir: Path) -> None:
    env = {"SCORING_TIMEOUT_MS": "300"}
    answers = {}
    for shim in (False, True):
        with running_server(scripts / "slow.py", log_dir, shim=shim, env=env) as server:
            with server.client() as client:
                response = client.post("/score", content=b"hang", headers={"x-request-id": "req-hang"})
            answers[shim] = (response.status_code, response.json())
            if shim:
                event = server.wait_for_event("shim.run.failed", request_id="req-hang")
    assert answers[True] == answers[False] == (500, {"message": "Scoring timeout after 300 ms"})
    assert event["error"]["type"] == "TimeoutError"
    assert event["error"]["where"]["function"] == "spin_forever"
    assert event["error"]["where"]["file"].endswith("slow.py")
    assert "SCORING_TIMEOUT_MS=300" in event["diagnosis"]


def test_a_users_own_text_logging_json_is_overridden_once_the_script_loads(
    scripts: Path, log_dir: Path, tmp_path: Path
) -> None:
    import shutil

    import azureml_inference_server_http

    # The server's own text configuration, placed where the server looks first (AML_APP_ROOT).
    shutil.copy(Path(azureml_inference_server_http.__file__).parent / "logging.json", tmp_path / "logging.json")
    env = {"AML_APP_ROOT": str(tmp_path), "SCORE_SHIM_LOG_LEVEL": "warning"}
    with running_server(scripts / "plain.py", log_dir, env=env) as server:
        assert score(server, b'{"fail": 1}', **{"x-request-id": "req-own-config"}) == 500
        server.wait_for_event("shim.run.failed", request_id="req-own-config")
        events = server.events(request_id="req-own-config")
    # Below the configured level: the user's info lines and the shim's own run.ok are not written.
    assert {e["level"] for e in events if e["logger"] in ("user.plain", "root")} <= {"warning", "error"}
    # The server's error line for it is folded into shim.run.failed (one traceback per failure).
    [failed] = [e for e in events if e["event"] == "shim.run.failed"]
    assert failed["server_logged"].startswith("Encountered Exception")


def test_logging_json_gives_json_server_logs_without_the_wrapper(scripts: Path, log_dir: Path, tmp_path: Path) -> None:
    import shutil

    import score_wrappers

    # The server's own extension point: a logging.json in AML_APP_ROOT, with the bare script as the entry.
    shutil.copy(Path(score_wrappers.__file__).parent / "logging.json", tmp_path / "logging.json")
    with running_server(scripts / "plain.py", log_dir, shim=False, env={"AML_APP_ROOT": str(tmp_path)}) as server:
        assert score(server, b'{"fail": 1}', **{"x-request-id": "bare-json-1"}) == 500
        assert wait_for(lambda: len(server.events(request_id="bare-json-1")) >= 3)
        events, other = parse_lines(server.log_text())
    assert "shim.run.failed" not in {e["event"] for e in events}  # no wrapper: only the server's own lines
    loggers = {e["logger"] for e in events if e.get("request_id") == "bare-json-1"}
    assert {"azmlinfsrv", "user.plain", "azmlinfsrv.print"} <= loggers  # the user's logging.info too
    assert any(e["event"].startswith("Encountered Exception") for e in events)
    # Once the worker has applied logging.json, none of its lines is text (the master keeps the server's
    # default format, and the worker's few lines before the config is read stay text).
    worker = next(e["pid"] for e in events if e.get("request_id") == "bare-json-1")
    after_config = other[other.index("Initializing logger") + 1 :]
    assert [line for line in after_config if f"[{worker}]" in line] == []


def test_library_output_and_warnings_are_lines_of_the_stream_with_the_request_id(scripts: Path, log_dir: Path) -> None:
    """What libraries print outside logging's root (their own stderr handler, warnings.warn) joins the stream."""
    with running_server(scripts / "library_output.py", log_dir) as server:
        assert score(server, b'{"x": 1}', **{"x-request-id": "req-library"}) == 200
        server.wait_for_event("shim.run.ok", request_id="req-library")
        mine = server.events(request_id="req-library")
        _, text_lines = parse_lines(server.log_text())
    library = [e for e in mine if e["logger"] == "somelib"]
    assert [e["event"] for e in library] == ["somelib scored 8 characters"]
    [warned] = [e for e in mine if e["logger"] == "py.warnings"]
    assert warned["level"] == "warning" and "UserWarning: this estimator was saved with version 1.2" in warned["event"]
    assert any(e["event"] == "somelib ready" for e in server.events())  # init()'s too, as a JSON line
    assert not [line for line in text_lines if "somelib" in line or "UserWarning" in line]  # no plain text
