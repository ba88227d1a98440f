"""One line per successful request, whatever characters its request id holds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests._server import running_server, wait_for

pytestmark = pytest.mark.server

# gunicorn escapes '"' as '\"' in its access atoms (SafeAtoms), and leaves '\' as it is.
ODD_IDS = ['quote"1', "back\\slash-1", 'both\\"1', '"', '\\"', 'two""quotes', "trailing\\"]


def test_finding_8_request_ids_with_quotes_and_backslashes_are_folded(scripts: Path, log_dir: Path) -> None:
    with running_server(scripts / "plain.py", log_dir) as server, server.client() as client:
        for request_id in ODD_IDS:
            response = client.post("/score", content=b'{"x": [1]}', headers={"x-request-id": request_id})
            assert response.status_code == 200 and response.headers["x-request-id"] == request_id
        assert client.post("/score", content=b"{}", headers={"x-request-id": "after-the-odd-ones"}).status_code == 200
        server.wait_for_event("shim.run.ok", request_id="after-the-odd-ones")
        # By now the access lines of the odd ids would have been written too.
        for request_id in ODD_IDS:
            lines = server.events(request_id=request_id)
            assert [(e["logger"], e["event"]) for e in lines if e["logger"] in ("shim", "azmlinfsrv")] == [
                ("shim", "shim.run.ok")
            ]
        escaped = {request_id.replace('"', '\\"') for request_id in ODD_IDS} | set(ODD_IDS)
        access = [e for e in server.events() if e["logger"] == "gunicorn.access"]
        assert [e["request_id"] for e in access if e.get("request_id") in escaped] == []


def test_an_access_line_that_is_kept_carries_the_id_as_the_client_sent_it(scripts: Path, log_dir: Path) -> None:
    # A failing run() is not folded: gunicorn's own access line stays, and `logs --request-id` finds it by the id.
    request_id = 'odd"500\\id'
    with running_server(scripts / "plain.py", log_dir) as server, server.client() as client:
        response = client.post("/score", content=b'{"fail": 1}', headers={"x-request-id": request_id})
        assert response.status_code == 500
        assert client.post("/score", content=b"{}", headers={"x-request-id": "after-500"}).status_code == 200
        server.wait_for_event("shim.run.ok", request_id="after-500")
        access = [e for e in server.events() if e["logger"] == "gunicorn.access" and e["http"]["status"] == 500]
    assert [e.get("request_id") for e in access] == [request_id]


def _tracebacks(lines: list[dict[str, Any]]) -> int:
    return sum(json.dumps(line).count("Traceback (most recent call last)") for line in lines)


def test_a_failing_run_is_told_once_with_what_the_servers_copy_added(scripts: Path, log_dir: Path) -> None:
    with running_server(scripts / "plain.py", log_dir) as server, server.client() as client:
        assert client.post("/score", content=b'{"fail": 1}', headers={"x-request-id": "once-500"}).status_code == 500
        assert client.post("/score", content=b"{}", headers={"x-request-id": "after-once"}).status_code == 200
        server.wait_for_event("shim.run.ok", request_id="after-once")
        lines = server.events(request_id="once-500")
    failed = [line for line in lines if line["event"] == "shim.run.failed"]
    assert len(failed) == 1 and failed[0]["error"]["type"] == "ValueError"
    assert failed[0]["server_logged"].startswith("Encountered Exception: UserScriptException: Caught an unhandled")
    assert not [line for line in lines if line["event"].startswith("Encountered Exception")]
    assert _tracebacks(lines) == 1  # the user's, once (it used to be twice: ours and the server's)
    # The access lines of a failed request stay: the status is still told by the server.
    assert {line["logger"] for line in lines} >= {"azmlinfsrv", "gunicorn.access"}


@pytest.mark.parametrize("mode", ["bare", "debug echo"])
def test_the_servers_line_stays_where_the_shim_folds_nothing(scripts: Path, log_dir: Path, mode: str) -> None:
    shim, env = (False, {}) if mode == "bare" else (True, {"SCORE_SHIM_DEBUG": "1"})
    with (
        running_server(scripts / "plain.py", log_dir, shim=shim, env=env) as server,
        server.client() as client,
    ):
        assert client.post("/score", content=b'{"fail": 1}', headers={"x-request-id": "kept-1"}).status_code == 500
        assert client.post("/score", content=b"{}", headers={"x-request-id": "after-kept"}).status_code == 200
        # The bare server's text lines carry no request id: there, the second request's access line tells.
        done = "after-kept" if shim else '"POST /score HTTP/1.1" 200'
        assert wait_for(lambda: done in server.log_text())
        text = server.log_text()
    if mode == "bare":  # the bare server logs its traceback, in its text format
        assert "Encountered Exception" in text
    else:  # the echo answered: the server never saw the exception, and the shim claims no folding
        assert "Encountered Exception" not in text and "server_logged" not in text
        assert "shim.run.failed" in text
