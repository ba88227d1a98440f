"""The inference server's messages (``azmlinfsrv*``): init() starting and ending, exceptions, its access lines."""

from __future__ import annotations

import re
from typing import Any

from ..record import Record
from ..tally.sources import Source, count_route
from ..tally.totals import Tally
from ..tally.workers import Worker, replica_name
from ..tracebacks import is_timeout, short_error
from .exceptions import diagnose, read_error, tells_failure

# The server's own access line: "POST /score 500 2.218ms 92"
_SERVER_ACCESS_RE = re.compile(r"([A-Z]+) (\S.*) (\d{3}) ([\d.]+)ms( \S+)?")
# How init() went, in every server's words (the 1.x server's, and the old ones' of azureml-defaults).
_INIT_STARTED = "Invoking user's init function"
_INIT_OK = "Users's init has completed successfully"
_INIT_FAILED = "User's init function failed"
_INIT_MESSAGES = (_INIT_STARTED, _INIT_OK, _INIT_FAILED)


def on_server_message(tally: Tally, record: Record, message: str) -> bool:
    """The server's own lines (and the tracebacks of bare records); False when the message is not one of them."""
    if tells_failure(record, message):
        _on_exception(tally, record, message)
        return True
    if message[:1].isupper() and " " in message and message[-1:].isdigit():
        match = _SERVER_ACCESS_RE.fullmatch(message)
        if match:
            _count_access(record.source, match)
            return True
    return _on_init_message(tally, record, message)


def _count_access(source: Source, match: re.Match[str]) -> None:
    source.saw_server = True
    source.server[int(match.group(3))] += 1
    if match.group(2) == "/score":
        source.latency_server.add(float(match.group(4)))
    count_route(source.routes_server, match.group(1), match.group(2))


def _on_init_message(tally: Tally, record: Record, message: str) -> bool:
    """How init() went, as the server tells it: the shim's events, when there are some, decide."""
    if not message.startswith(_INIT_MESSAGES):
        return False
    record.pid = tally.workers.pid_or_sole_pending(record.stream, record.host, record.pid)
    if message.startswith(_INIT_STARTED):
        worker = tally.workers.get(record.stream, record.host, record.pid, record.timestamp, fresh=True)
        if worker is not None and worker.init in ("unknown", "booted"):
            worker.init = "started"
        return True
    worker = tally.workers.get(record.stream, record.host, record.pid, record.timestamp)
    if worker is None or worker.from_shim:
        return True
    if message.startswith(_INIT_OK):
        worker.init = "ok"
    else:
        worker.init = "failed"
        worker.awaiting_error = True
    return True


def _on_exception(tally: Tally, record: Record, text: str) -> None:
    """A traceback: init()'s (after "User's init function failed"), the import's, a request's, or a pasted one's.

    The phase comes from the context (init() failed just before) or else from the frames; a traceback whose
    frames do not say has none.
    """
    error, phase = read_error(text)
    if error is None and not record.logger:
        return  # a bare line that only looked like a fragment ("File x, line 3 done")
    record.pid = tally.workers.pid_or_sole_pending(record.stream, record.host, record.pid)
    worker = tally.workers.latest(record.stream, record.pid)
    if worker is not None and worker.awaiting_error:
        worker.awaiting_error = False
        diagnosis = diagnose(error, text)  # a known breakage (shim.models.known_failures), in plain words
        _worker_failed(worker, error, "init")
        if not worker.from_shim:
            worker.diagnosis = diagnosis
        tally.failures.add("init", error, None, record.timestamp, diagnosis)
        return
    if phase in ("import", "init") and worker is not None:
        if worker.from_shim and worker.init == "failed":
            return  # the shim's shim.init.failed told this one already
        _worker_failed(worker, error, phase)
        if not worker.from_shim:
            worker.diagnosis = diagnose(error, text)
    elif worker is not None and worker.from_shim and worker.init == "failed" and not record.request_id:
        return  # the shim's shim.init.failed told this one already
    request_id = record.request_id
    if request_id and tally.failures.told(request_id):
        return  # the shim's shim.run.failed told this one already, with the user's stack
    tally.failures.add(phase, error, request_id, record.timestamp, diagnose(error, text))
    if is_timeout(error, text):
        tally.timeouts.add(replica_name(record.stream, record.host), record.pid, request_id, record.timestamp, None)


def _worker_failed(worker: Worker, error: dict[str, Any] | None, phase: str) -> None:
    if worker.from_shim:
        return
    worker.init, worker.error = "failed", short_error(error)
    if phase == "import":  # init() is what the workers' table shows unless told otherwise
        worker.phase = phase
