"""Slow runs, and how workers and the server came and went (gunicorn's lines), with a few samples."""

from __future__ import annotations

import heapq
from collections import Counter
from typing import Any

from ..bounds import MAX_SAMPLES


class SlowRuns:
    """``shim.run.slow``: how many, and the slowest `MAX_SAMPLES` of them (a min-heap)."""

    def __init__(self) -> None:
        self.count = 0
        self.slowest: list[tuple[float, str, str]] = []

    def add(self, duration: float | None, request_id: str, timestamp: str) -> None:
        self.count += 1
        if duration is None:
            return
        item = (duration, request_id, timestamp)
        if len(self.slowest) < MAX_SAMPLES:
            heapq.heappush(self.slowest, item)
        else:
            heapq.heappushpop(self.slowest, item)

    def as_dict(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "slowest": [
                {"duration_ms": d, "request_id": r or None, "timestamp": t or None}
                for d, r, t in sorted(self.slowest, reverse=True)
            ],
        }


class WorkerEvents:
    """Workers that ended (timeouts, kills, exit codes), the master's signals, and how often the server started."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.samples: list[dict[str, Any]] = []
        self.master_signals: Counter[str] = Counter()
        self.server_starts = 0

    def add(self, kind: str, replica: str, pid: int | None, timestamp: Any, message: str) -> None:
        self.counts[kind] += 1
        if len(self.samples) < MAX_SAMPLES * 5:
            self.samples.append(
                {
                    "kind": kind,
                    "replica": replica,
                    "pid": pid,
                    "timestamp": timestamp,
                    "message": message.split("\n", 1)[0][:300],
                }
            )

    def as_dict(self) -> dict[str, Any]:
        return {
            "counts": dict(self.counts),
            "master_signals": dict(self.master_signals),
            "server_starts": self.server_starts,
            "samples": self.samples,
        }
