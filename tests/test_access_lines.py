"""SCORE_SHIM_ACCESS_LINES: the server's two access lines of a successful request, folded (the default) or kept.

Through the real server: azmlinfsrv's ``POST /score 200 ...`` line (logger ``azmlinfsrv``, from
``routes._after_request``) and gunicorn's access line (logger ``gunicorn.access``). With ``keep`` both are written
as they are, and ``shim.run.ok`` still carries its ``http`` object; with the default neither is, and
``shim.run.ok`` is the request's one line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests._server import Server, running_server

pytestmark = pytest.mark.server


def _lines_of(server: Server, request_id: str) -> list[dict[str, Any]]:
    with server.client() as client:
        answer = client.post("/score", content=b'{"x": [3]}', headers={"x-request-id": request_id})
        assert answer.status_code == 200
        # The next request's shim.run.ok comes after this request's access lines, whether written or folded.
        assert client.post("/score", content=b"{}", headers={"x-request-id": f"{request_id}-after"}).status_code == 200
    server.wait_for_event("shim.run.ok", request_id=f"{request_id}-after")
    return server.events(request_id=request_id)


def _access_lines(lines: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    found = {}
    for line in lines:
        if line["logger"] == "gunicorn.access":
            found["gunicorn"] = line
        elif line["logger"] == "azmlinfsrv" and line["event"].startswith("POST /score 200 "):
            found["azmlinfsrv"] = line
    return found


@pytest.mark.parametrize("mode", ["default", "fold", "keep"])
def test_the_servers_access_lines_are_kept_only_when_asked(scripts: Path, log_dir: Path, mode: str) -> None:
    env = {} if mode == "default" else {"SCORE_SHIM_ACCESS_LINES": mode}
    with running_server(scripts / "plain.py", log_dir, env=env) as server:
        lines = _lines_of(server, f"access-{mode}")
    [run_ok] = [line for line in lines if line["event"] == "shim.run.ok"]
    assert run_ok["http"]["status"] == 200 and run_ok["http"]["method"] == "POST"
    access = _access_lines(lines)
    if mode != "keep":
        assert access == {}
        return
    assert set(access) == {"gunicorn", "azmlinfsrv"}
    assert access["gunicorn"]["http"]["status"] == 200 and access["gunicorn"]["http"]["path"] == "/score"
    assert access["azmlinfsrv"]["event"].endswith(f"ms {run_ok['http']['bytes']}")


def test_a_bad_value_stops_the_server_with_the_variable_named(scripts: Path, log_dir: Path) -> None:
    env = {"SCORE_SHIM_ACCESS_LINES": "drop"}
    with running_server(scripts / "plain.py", log_dir, env=env, expect_healthy=False) as server:
        failed = server.wait_for_event("shim.init.failed", timeout=60)
        assert server.process.wait(timeout=60) != 0
    assert "SCORE_SHIM_ACCESS_LINES='drop' is not accepted: use one of fold, keep" in failed["error"]["message"]
