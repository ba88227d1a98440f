"""Whether a record tells a failure, and which: a traceback in any form users paste, read the same way.

The server's tracebacks (a text record and its lines, or a JSON line's message), and the fragments of them a
bare record holds: a traceback without its header, one flattened onto a line (`unflatten`), or a lone
exception line (``ModuleNotFoundError: No module named 'lightgbm'``).
"""

from __future__ import annotations

from typing import Any

from ..readers.fragments import is_flattened, unflatten
from ..record import Record
from ..tracebacks import EXCEPTION_LINE_RE, analyse_traceback

_HEADER = "Traceback (most recent call last)"


def tells_failure(record: Record, message: str) -> bool:
    """Whether the record holds a traceback (or, for a bare record, a fragment of one)."""
    if message.startswith("Exception in worker process"):
        return False  # gunicorn's: `shim.logs.meaning.gunicorn`
    if record.traceback or message.startswith("Encountered Exception") or _HEADER in message[:200]:
        return True
    if record.logger:
        return False
    return is_flattened(message) or (not record.lines and EXCEPTION_LINE_RE.fullmatch(message) is not None)


def read_error(text: str) -> tuple[dict[str, Any] | None, str | None]:
    """The error a record's text tells (`analyse_traceback`) and the phase its frames name (None if they do not)."""
    error = analyse_traceback(unflatten(text))
    phase = error.pop("phase", None) if error else None
    return error, phase
