"""Whether a record tells a failure, and which: a traceback in any form users paste, read the same way.

The server's tracebacks (a text record and its lines, or a JSON line's message), and the fragments of them a
bare record holds: a traceback without its header, one flattened onto a line (`unflatten`), a lone
exception line (``ModuleNotFoundError: No module named 'lightgbm'``), or a known failure's message without
its type (``Model not found in cache``). `diagnose` names the known breakage a failure is, whatever told it.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from ...models.known_failures import bare_failure, explain, may_explain
from ..readers.fragments import is_flattened, unflatten
from ..record import Record
from ..tracebacks import EXCEPTION_LINE_RE, analyse_traceback, frame_files, unquote

_HEADER = "Traceback (most recent call last)"


def tells_failure(record: Record, message: str) -> bool:
    """Whether the record holds a traceback (or, for a bare record, a fragment of one)."""
    if message.startswith(("Exception in worker process", "WORKER TIMEOUT")):
        return False  # gunicorn's (a timed-out worker's stack follows its line): `shim.logs.meaning.gunicorn`
    if record.traceback or message.startswith("Encountered Exception") or _HEADER in message[:200]:
        return True
    if record.logger:
        return False
    if is_flattened(message):
        return True
    if any(line.strip() for line in record.lines):  # blank lines after it (prose follows) do not count
        return False
    line = unquote(message)
    return EXCEPTION_LINE_RE.fullmatch(line) is not None or bare_failure(line) is not None


def read_error(text: str) -> tuple[dict[str, Any] | None, str | None]:
    """The error a record's text tells (`analyse_traceback`) and the phase its frames name (None if they do not)."""
    error = analyse_traceback(unflatten(text))
    phase = error.pop("phase", None) if error else None
    return error, phase


def diagnose(error: dict[str, Any] | None, text: str = "") -> str | None:
    """The known breakage a failure is (`shim.models.known_failures`), from its exception, or else its cause's.

    ``text`` is the traceback it was read from (its frames' files tell a loader, a package); a shim event's
    ``error`` carries its own.
    """
    if not isinstance(error, dict):
        return None
    trace = error.get("traceback")
    cause = error.get("cause")
    if not isinstance(cause, dict):
        cause = {}
    return _diagnose(
        str(error.get("type") or ""),
        str(error.get("message") or ""),
        str(cause.get("type") or ""),
        str(cause.get("message") or ""),
        text or (trace if isinstance(trace, str) else ""),
    )


@lru_cache(maxsize=256)  # a log's failures repeat: the same exception, message and traceback
def _diagnose(kind: str, message: str, cause_kind: str, cause_message: str, text: str) -> str | None:
    if not may_explain(kind, message) and not may_explain(cause_kind, cause_message):
        return None  # the frames are read only for failures that may be known ones
    files = frame_files(unflatten(text))
    found = explain(kind, message, files)
    if found is None and (cause_kind or cause_message):
        found = explain(cause_kind, cause_message, files)
    return found.text if found is not None else None
