"""`Tally`: every part of the summary, and the summary as data."""

from __future__ import annotations

from collections import Counter
from typing import Any

from .explained import Findings
from .failures import Failures, Timeouts
from .harmless import Harmless
from .incidents import SlowRuns, WorkerEvents
from .sizing import SizingAsk, observe, plan
from .sources import Source, request_totals
from .timeline import Timeline
from .workers import Workers


class Tally:
    """What the lines add up to: the readers' records are counted here, and `result` gives them as data."""

    def __init__(self) -> None:
        self.sources: list[Source] = []
        self.json_lines = 0
        self.console_lines = 0  # the shim's console format (a terminal's copy), read back as JSON lines
        self.text_lines = 0
        self.text_records = 0
        self.timeline = Timeline()
        self.workers = Workers()
        self.failures = Failures()
        self.timeouts = Timeouts()
        self.slow_runs = SlowRuns()
        self.worker_events = WorkerEvents()
        self.harmless = Harmless()
        self.explained = Findings()

    def add_source(self, name: str) -> Source:
        source = Source(name)
        self.sources.append(source)
        return source

    def result(self, sizing: SizingAsk | None = None) -> dict[str, Any]:
        """The summary as data (what ``--json`` prints); ``sizing``: what replica sizing was asked for."""
        requests, latency = request_totals(self.sources)
        workers = self.workers.as_list()
        return {
            "lines": sum(source.lines for source in self.sources),
            "records": self.json_lines + self.console_lines + self.text_records,
            "json_lines": self.json_lines,
            "console_lines": self.console_lines,
            "text_lines": self.text_lines,
            "sources": [{"name": s.name, "lines": s.lines} for s in self.sources],
            "first_timestamp": self.timeline.first_timestamp(),
            "last_timestamp": self.timeline.last_timestamp(),
            "init": dict(Counter(worker["init"] for worker in workers)),
            "workers": workers,
            "workers_not_shown": self.workers.dropped,
            "requests": requests,
            "latency_ms": latency.as_dict(),
            "sizing": plan(observe(latency, self.timeline), sizing or SizingAsk()),
            "failures": self.failures.as_list(),
            "failure_groups_not_shown": self.failures.dropped,
            "slow_runs": self.slow_runs.as_dict(),
            "timeouts": self.timeouts.as_dict(),
            "worker_events": self.worker_events.as_dict(),
            "explained": self.explained.as_list(),
            "explained_not_shown": self.explained.dropped,
            "harmless": self.harmless.as_list(),
        }
