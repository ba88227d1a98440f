"""Hold mode: a failed init() keeps the worker up, answers 503 on /score, stays healthy on /, and can retry."""

from __future__ import annotations

import json
import re
import threading
import time
from pathlib import Path

import httpx
import pytest

from shim import ConfigError, Settings
from tests._server import running_server, wait_for

pytestmark = pytest.mark.server

HOLD = {"SCORE_SHIM_ON_INIT_FAILURE": "hold"}
RETRY = {"x-score-shim-retry-init": "1"}


def init_runs(folder: Path) -> int:
    """How many times init() ran (tests/scripts/init_counter.py writes one line per run)."""
    path = folder / "init-runs.txt"
    return len(path.read_text().splitlines()) if path.exists() else 0


def retry_when_allowed(client: httpx.Client, attempts: int = 5) -> httpx.Response:
    """A retry request; one refused for the interval is sent again once the answer says it is allowed."""
    for _ in range(attempts):
        response = client.post("/score", content=b"x", headers=RETRY)
        refused = response.json().get("retry_init") if response.status_code == 503 else None
        if not refused or refused["refused"] != "interval":
            return response
        time.sleep(refused["retry_after_s"] + 0.05)
    raise AssertionError(f"the retry was refused {attempts} times")


def test_held_worker_answers_503_keeps_health_and_recovers_on_retry(
    scripts: Path, log_dir: Path, tmp_path: Path
) -> None:
    env = {**HOLD, "SCORE_SHIM_RETRY_INIT": "1", "SCORE_SHIM_RETRY_INIT_INTERVAL": "0.5", "MODEL_FOLDER": str(tmp_path)}
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
        assert client.post("/score", content=b"x", headers=RETRY).status_code == 503
        assert len(server.events("shim.init.failed")) == 2

        (tmp_path / "model.txt").write_text("m-1\n")
        response = retry_when_allowed(client)
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


# -- issue 12, finding 3: only the operator may let a client re-run init() ---------------------------


def test_finding_3_client_cannot_rerun_init_without_debug(scripts: Path, log_dir: Path, tmp_path: Path) -> None:
    env = {**HOLD, "MODEL_FOLDER": str(tmp_path)}
    with running_server(scripts / "init_counter.py", log_dir, env=env) as server, server.client() as client:
        server.wait_for_event("shim.init.held")
        answers = [client.post("/score", content=b"x", headers=RETRY).status_code for _ in range(10)]
        (tmp_path / "model.txt").write_text("m-1\n")  # even once init() would succeed
        answers += [client.post("/score", content=b"x", headers=RETRY).status_code for _ in range(10)]
        assert answers == [503] * 20
        assert init_runs(tmp_path) == 1
        assert len(server.events("shim.init.failed")) == 1 and not server.events("shim.init.released")
        ignored = server.events("shim.init.retry_ignored")
        assert len(ignored) == 1  # once per worker, not once per request
        assert "SCORE_SHIM_RETRY_INIT=1" in ignored[0]["diagnosis"]
        assert "SCORE_SHIM_RETRY_INIT=1" in server.events("shim.init.held")[0]["diagnosis"]
        assert server.process.poll() is None


def test_debug_mode_allows_one_retry_per_interval(scripts: Path, log_dir: Path, tmp_path: Path) -> None:
    env = {**HOLD, "SCORE_SHIM_DEBUG": "1", "MODEL_FOLDER": str(tmp_path)}  # the default interval: 10 s
    with running_server(scripts / "init_counter.py", log_dir, env=env) as server, server.client() as client:
        first = client.post("/score", content=b"x", headers=RETRY)
        assert first.status_code == 503 and "retry_init" not in first.json()  # it ran, and failed again
        assert init_runs(tmp_path) == 2
        (tmp_path / "model.txt").write_text("m-1\n")
        refused = [client.post("/score", content=b"x", headers={**RETRY, "x-request-id": f"r-{n}"}) for n in range(10)]
        assert [r.status_code for r in refused] == [503] * 10
        assert init_runs(tmp_path) == 2  # none of them ran init()
        body = refused[0].json()
        assert body["retry_init"]["refused"] == "interval" and 0 < body["retry_init"]["retry_after_s"] <= 10
        assert "SCORE_SHIM_RETRY_INIT_INTERVAL=10" in body["retry_init"]["message"]
        assert 1 <= int(refused[0].headers["Retry-After"]) <= 10
        assert body["request_id"] == "r-0" and body["error"]["type"] == "FileNotFoundError"  # debug mode's echo
        logged = server.wait_for_event("shim.init.retry_refused", request_id="r-0")
        assert logged["reason"] == "interval" and logged["level"] == "warning"
        assert len(server.events("shim.init.retry_refused")) == 10


def test_explicit_setting_allows_one_retry_at_a_time(scripts: Path, log_dir: Path, tmp_path: Path) -> None:
    env = {
        **HOLD,
        "SCORE_SHIM_RETRY_INIT": "1",
        "MODEL_FOLDER": str(tmp_path),
        "GUNICORN_CMD_ARGS": "--threads 4",  # concurrent requests in the one worker
    }
    with running_server(scripts / "init_counter.py", log_dir, env=env) as server, server.client() as client:
        (tmp_path / "init-gate").write_text("")  # the next init() waits for init-go
        slow: list[httpx.Response] = []
        first = threading.Thread(
            target=lambda: slow.append(httpx.post(f"{server.url}/score", content=b"a", headers=RETRY, timeout=90)),
            daemon=True,
        )
        first.start()
        try:
            assert wait_for(lambda: init_runs(tmp_path) == 2, 30), "the first retry did not start"
            second = client.post("/score", content=b"b", headers={**RETRY, "x-request-id": "concurrent"})
            assert not slow  # answered while the first retry still runs: refused, not queued behind it
            assert second.status_code == 503
            assert second.json()["retry_init"]["refused"] == "busy" and "Retry-After" not in second.headers
            assert init_runs(tmp_path) == 2
        finally:
            (tmp_path / "model.txt").write_text("m-2\n")
            (tmp_path / "init-go").write_text("")
            first.join(60)
        assert slow and slow[0].status_code == 200 and slow[0].json() == {"model": "m-2", "input": "a"}
        assert client.post("/score", content=b"c").json() == {"model": "m-2", "input": "c"}
        assert server.wait_for_event("shim.init.retry_refused", request_id="concurrent")["reason"] == "busy"
        server.wait_for_event("shim.init.released")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SCORE_SHIM_RETRY_INIT": "please"}, "SCORE_SHIM_RETRY_INIT='please' is not a valid switch: use one of 1, 0"),
        ({"SCORE_SHIM_RETRY_INIT_INTERVAL": "soon"}, "SCORE_SHIM_RETRY_INIT_INTERVAL='soon' is not a duration"),
        ({"SCORE_SHIM_RETRY_INIT_INTERVAL": "0"}, "a number of seconds above 0 and at most 86400"),
    ],
)
def test_retry_settings_name_the_variable_and_the_accepted_values(env: dict[str, str], message: str) -> None:
    assert (Settings.from_env({}).retry_init, Settings.from_env({}).retry_init_interval) == (False, 10.0)
    parsed = Settings.from_env({"SCORE_SHIM_RETRY_INIT": "yes", "SCORE_SHIM_RETRY_INIT_INTERVAL": "2.5"})
    assert (parsed.retry_init, parsed.retry_init_interval) == (True, 2.5)
    with pytest.raises(ConfigError, match=re.escape(message)):
        Settings.from_env(env)
