"""The shim's console format read back: what ``score-shim serve`` prints on a terminal, saved or pasted.

A user copies serve's terminal into a file and runs ``score-shim logs`` on it; read as unknown text, two
failures came out as "Failures: none". structlog's ``ConsoleRenderer`` writes
``TIMESTAMP [level    ] event   [logger] key=value ...``
(https://www.structlog.org/en/stable/console-output.html), each value as the shim's console drew it
(`shim.stream.console`): a bare token, or a Python string literal when it holds spaces or quotes, nested data
as JSON inside it. Blocks (a traceback, a stack) follow on lines indented by four spaces. A line is rebuilt
as the JSON object it was rendered from, as far as the console kept it: a failure's ``error`` is drawn as
"Type: message at file:line" and comes back as ``{"type", "message", "where"}``. Colours are dropped first.
"""

from __future__ import annotations

import ast
import json
import re
from typing import Any

_SGR = re.compile(r"\x1b\[[0-9;]*m")
_LINE = re.compile(
    r"(?P<ts>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z) \[(?P<level>debug|info|warning|error|critical) *\] (?P<rest>.*)"
)
#: The logger's name in brackets, where the key=value pairs (or the line's end) follow.
_LOGGER = re.compile(r" \[(?P<logger>[\w.\-]+)\](?: |$)")
_PAIR = re.compile(r"""([A-Za-z_]\w*)=('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|\S*)(?: +|$)""")
_ERROR = re.compile(r"(?P<type>[A-Za-z_][\w.]*): (?P<message>.*?)(?: at (?P<file>\S.*):(?P<line>\d+))?", re.S)
#: Lines under a console line that belong to it (`shim.stream.console.BLOCK_INDENT`).
BLOCK_INDENT = "    "


def is_block_line(line: str) -> bool:
    """A line of a block drawn under a console line (a traceback): it belongs to that line, not a record."""
    return line.startswith(BLOCK_INDENT)


def parse_console_line(line: str) -> dict[str, Any] | None:
    """The object a console line was rendered from; None for any other line."""
    if "\x1b" in line:
        line = _SGR.sub("", line)
    match = _LINE.fullmatch(line)
    if match is None:
        return None
    rest = match["rest"]
    for logger in _LOGGER.finditer(rest):  # the first bracket after which the rest reads as key=value pairs
        fields = _pairs(rest, logger.end())
        if fields is not None:
            event, name = rest[: logger.start()].rstrip(), logger["logger"]
            break
    else:
        return None
    obj: dict[str, Any] = {"timestamp": match["ts"], "level": match["level"], "event": event, "logger": name}
    obj.update(fields)
    if isinstance(obj.get("error"), str):
        obj["error"] = _error(obj["error"])
    return obj


def _pairs(text: str, start: int) -> dict[str, Any] | None:
    fields: dict[str, Any] = {}
    position = start
    while position < len(text):
        pair = _PAIR.match(text, position)
        if pair is None or pair.end() == position:
            return None
        fields[pair[1]] = _value(pair[2])
        position = pair.end()
    return fields


def _value(text: str) -> Any:
    """A value as the console drew it: a string literal (maybe JSON inside), a number, or a bare word."""
    if text[:1] in ("'", '"'):
        try:
            text = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            return text
        if text[:1] in ("{", "["):
            try:
                return json.loads(text)
            except ValueError:
                return text
        return text
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _error(text: str) -> dict[str, Any]:
    match = _ERROR.fullmatch(text)
    if match is None:
        return {"type": "Error", "message": text}
    error: dict[str, Any] = {"type": match["type"], "message": match["message"]}
    if match["file"]:
        error["where"] = {"file": match["file"], "line": int(match["line"])}
    return error
