"""Requests per input, each counted once whatever the formats that told it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..bounds import MAX_ROUTES
from .histogram import Histogram

if TYPE_CHECKING:
    from .timeline import Timeline


@dataclass
class Source:
    """Per input (file or stdin): what is needed to count each request once whatever the format."""

    name: str
    lines: int = 0
    access: Counter[int] = field(default_factory=Counter)  # gunicorn's access lines (+ folded shim.run.ok)
    server: Counter[int] = field(default_factory=Counter)  # the server's access lines (+ shim.run.ok)
    status_shim: Counter[int] = field(default_factory=Counter)  # shim.run.ok lines, which fold both
    routes_shim: Counter[str] = field(default_factory=Counter)
    requests_raw: dict[str, int] = field(default_factory=dict)  # shim.run.ok: route and status, as sliced
    latency_raw: dict[str, int] = field(default_factory=dict)  # shim.run.ok: latencies as written
    latency_shim: Histogram = field(default_factory=Histogram)
    saw_access: bool = False
    saw_server: bool = False
    routes_access: Counter[str] = field(default_factory=Counter)
    routes_server: Counter[str] = field(default_factory=Counter)
    latency_server: Histogram = field(default_factory=Histogram)
    latency_access: Histogram = field(default_factory=Histogram)
    hosts: dict[tuple[str, int], str] = field(default_factory=dict)  # (stream, pid) -> host from JSON lines

    def time_requests(self, timeline: Timeline) -> None:
        """Stamp each request's latency with the time of its record (the request rate needs their span)."""
        self.latency_shim.clock = self.latency_server.clock = self.latency_access.clock = timeline


def count_route(routes: Counter[str], method: Any, path: Any, count: int = 1) -> None:
    """One request more on its route (without the query); past `MAX_ROUTES` routes, under ``(other)``."""
    if not isinstance(path, str):
        return
    key = f"{method or '?'} {path.split('?', 1)[0]}"
    if key in routes or len(routes) < MAX_ROUTES:
        routes[key] += count
    else:
        routes["(other)"] += count


def parse_int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        return 0


def flush_latency(source: Source) -> None:
    """Move the raw latencies of ``shim.run.ok`` lines into the histogram (bounded, called as it fills).

    Not stamped with the time of the record being read, which is not theirs: the fast path keeps the span of these
    requests itself (`Timeline.first_request`, `Timeline.last_request`).
    """
    histogram = source.latency_shim
    clock, histogram.clock = histogram.clock, None
    try:
        for number, count in source.latency_raw.items():
            try:
                value = float(number)
            except ValueError:
                continue
            histogram.add(value, count)
    finally:
        histogram.clock = clock
    source.latency_raw.clear()


def request_totals(sources: list[Source]) -> tuple[dict[str, Any], Histogram]:
    """Requests by status and by route, and their latencies, over every input."""
    by_status: Counter[int] = Counter()
    routes: Counter[str] = Counter()
    latency = Histogram()
    for source in sources:
        _add_source(source, by_status, routes, latency)
    requests = {
        "total": sum(by_status.values()),
        "by_status": {str(code): count for code, count in sorted(by_status.items())},
        "by_route": dict(routes.most_common(MAX_ROUTES)),
    }
    return requests, latency


def _add_source(source: Source, by_status: Counter[int], routes: Counter[str], latency: Histogram) -> None:
    # Each request once: shim.run.ok lines (which fold the access lines), plus gunicorn's access
    # lines when the input has them, else the server's.
    use_access = source.saw_access or not source.saw_server
    by_status.update(source.status_shim)
    by_status.update(source.access if use_access else source.server)
    routes.update(source.routes_shim)
    for raw, count in source.requests_raw.items():
        method, _, rest = raw.partition('", "path": "')
        path, _, status = rest.rpartition('", "status": ')
        by_status[parse_int(status)] += count
        count_route(routes, method, path, count)
    flush_latency(source)
    routes.update(source.routes_access if use_access else source.routes_server)
    latency.merge(source.latency_shim)
    use_server = source.saw_server or not source.saw_access
    latency.merge(source.latency_server if use_server else source.latency_access)
