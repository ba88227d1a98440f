"""The shim's JSON lines (and any other JSON object per line), read in full with ``json.loads``.

Most of them never get here: `shim.logs.fast_path` counts the commonest by slicing. Values are checked
for their types here, once, so that what comes out is a `Record` or a `ShimEvent` the tally can trust.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from ..record import Record, ShimEvent
from ..tally.sources import Source
from .old_json import is_old_json, read_old_json_object

_T = TypeVar("_T")
_LEVELS = frozenset({"debug", "info", "warning", "error", "critical"})


def parse_json_line(line: str) -> dict[str, Any] | None:
    """The JSON object a line holds; None for anything else (a text line that happens to start with a brace)."""
    try:
        value = json.loads(line)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def read_json_object(obj: dict[str, Any], stream: str, source: Source) -> Record | ShimEvent:
    """A shim event for ``shim.*`` events, else a record of the logger that wrote it (the server, gunicorn, user's).

    An object with a ``message`` and no ``event`` is an old server's line (`shim.logs.readers.old_json`).
    """
    event = obj.get("event")
    if event is None and is_old_json(obj):
        return read_old_json_object(obj, stream, source)
    name = event if isinstance(event, str) else str(event)
    pid = _typed(obj, "pid", int)
    host = _typed(obj, "host", str)
    request_id = _typed(obj, "request_id", str)
    if name.startswith("shim.") and _is_the_shims(obj):
        return _shim_event(obj, name, source, stream, host, pid, request_id)
    logger = str(obj.get("logger", ""))
    record = Record(source, stream, obj.get("timestamp"), str(obj.get("level", "")), pid, logger, name)
    record.host, record.request_id, record.http = host, request_id, _typed(obj, "http", dict)
    return record


def _is_the_shims(obj: dict[str, Any]) -> bool:
    """Whether a ``shim.*`` event is the shim's own: its logger and the head of its schema.

    A user's ``logging.warning("shim.init.failed")`` has the event's name but another logger (the stream
    never writes ``logger: "shim"`` for a stdlib record), so it is read as the user's line it is.
    """
    return (
        obj.get("logger") == "shim"
        and isinstance(obj.get("timestamp"), str)
        and obj.get("level") in _LEVELS
        and isinstance(obj.get("pid"), int)
    )


def _shim_event(
    obj: dict[str, Any],
    name: str,
    source: Source,
    stream: str,
    host: str | None,
    pid: int | None,
    request_id: str | None,
) -> ShimEvent:
    return ShimEvent(
        name=name,
        source=source,
        stream=stream,
        host=host,
        pid=pid,
        request_id=request_id,
        timestamp=obj.get("timestamp"),
        error=_typed(obj, "error", dict),
        diagnosis=_typed(obj, "diagnosis", str),
        duration_ms=_number(obj.get("duration_ms")),
        elapsed_ms=_number(obj.get("elapsed_ms")) if name == "shim.run.slow" else None,
        phase=_typed(obj, "phase", str),
        http=_typed(obj, "http", dict),
    )


def _typed(obj: dict[str, Any], key: str, kind: type[_T]) -> _T | None:
    """``obj[key]`` when it is a ``kind``, else None (a JSON line may carry anything)."""
    value = obj.get(key)
    return value if isinstance(value, kind) else None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) else None
