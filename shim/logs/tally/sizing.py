"""Replica sizing for 503s: the load the log shows, and the replicas a load needs by the guide's own formula.

Azure ML's troubleshooting guide (``How to calculate instance count``, under ``HTTP status codes``) sizes a
deployment as ``ceil(target_rps * request_process_time / target_utilization / max_concurrent_requests_per_instance)``
with a target utilization of 70 %. The log gives the time per request (the mean latency of its scoring requests)
and, from the first to the last of them, the rate it served; what it keeps for that is already kept for the
summary (the latency histogram's count and sum, and the span its requests were stamped with), so that sizing
costs nothing per line. `observe` says what the log shows (or why it cannot tell) and `plan` the replicas.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from .explained import GUIDE
from .histogram import Histogram
from .timeline import Timeline, earliest, latest, seconds_between

#: The guide's target utilization (``target_utilization = .7``) and concurrency per instance (1).
DEFAULT_UTILIZATION = 0.7
DEFAULT_MAX_CONCURRENT = 1
#: The guide's section with the formula.
SIZING_GUIDE = GUIDE + "#how-to-calculate-instance-count"


@dataclass(frozen=True)
class SizingAsk:
    """What ``--target-rps``, ``--target-utilization`` and ``--max-concurrent-per-replica`` asked."""

    target_rps: float | None = None
    utilization: float = DEFAULT_UTILIZATION
    max_concurrent: int = DEFAULT_MAX_CONCURRENT


def replicas_needed(rps: float, seconds_per_request: float, utilization: float, max_concurrent: int) -> int:
    """The guide's formula: concurrent requests at the utilization target, over what one replica takes.

    Rounded to 9 places before the ceiling, so that float noise (``7 * 0.1 / 0.7 = 1.0000000000000002``) does not
    ask for a replica more; never below one.
    """
    concurrent_requests = rps * seconds_per_request / utilization
    return max(1, math.ceil(round(concurrent_requests / max_concurrent, 9)))


@dataclass(frozen=True)
class Load:
    """The load the log shows: how many scoring requests, from when to when, and how long each took on average."""

    count: int
    first: str | None
    last: str | None
    span_s: float | None
    seconds_per_request: float | None

    @property
    def rate(self) -> float | None:
        """Requests per second from the first to the last scoring request: n requests make n - 1 gaps."""
        return (self.count - 1) / self.span_s if self.span_s and self.span_s > 0 and self.count > 1 else None

    @property
    def busy(self) -> float | None:
        """Requests in flight on average (Little's law: rate x time per request)."""
        rate, seconds = self.rate, self.seconds_per_request
        return rate * seconds if rate is not None and seconds is not None else None

    def cannot_tell(self) -> str | None:
        """Why the log cannot give the time per request or the rate, in words; None when it can."""
        if not self.count:
            return "no scoring request with a latency in these lines: no time per request, no rate"
        if not self.seconds_per_request:
            return "the scoring requests' latencies are all 0 ms: no time per request"
        if self.count == 1:
            return "one scoring request: a rate needs two at least"
        if self.first is None or self.span_s is None:
            return "the scoring requests carry no timestamps: no rate"
        if self.span_s <= 0:
            return "every scoring request has the same timestamp: no time span to divide by"
        return None


#: Below this, the observed traffic is a handful of test requests, not a load to size replicas by: a demo's three
#: requests 40 ms apart would "need" six replicas. Azure's own metrics average over a minute.
MIN_REQUESTS_TO_SIZE = 20
MIN_SPAN_TO_SIZE_S = 10.0


def too_little(load: Load) -> str | None:
    """Why the observed rate is no load to size by (too few requests, too short a time); None when it is."""
    if load.rate is None or (load.count >= MIN_REQUESTS_TO_SIZE and (load.span_s or 0) >= MIN_SPAN_TO_SIZE_S):
        return None
    return (
        f"{load.count} scoring requests over {load.span_s:.3g} s are too little traffic to size by (at least "
        f"{MIN_REQUESTS_TO_SIZE} over {MIN_SPAN_TO_SIZE_S:g} s): pass --target-rps N for the load you expect"
    )


def observe(latency: Histogram, timeline: Timeline) -> Load:
    """The load in these lines.

    ``latency`` holds every scoring request counted once (`shim.logs.tally.sources.request_totals`), stamped with
    its span; the shim's own ``shim.run.ok`` lines, which the fast path counts without reading their time, add the
    span the `timeline` keeps for them.
    """
    count = latency.count
    if not count:
        return Load(0, None, None, None, None)
    first = earliest(latency.first_at, timeline.first_request())
    last = latest(latency.last_at, timeline.last_request())
    return Load(count, first, last, seconds_between(first, last), latency.total / count / 1000)


def plan(load: Load, ask: SizingAsk) -> dict[str, Any]:
    """What ``--json`` shows as ``sizing``: the load, and the replicas for ``--target-rps`` (else for the rate
    observed) at the utilization and concurrency asked.

    The time per request is always the log's: without it (no latency) no number is given, whatever was asked.
    """
    little = too_little(load) if ask.target_rps is None else None
    rps = ask.target_rps if ask.target_rps is not None else (None if little else load.rate)
    seconds = load.seconds_per_request
    replicas = replicas_needed(rps, seconds, ask.utilization, ask.max_concurrent) if rps and seconds else None
    return {
        "scoring_requests": load.count,
        "first_request": load.first,
        "last_request": load.last,
        "span_s": _rounded(load.span_s),
        "rate_per_s": _rounded(load.rate),
        "seconds_per_request": _rounded(load.seconds_per_request),
        "busy_concurrency": _rounded(load.busy),
        "cannot_tell": load.cannot_tell(),
        "too_little": little,
        "target_rps": ask.target_rps,
        "target_utilization": ask.utilization,
        "max_concurrent_per_replica": ask.max_concurrent,
        "replicas": replicas,
        "guide": SIZING_GUIDE,
    }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 6)
