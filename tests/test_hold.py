"""Hold mode: a failed init() keeps the worker up, answers 503 on /score, stays healthy on /, and can retry."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests._server import running_server

pytestmark = pytest.mark.server

HOLD = {"SCORE_SHIM_ON_INIT_FAILURE": "hold"}


def test_held_worker_answers_503_keeps_health_and_recovers_on_retry(
    scripts: Path, log_dir: Path, tmp_path: Path
) -> None:
    env = {**HOLD, "MODEL_FOLDER": str(tmp_path)}
    with running_server(scripts / "model_needed.py", log_dir, env=env) as server, server.client() as client:
        assert client.get("/").text == "Healthy"
        response = client.post("/score", content=b"x", headers={"x-request-id": "held-1"})
        assert response.status_code == 503
        assert response.headers["x-ms-run-function-failed"] == "True"
        body = response.json()
        assert body["request_id"] == "held-1" and "held for debugging" in body["message"]
        assert "error" not in body  # the details only in debug mode
        held = server.wait_for_event("shim.init.held")
        assert "x-score-shim-retry-init" in held["diagnosis"]
        assert server.events("shim.init.failed")[0]["error"]["type"] == "FileNotFoundError"

        # A retry before the fix fails again and stays held.
        retry = {"x-score-shim-retry-init": "1"}
        assert client.post("/score", content=b"x", headers=retry).status_code == 503
        assert len(server.events("shim.init.failed")) == 2

        (tmp_path / "model.txt").write_text("m-1\n")
        response = client.post("/score", content=b"x", headers=retry)
        assert response.status_code == 200 and response.json() == {"model": "m-1", "input": "x"}
        assert client.post("/score", content=b"y").json() == {"model": "m-1", "input": "y"}
        server.wait_for_event("shim.init.released")
        assert server.process.poll() is None


def test_debug_mode_shows_the_error_in_the_503(scripts: Path, log_dir: Path, tmp_path: Path) -> None:
    env = {**HOLD, "SCORE_SHIM_DEBUG": "1", "MODEL_FOLDER": str(tmp_path)}
    with running_server(scripts / "model_needed.py", log_dir, env=env) as server, server.client() as client:
        body = client.post("/score", content=b"x").json()
    assert body["error"]["type"] == "FileNotFoundError"
    assert str(tmp_path / "model.txt") in body["error"]["message"]


def test_a_script_that_cannot_be_imported_is_held_too(scripts: Path, log_dir: Path) -> None:
    with running_server(scripts / "import_raises.py", log_dir, env=HOLD) as server, server.client() as client:
        assert client.get("/").status_code == 200
        response = client.post("/score", content=b"x", headers={"x-score-shim-retry-init": "1"})
        assert response.status_code == 503
        assert "restart" in server.wait_for_event("shim.init.held")["diagnosis"]


def test_without_hold_mode_the_failure_still_stops_the_server(scripts: Path, log_dir: Path, tmp_path: Path) -> None:
    env = {"MODEL_FOLDER": str(tmp_path)}
    with running_server(scripts / "model_needed.py", log_dir, env=env, expect_healthy=False) as server:
        assert server.process.wait(timeout=60) == 3
    assert json.dumps(server.events("shim.init.held")) == "[]"
