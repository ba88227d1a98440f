"""One line per successful request, whatever characters its request id holds."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests._server import running_server

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
