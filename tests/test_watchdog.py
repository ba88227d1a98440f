"""The watchdog's shim.run.slow: written while the run still runs, never after the run's own line."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from time import perf_counter
from typing import Any

import pytest

from shim import Settings, configure_logging
from shim.runtime import watchdog
from tests._server import running_server


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    buffer = io.StringIO()
    configure_logging(Settings(log_format="json"), stream=buffer)
    watchdog.configure(slow_run_ms=3_600_000, memory_warn_percent=90)  # the thread itself never reports here
    yield buffer
    configure_logging(Settings(log_format="json"), stream=io.StringIO())
    watchdog.configure(slow_run_ms=None, memory_warn_percent=90)


def slow_lines(buffer: io.StringIO) -> list[dict[str, Any]]:
    found = [json.loads(line) for line in buffer.getvalue().splitlines()]
    return [line for line in found if line["event"] == "shim.run.slow"]


def test_finding_8_a_run_that_ended_after_the_scan_saw_it_is_not_reported(stream: io.StringIO) -> None:
    """The interleaving of finding 8, step by step: the scan sees the run, the run ends, the report comes."""
    watchdog.run_started(perf_counter() - 10)  # a run 10 s old, on this thread
    seen = list(watchdog._active.items())  # what the watchdog's scan saw
    [(ident, run)] = [(ident, run) for ident, run in seen if ident == threading.get_ident()]
    watchdog._report_if_running(ident, run, 10.0)  # while it runs: reported, with this thread's stack
    [reported] = slow_lines(stream)
    assert "test_finding_8_a_run_that_ended" in reported["stack"]

    watchdog.run_finished()
    watchdog._report_if_running(ident, run, 20.0)  # the scan's view is stale now
    assert len(slow_lines(stream)) == 1


def test_a_run_that_ends_while_its_slow_line_is_written_waits_for_it(stream: io.StringIO) -> None:
    """run_finished() returns only once a slow line being written is out, so the run's own line follows it."""
    order: list[str] = []
    finished = threading.Event()

    def run_ends() -> None:
        watchdog.run_finished()
        order.append("run's own line")
        finished.set()

    runner: list[threading.Thread] = []

    class Writing(io.StringIO):
        """The stream, where a run ends while the watchdog writes the slow line."""

        def write(self, text: str) -> int:
            if "shim.run.slow" in text and not runner:
                runner.append(threading.Thread(target=run_ends))
                runner[0].start()
                finished.wait(0.5)  # room for the run to overtake this line, if nothing held it back
                order.append("slow line")
            return super().write(text)

    configure_logging(Settings(log_format="json"), stream=Writing())
    ident = threading.get_ident()
    started = perf_counter() - 10
    watchdog._active[ident] = [started, None, 0]  # a run of this thread, as run_started() notes it
    watchdog._report_if_running(ident, watchdog._active[ident], 10.0)
    runner[0].join(10)
    watchdog._active.pop(ident, None)
    assert order == ["slow line", "run's own line"]


@pytest.mark.server
def test_finding_8_no_slow_line_after_a_timed_out_run(scripts: Path, log_dir: Path) -> None:
    """The report: a 13 MB body and SCORING_TIMEOUT_MS=100 gave shim.run.failed, then shim.run.slow."""
    body = b'{"x": [' + b"1," * 6_500_000 + b"1]}"
    with running_server(scripts / "plain.py", log_dir, env={"SCORING_TIMEOUT_MS": "100"}) as server:
        with server.client() as client:
            for n in range(6):
                assert client.post("/score", content=body, headers={"x-request-id": f"big-{n}"}).status_code == 500
        for n in range(6):
            server.wait_for_event("shim.run.failed", request_id=f"big-{n}")
        server.stop()  # every line written: a late slow line would be in the log now
        for n in range(6):
            order = [e["event"] for e in server.events(request_id=f"big-{n}") if e["event"].startswith("shim.run.")]
            assert order[-1] == "shim.run.failed", order
