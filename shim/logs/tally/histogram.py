"""Latencies in constant memory, and when the first and last of them were logged."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from .timeline import earliest, latest

if TYPE_CHECKING:
    from .timeline import Timeline

_log = math.log


class Histogram:
    """Latencies in fixed logarithmic buckets (4 % wide): percentiles in constant memory, mergeable.

    With a `clock` (the tally's `Timeline`, whose ``last`` is the time of the record being read), each latency
    added also stamps `first_at` and `last_at`: the span of the requests it holds, which the request rate needs
    (`shim.logs.tally.sizing`). Two attribute writes per request, no call; without a clock, nothing.
    """

    RATIO = 1.04
    LOW_MS = 0.001
    SIZE = 650  # 0.001 ms .. about 100,000 s

    def __init__(self) -> None:
        self.counts = [0] * self.SIZE
        self.count = 0
        self.total = 0.0
        self.low = math.inf
        self.high = 0.0
        self.clock: Timeline | None = None
        self.first_at: str | None = None
        self.last_at: str | None = None
        self._scale = 1.0 / math.log(self.RATIO)
        self._offset = -math.log(self.LOW_MS) * self._scale

    def add(self, ms: float, count: int = 1) -> None:
        if ms > self.LOW_MS:
            if ms == math.inf:  # a number too big for a float in a pasted line (1e999): no latency either
                return
            index = int(_log(ms) * self._scale + self._offset)
            if index >= self.SIZE:
                index = self.SIZE - 1
        elif ms >= 0.0:
            index = 0
        else:  # NaN and negatives are not latencies
            return
        self.counts[index] += count
        self.count += count
        self.total += ms * count
        if ms > self.high:
            self.high = ms
        if ms < self.low:
            self.low = ms
        clock = self.clock
        if clock is not None:
            if self.first_at is None:
                self.first_at = clock.last
            self.last_at = clock.last

    def merge(self, other: Histogram) -> None:
        self.counts = [a + b for a, b in zip(self.counts, other.counts, strict=True)]
        self.count += other.count
        self.total += other.total
        self.low = min(self.low, other.low)
        self.high = max(self.high, other.high)
        self.first_at = earliest(self.first_at, other.first_at)
        self.last_at = latest(self.last_at, other.last_at)

    def percentile(self, fraction: float) -> float:
        wanted = max(1, math.ceil(fraction * self.count))
        seen = 0
        for index, count in enumerate(self.counts):
            seen += count
            if seen >= wanted:
                # The bucket's geometric middle, clamped to what was really seen.
                value = float(self.LOW_MS * self.RATIO ** (index + 0.5))
                return round(min(max(value, self.low), self.high), 3)
        return round(self.high, 3)

    def as_dict(self) -> dict[str, Any] | None:
        if not self.count:
            return None
        return {
            "count": self.count,
            "mean": round(self.total / self.count, 3),
            "p50": self.percentile(0.50),
            "p90": self.percentile(0.90),
            "p95": self.percentile(0.95),
            "p99": self.percentile(0.99),
            "max": round(self.high, 3),
        }
