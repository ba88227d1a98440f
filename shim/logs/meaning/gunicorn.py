"""gunicorn's messages: workers booting and ending, the master's signals, and the access log."""

from __future__ import annotations

import re
from typing import Any

from ..readers.gunicorn import parse_access
from ..record import Record
from ..tally.sources import Source, count_route
from ..tally.totals import Tally
from ..tally.workers import replica_name
from ..tracebacks import short_error
from .exceptions import diagnose, read_error

_PID_RE = re.compile(r"pid:? ?(\d+)")
_EXIT_RE = re.compile(r"Worker \(pid:(\d+)\) exited with code (\d+)")
_SIGNAL_RE = re.compile(r"Worker \(pid:(\d+)\) was sent (\w+)!")
# gunicorn 20's words for the same: "Worker with pid 34 was terminated due to signal 9"
_TERMINATED_RE = re.compile(r"Worker with pid (\d+) was terminated due to signal (\d+)")


def on_gunicorn_message(tally: Tally, record: Record, message: str) -> None:
    """Workers booting, timing out, killed or exiting; the master starting and its signals."""
    events = tally.worker_events
    if message.startswith("Booting worker with pid: "):
        match = _PID_RE.search(message)
        if match:
            worker = tally.workers.get(record.stream, record.host, int(match.group(1)), record.timestamp, fresh=True)
            if worker is not None and worker.init == "unknown":
                worker.init = "booted"
    elif message.startswith("Starting gunicorn"):
        events.server_starts += 1
    elif message.startswith("WORKER TIMEOUT"):
        match = _PID_RE.search(message)
        _worker_ended(tally, record, "WORKER TIMEOUT", int(match.group(1)) if match else None, message)
    elif message.startswith(("Worker (pid:", "Worker with pid")):
        _worker_exited(tally, record, message)
    elif message.startswith("Worker exiting"):
        events.counts["exiting"] += 1
    elif message.startswith("Handling signal: "):
        events.master_signals[message[len("Handling signal: ") :].strip()] += 1
    elif message.startswith("Reason: "):
        kind = message[len("Reason: ") :].split("\n", 1)[0].strip().rstrip(".")
        _worker_ended(tally, record, kind, None, message)
    elif message.startswith("Exception in worker process"):
        _worker_failed_to_load(tally, record, message)


def _worker_exited(tally: Tally, record: Record, message: str) -> None:
    """``Worker (pid:N) exited with code 3``, ``Worker (pid:N) was sent SIGKILL!``."""
    exited = _EXIT_RE.match(message)
    if exited:
        _worker_ended(tally, record, f"exited with code {exited.group(2)}", int(exited.group(1)), message)
        return
    terminated = _TERMINATED_RE.match(message)
    if terminated:
        number = int(terminated.group(2))
        kind = "SIGKILL (out of memory?)" if number == 9 else f"terminated by signal {number}"
        _worker_ended(tally, record, kind, int(terminated.group(1)), message)
        return
    signalled = _SIGNAL_RE.match(message)
    if signalled:
        name = signalled.group(2)
        kind = "SIGKILL (out of memory?)" if name == "SIGKILL" else f"sent {name}"
        _worker_ended(tally, record, kind, int(signalled.group(1)), message)


def _worker_ended(tally: Tally, record: Record, kind: str, pid: int | None, message: str) -> None:
    if pid is not None:
        worker = tally.workers.latest(record.stream, pid)
        if worker is not None and worker.ended is None:
            worker.ended = kind
    replica = replica_name(record.stream, record.host)
    tally.worker_events.add(kind, replica, pid, record.timestamp, message)


def count_access(source: Source, message: str, http: dict[str, Any] | None) -> None:
    """An access line: from the fields the shim wrote (``http``), else from the message's text."""
    source.saw_access = True
    status = http.get("status") if http else None
    method, path = (http.get("method"), http.get("path")) if http else (None, None)
    if not isinstance(status, int):
        parsed = parse_access(message)
        if parsed is None:
            return
        method, path, status = parsed
    source.access[status] += 1
    duration = http.get("duration_ms") if http else None
    if isinstance(duration, (int, float)) and path == "/score":
        source.latency_access.add(float(duration))
    count_route(source.routes_access, method, path)


def _worker_failed_to_load(tally: Tally, record: Record, message: str) -> None:
    """``Exception in worker process``: the worker failed to load the app (old servers import the entry script
    and run init() there). Its stage is the frames' (module level: the import; none when they do not say); a
    traceback cut in the paste still counts as this worker's failure, said so."""
    error, phase = read_error(message)
    if phase is None and ", in <module>" in message:
        phase = "import"
    if error is None:
        error = {
            "type": "Exception in worker process",
            "message": "the worker failed to load the app; the traceback that says why is cut in these lines",
        }
    # old images' gunicorn lines name no pid: the worker that is booting
    record.pid = tally.workers.pid_or_sole_pending(record.stream, record.host, record.pid)
    worker = tally.workers.get(record.stream, record.host, record.pid, record.timestamp)
    diagnosis = diagnose(error, message)
    if worker is not None and not worker.from_shim:
        worker.init = "failed"
        worker.phase = "import" if phase == "import" else None  # init() is what the table shows
        worker.error = short_error(error)
        worker.diagnosis = diagnosis
    tally.failures.add(phase, error, None, record.timestamp, diagnosis)
