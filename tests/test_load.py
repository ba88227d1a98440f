"""Under load: the real server with the shim, 2 workers, 8 client threads, 2,400 requests on 127.0.0.1.

Every request is answered with its own body; every request id is in exactly one ``shim.run.ok`` line (the
one line per successful request, written after the response: see shim/runtime/access.py); every line on stdout
parses (no torn or interleaved JSON); and the user's own log line inside run() carries the id of the
request whose body it logged, never the one before (the request context is bound and cleared per request).
Bounded: a fixed number of requests, a deadline for the whole load and for the lines to arrive.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests._server import parse_lines, running_server

pytestmark = [pytest.mark.server, pytest.mark.slow]

THREADS = 8
PER_THREAD = 300
DEADLINE_S = 90.0


def _client_thread(url: str, thread: int, deadline: float) -> list[tuple[str, int, str]]:
    """(request id, status, what came back) for each request this thread sent, until done or the deadline."""
    answers = []
    with httpx.Client(base_url=url, timeout=30) as client:
        for index in range(PER_THREAD):
            if time.monotonic() > deadline:
                break
            request_id = f"load-{thread}-{index}"
            response = client.post(
                "/score",
                content=json.dumps({"echo": f"value-{request_id}"}),
                headers={"content-type": "application/json", "x-request-id": request_id},
            )
            answers.append((request_id, response.status_code, response.text))
    return answers


def test_thousands_of_requests_each_answered_and_logged_once_with_its_own_context(scripts: Path, log_dir: Path) -> None:
    total = THREADS * PER_THREAD
    with running_server(scripts / "faults.py", log_dir, workers=2) as server:
        deadline = time.monotonic() + DEADLINE_S
        with ThreadPoolExecutor(max_workers=THREADS) as pool:
            futures = [pool.submit(_client_thread, server.url, thread, deadline) for thread in range(THREADS)]
            answers = [answer for future in futures for answer in future.result(timeout=DEADLINE_S + 30)]
        assert len(answers) == total, f"only {len(answers)} of {total} requests were sent before the deadline"
        wrong = [(rid, status, text) for rid, status, text in answers if (status, _json(text)) != (200, _body(rid))]
        assert not wrong, wrong[:5]

        # A shim.run.ok line is written after its response is sent: wait (bounded) until all are there.
        def run_ok_count() -> int:
            return server.log_text().count('"event": "shim.run.ok"')

        wait_until = time.monotonic() + 30
        while run_ok_count() < total and time.monotonic() < wait_until:
            time.sleep(0.2)
        text = server.log_text()

    events, not_json = parse_lines(text)
    # The server prints a plain line of its own at start ("Initializing logger"); no line is a torn JSON, and
    # nothing but start-up text is outside the JSON stream.
    assert not [line for line in not_json if "{" in line or "}" in line], not_json[:5]
    assert len(not_json) <= 5, not_json[:10]

    expected_ids = {rid for rid, _, _ in answers}
    ok_ids = Counter(event.get("request_id") for event in events if event["event"] == "shim.run.ok")
    assert set(ok_ids) == expected_ids, (len(set(ok_ids)), len(expected_ids))
    assert {count for count in ok_ids.values()} == {1}
    assert not [event for event in events if event["event"] == "shim.run.failed"]

    echoes = [event for event in events if event.get("logger") == "user.faults" and event["event"].startswith("echo ")]
    assert len(echoes) == total
    leaked = [event for event in echoes if event["event"] != f"echo value-{event.get('request_id')}"]
    assert not leaked, leaked[:5]
    # Both workers served.
    assert len({event["pid"] for event in echoes}) == 2


def _body(request_id: str) -> dict[str, str]:
    return {"echo": f"value-{request_id}"}


def _json(text: str) -> object:
    try:
        return json.loads(text)
    except ValueError:
        return text
