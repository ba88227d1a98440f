"""Console format (``SCORE_SHIM_LOG_FORMAT=console``): every value made safe for a terminal before it is drawn.

A request body, a header or an exception message the script logged may hold escape sequences (clear the
screen, set the window title, hide text) or newlines that would draw a fake log line. Every key and value
of the event, the logger name and the event text included, has its control characters escaped: C0
(``\\n`` becomes ``\\\\n``), DEL, C1, and the invisible Unicode controls that reorder or hide text (bidi
overrides, zero-width characters, line and paragraph separators). The multi-line blocks drawn under the
line (the traceback, a slow run's stack) keep their own newlines but every line of them is indented, so
no text in them can pass for a line of the log. JSON lines need none of this: ``json`` escapes them.
"""

from __future__ import annotations

import re

from . import redaction, server_noise

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: `typing` is not imported by a worker's start (issue 17, import time)
    from collections.abc import Callable
    from typing import Any

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}

#: Event name -> the fields the console draws instead of the event's own: a short view for people (the JSON
#: line keeps everything). Registered by the module that knows the event (`register_view`), so that the
#: stream needs to know none of them.
VIEWS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {}

#: Keys the console renderer draws as blocks under the line.
BLOCK_KEYS = ("exception", "stack")
BLOCK_INDENT = "    "


def _escape_char(match: re.Match[str]) -> str:
    char = match.group()
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape(text: str) -> str:
    """``text`` on one line, with every control character written as an escape."""
    return _CONTROL.sub(_escape_char, text) if _CONTROL.search(text) else text


def block(text: str) -> str:
    """A multi-line block drawn under the line: each line escaped and indented."""
    return "\n".join(BLOCK_INDENT + escape(line) for line in text.split("\n"))


def register_view(event: str, view: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
    VIEWS[event] = view


def view_of(event_dict: dict[str, Any]) -> dict[str, Any]:
    """The event as the console draws it: its registered view, else itself (also when the view fails)."""
    try:
        view = VIEWS.get(str(event_dict.get("event")))
        if view is not None:
            return view(event_dict)
        return server_noise.console_view(event_dict) or event_dict
    except Exception:
        return event_dict


def _text(value: Any) -> str:
    import json  # here, not at the top: json is not imported by a worker's start (issue 17, import time)

    if isinstance(value, str):
        return value
    try:
        if isinstance(value, (dict, list)):  # nested data as compact JSON, not Python's repr
            return redaction.redact(json.dumps(value, ensure_ascii=False, default=repr, separators=(", ", ": ")))
        return redaction.redact(repr(value))  # what the renderer would draw, masked as the JSON encoder does
    except Exception:
        return f"<unrepresentable {type(value).__name__}>"


def safe_event(event_dict: dict[str, Any]) -> dict[str, Any]:
    """The event with every key and value as escaped text (the blocks escaped line by line)."""
    safe: dict[str, Any] = {}
    for key, value in event_dict.items():
        name = escape(_text(key))
        if name in BLOCK_KEYS and isinstance(value, str):
            safe[name] = block(value)
        else:
            safe[name] = escape(_text(value))
    return safe
