"""The old JSON-line servers (``azureml-defaults`` images of ACI and AKS web services, 2018-2021).

Their lines are one JSON object each, with ``message`` where the shim writes ``event``, an upper-case
``level`` and no pid: ``{"timestamp": "2018-12-13T22:56:29.750321Z", "message": "...", "host": "wk-caas-...",
"path": "/var/azureml-app/aml_logger.py", "tags": "%(module)s, ...", "level": "INFO", "logger": "root",
"stack_info": null}``. gunicorn's lines also carry ``msg``, the unformatted template, which is not read. The
server's own logger (``root``, written by ``aml_logger.py``) nests a second JSON object in ``message``:
``{"requestId": "...", "message": "Invoking user's init function", "apiName": ""}``; its ``message`` is what
the server said (a traceback's lines escaped twice), and its ``requestId`` the request's, unless all zeros
(no request: start-up).
"""

from __future__ import annotations

import json
from typing import Any

from ..record import Record
from ..tally.sources import Source

_NESTED = '{"requestId": '
_NO_REQUEST = "00000000-0000-0000-0000-000000000000"


def is_old_json(obj: dict[str, Any]) -> bool:
    """Whether a JSON object is an old server's line: a ``message`` and no ``event``."""
    return "event" not in obj and isinstance(obj.get("message"), str)


def read_old_json_object(obj: dict[str, Any], stream: str, source: Source) -> Record:
    """The record of an old server's JSON line, its nested message unwrapped."""
    message, request_id = _unwrap(obj["message"])
    host, pid = obj.get("host"), obj.get("pid")
    record = Record(
        source,
        stream,
        obj.get("timestamp"),
        str(obj.get("level", "")).lower(),
        pid if isinstance(pid, int) else None,
        str(obj.get("logger", "")),
        message,
    )
    record.host = host if isinstance(host, str) and host else None
    record.request_id = request_id
    return record


def _unwrap(message: str) -> tuple[str, str | None]:
    """The server's own message and request id from ``aml_logger``'s nested object; other messages as they are."""
    if not message.startswith(_NESTED):
        return message, None
    try:
        inner = json.loads(message)
    except ValueError:
        return message, None
    if not isinstance(inner, dict):
        return message, None
    text = inner.get("message", "")
    text = text if isinstance(text, str) else str(text)  # the status after a request is a number: 200
    request_id = inner.get("requestId")
    if isinstance(request_id, str) and request_id and request_id != _NO_REQUEST:
        return text, request_id
    return text, None
