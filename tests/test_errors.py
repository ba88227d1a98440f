"""Errors you can trust, through the real server: a debug-only echo, no secret anywhere, slow runs that
leave their stack, opt-in payloads."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from shim.cli import cli
from tests._server import Server, running_server

pytestmark = pytest.mark.server

SECRET = "planted-Secret-value-42xyz"
ENV = {"PLANTED_STORAGE_KEY": SECRET}


@pytest.fixture(scope="module")
def production(scripts: Path, log_dir: Path) -> Iterator[Server]:
    with running_server(scripts / "leaky.py", log_dir, env=ENV) as server:
        yield server


@pytest.fixture(scope="module")
def debug(scripts: Path, log_dir: Path) -> Iterator[Server]:
    with running_server(scripts / "leaky.py", log_dir, env={**ENV, "SCORE_SHIM_DEBUG": "1"}) as server:
        yield server


def post(server: Server, body: bytes, request_id: str) -> tuple[int, dict[str, str], str]:
    with server.client() as client:
        response = client.post("/score", content=body, headers={"x-request-id": request_id})
    return response.status_code, dict(response.headers), response.text


def test_production_body_is_the_servers_generic_one(production: Server) -> None:
    status, headers, text = post(production, b'{"fail": 1}', "prod-fail")
    assert status == 500 and headers["x-ms-run-function-failed"] == "True"
    assert json.loads(text) == {
        "message": "An unexpected error occurred in scoring script. Check the logs for more info."
    }
    # The detail is in the log, under the request id the client can quote.
    event = production.wait_for_event("shim.run.failed", request_id="prod-fail")
    assert event["error"]["type"] == "PermissionError"
    assert event["error"]["where"]["function"] == "helper_that_fails"


def test_debug_body_carries_type_message_and_the_users_frames(debug: Server) -> None:
    status, headers, text = post(debug, b'{"fail": 1}', "debug-fail")
    assert status == 500 and headers["x-ms-run-function-failed"] == "True"
    body = json.loads(text)
    assert body["request_id"] == "debug-fail"
    assert body["error"]["type"] == "PermissionError"
    assert "storage refused AccountKey=[REDACTED]" in body["error"]["message"]
    frames = body["error"]["frames"]
    assert [f["function"] for f in frames] == ["run", "helper_that_fails"]
    assert all(f["file"].endswith("leaky.py") and isinstance(f["line"], int) for f in frames)
    assert "Traceback" not in text and "locals" not in text


def test_debug_mode_warns_loudly_at_start(debug: Server) -> None:
    event = debug.wait_for_event("shim.debug.enabled")
    assert event["level"] == "warning" and "Never use it in production" in event["diagnosis"]


def test_bad_json_is_the_same_500_in_debug_mode_with_the_parser_error(debug: Server) -> None:
    status, _, text = post(debug, b"{not json", "debug-bad-json")
    assert status == 500
    assert json.loads(text)["error"]["type"] == "json.decoder.JSONDecodeError"


@pytest.mark.parametrize("mode", ["production", "debug"])
def test_a_planted_secret_appears_in_no_response_and_no_log_line(mode: str, request: pytest.FixtureRequest) -> None:
    server: Server = request.getfixturevalue(mode)
    bodies = [b'{"fail": 1}', b'{"leak_in_message": 1}', b'{"ok": 1}', b"not json " + SECRET.encode()]
    texts = []
    for index, body in enumerate(bodies):
        _, headers, text = post(server, body, f"{mode}-secret-{index}")
        texts.append(text + json.dumps(headers))
    server.wait_for_event("shim.run.failed", request_id=f"{mode}-secret-3")
    server.wait_for_event("shim.run.ok", request_id=f"{mode}-secret-2")
    log = server.log_text()
    assert SECRET not in log and all(SECRET not in text for text in texts)
    assert "[REDACTED:PLANTED_STORAGE_KEY]" in log  # it was there, and it was masked
    assert "eyJhbGciOiJIUzI1NiJ9" not in log and "Bearer [REDACTED]" in log


def test_timeout_is_never_turned_into_a_debug_answer(scripts: Path, log_dir: Path) -> None:
    env = {"SCORE_SHIM_DEBUG": "1", "SCORING_TIMEOUT_MS": "300"}
    with running_server(scripts / "slow.py", log_dir, env=env) as server, server.client() as client:
        response = client.post("/score", content=b"hang")
    assert (response.status_code, response.json()) == (500, {"message": "Scoring timeout after 300 ms"})


def test_a_slow_run_logs_its_stack_before_the_timeout(scripts: Path, log_dir: Path) -> None:
    env = {"SCORE_SHIM_SLOW_RUN_MS": "200", "SCORING_TIMEOUT_MS": "1500"}
    with running_server(scripts / "slow.py", log_dir, env=env) as server, server.client() as client:
        response = client.post("/score", content=b"hang", headers={"x-request-id": "slow-1"})
        assert response.status_code == 500
        slow = server.wait_for_event("shim.run.slow", request_id="slow-1")
        failed = server.wait_for_event("shim.run.failed", request_id="slow-1")
        events = [e["event"] for e in server.events(request_id="slow-1")]
    assert slow["where"]["function"] == "spin_forever" and slow["where"]["file"].endswith("slow.py")
    assert slow["elapsed_ms"] >= slow["threshold_ms"] == 200
    assert "spin_forever" in slow["stack"] and "SCORING_TIMEOUT_MS=1500" in slow["diagnosis"]
    assert events.index("shim.run.slow") < events.index("shim.run.failed")
    assert failed["error"]["type"] == "TimeoutError"
    # `score-shim logs` counts it among the slow runs and the timeouts.
    result = CliRunner().invoke(cli, ["logs", "--json", str(server.log_path)], catch_exceptions=False)
    data = json.loads(result.stdout)
    assert data["slow_runs"]["count"] >= 1
    assert data["slow_runs"]["slowest"][0]["request_id"] == "slow-1"


def test_payloads_are_logged_only_when_asked_and_then_truncated(scripts: Path, log_dir: Path) -> None:
    env = {"SCORE_SHIM_LOG_PAYLOADS": "1", "SCORE_SHIM_PAYLOAD_MAX_CHARS": "12"}
    with running_server(scripts / "plain.py", log_dir, env=env) as server, server.client() as client:
        client.post("/score", content=b'{"x": [1, 2, 3, 4, 5, 6]}', headers={"x-request-id": "payload-1"})
        event = server.wait_for_event("shim.run.ok", request_id="payload-1")
    assert event["payload"] == '{"x": [1, 2,... [13 characters cut]'


def test_payloads_are_not_logged_by_default(production: Server) -> None:
    post(production, b'{"ok": "payload-marker"}', "no-payload")
    event = production.wait_for_event("shim.run.ok", request_id="no-payload")
    assert "payload" not in event and "payload-marker" not in production.log_text()


def test_init_ok_records_memory(production: Server) -> None:
    memory = production.wait_for_event("shim.init.ok")["memory"]
    assert memory["rss_bytes"] > 10_000_000 and memory["peak_rss_bytes"] >= memory["rss_bytes"]
