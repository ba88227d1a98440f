"""One request's story as a person reads it: the shim's and the server's JSON lines as short text lines.

``--request-id`` prints the lines that carry the id. Piped, they stay as they were written (for ``grep`` and
``jq``); on a terminal, a JSON line becomes ``time level event``, its error as type, message and place first
and the traceback once, indented: the server's own copy of a traceback the shim already showed (its
``Encountered Exception`` line) is named, not repeated. A line that is not a JSON object is shown as it is.
"""

from __future__ import annotations

import json
from typing import Any

_SERVER_COPY = "Encountered Exception"
#: The fields of the shim's events worth a glance, in this order.
_FIELDS = ("duration_ms", "input_bytes", "elapsed_ms", "phase", "client_request_id")


def readable(line: str) -> list[str]:
    """The text lines ``line`` reads as (one, or several for an error and its traceback)."""
    if not line.startswith("{"):
        return [line]
    try:
        record = json.loads(line)
    except ValueError:
        return [line]
    if not isinstance(record, dict):
        return [line]
    time = str(record.get("timestamp", ""))[11:23]
    head = f"{time:<12} {record.get('level', '')!s:<7} "
    event = str(record.get("event", ""))
    logger = str(record.get("logger", ""))
    if logger == "shim":
        return [head + event + _fields(record), *_error(record.get("error"))]
    first, _, rest = event.partition("\n")
    if first.startswith(_SERVER_COPY):
        return [f"{head}[{logger}] {_SERVER_COPY}: the server's copy of the traceback (shim.run.failed has it)"]
    lines = [f"{head}[{logger}] {first}{_status(record.get('http'))}"]
    return lines + [f"    {text}" for text in rest.split("\n") if text.strip()]


def _fields(record: dict[str, Any]) -> str:
    shown = [f"{key}={record[key]}" for key in _FIELDS if record.get(key) is not None]
    http = record.get("http")
    if isinstance(http, dict) and http.get("status") is not None:
        shown.append(f"status={http['status']}")
    return ("  " + " ".join(shown)) if shown else ""


def _status(http: Any) -> str:
    if isinstance(http, dict) and http.get("status") is not None:
        return f"  (status {http['status']}, {http.get('duration_ms')} ms)"
    return ""


def _error(error: Any) -> list[str]:
    """The error's type and message, its place, then its traceback, indented."""
    if not isinstance(error, dict):
        return []
    lines = [f"    {error.get('type')}: {error.get('message', '')}".rstrip(": ")]
    where = error.get("where")
    if isinstance(where, dict) and where.get("file"):
        lines.append(f"    at {where['file']}:{where.get('line')} in {where.get('function')}")
    traceback = error.get("traceback")
    if isinstance(traceback, str):
        lines.extend(f"      {text}" for text in traceback.rstrip("\n").split("\n"))
    return lines
