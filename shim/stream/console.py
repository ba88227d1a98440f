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
from typing import Any

from . import redaction

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}

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


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    try:
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
