"""gunicorn's own lines (``[2026-11-25 17:27:42 +0000] [13736] [INFO] ...``) and its raw access log."""

from __future__ import annotations

import re

from ..record import Record
from ..tally.sources import Source

_GUNICORN_RE = re.compile(r"\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)(?: [+-]\d{4})?\] \[(\d+)\] \[(\w+)\] (.*)", re.S)
# gunicorn's access log: '127.0.0.1 - - [25/Nov/2026:17:27:43 +0000] "POST /score HTTP/1.1" 500 92 "-" "ua"'
_ACCESS_RE = re.compile(r'\S+ \S+ \S+ \[[^\]]*\] "(\S+) (\S+)[^"]*" (\d{3}) ')


def read_gunicorn_line(line: str, stream: str, source: Source) -> Record | None:
    if line[:1] != "[":
        return None
    match = _GUNICORN_RE.match(line)
    if match is None:
        return None
    timestamp, pid, level, message = match.groups()
    return Record(source, stream, timestamp, level.lower(), int(pid), "gunicorn.error", message)


def read_access_line(line: str, stream: str, source: Source) -> Record | None:
    """A bare access line (gunicorn writing its access log to stdout), which has no time or level of its own."""
    if not line[:1].isdigit() or not _ACCESS_RE.match(line):
        return None
    return Record(source, stream, None, "", None, "gunicorn.access", line)


def parse_access(message: str) -> tuple[str, str, int] | None:
    """Method, path and status of an access log message, in whatever line it came."""
    match = _ACCESS_RE.match(message)
    if not match:
        return None
    return match.group(1), match.group(2), int(match.group(3))
