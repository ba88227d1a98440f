"""The shim's own events: how each init() and each run went, told by the code that ran them."""

from __future__ import annotations

from ..record import ShimEvent
from ..tally.sources import count_route
from ..tally.totals import Tally
from ..tally.workers import replica_name
from ..tracebacks import is_timeout, short_error
from .exceptions import diagnose


def on_shim_event(tally: Tally, event: ShimEvent) -> None:
    """``shim.run.*`` and ``shim.init.*``: they decide over what the server's lines say of the same run or init()."""
    name = event.name
    if name == "shim.run.ok":
        _run_ok(event)
    elif name == "shim.run.failed":
        _run_failed(tally, event)
    elif name == "shim.run.slow":
        duration = event.elapsed_ms if event.elapsed_ms is not None else event.duration_ms
        tally.slow_runs.add(duration, event.request_id or "", str(event.timestamp or ""))
    elif name.startswith("shim.init."):
        _init(tally, event)


def _run_ok(event: ShimEvent) -> None:
    """A run that the fast path could not slice (keys in another order): the same counts, from the fields."""
    http = event.http if event.http is not None else {}
    status = http.get("status") if isinstance(http.get("status"), int) else None
    request_ms = http.get("duration_ms", event.duration_ms)
    source = event.source
    if status is not None:
        # Folded: this one line stands for the server's and gunicorn's access lines.
        source.status_shim[status] += 1
        count_route(source.routes_shim, http.get("method"), http.get("path"))
    source.latency_shim.add(float(request_ms) if isinstance(request_ms, (int, float)) else 0.0)


def _run_failed(tally: Tally, event: ShimEvent) -> None:
    request_id = event.request_id
    if request_id:
        tally.failures.remember_failed(request_id)
    diagnosis = event.diagnosis or diagnose(event.error)  # a known breakage, when the shim named none
    tally.failures.add("run", event.error, request_id, event.timestamp, diagnosis)
    if is_timeout(event.error):
        replica = replica_name(event.stream, event.host)
        tally.timeouts.add(replica, event.pid, request_id, event.timestamp, event.duration_ms)


def _init(tally: Tally, event: ShimEvent) -> None:
    """``shim.init.start`` (a new entry when the worker's last one had finished), ``.ok``, ``.failed``."""
    name = event.name
    worker = tally.workers.get(event.stream, event.host, event.pid, event.timestamp, fresh=name == "shim.init.start")
    if worker is None:
        return
    if name == "shim.init.start":
        worker.init = "started"
    elif name == "shim.init.ok":
        worker.init, worker.duration_ms, worker.from_shim = "ok", event.duration_ms, True
    elif name == "shim.init.failed":
        worker.init, worker.from_shim = "failed", True
        worker.duration_ms = event.duration_ms
        worker.phase = event.phase
        worker.error = short_error(event.error)
        worker.diagnosis = event.diagnosis or diagnose(event.error)  # a known breakage, when the shim named none
        stage = "import" if event.phase == "import" else "init"
        tally.failures.add(stage, event.error, None, event.timestamp, worker.diagnosis)
