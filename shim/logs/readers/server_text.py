"""The inference server's text lines: ``2026-11-25 17:27:43,857 E [13738] azmlinfsrv - message``."""

from __future__ import annotations

import re

from ..record import Record
from ..tally.sources import Source

# The server's format: %(asctime)s %(levelname).1s [%(process)d] %(name)s - %(message)s
_SERVER_RE = re.compile(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) ([DIWEC]) \[(\d+)\] (\S+) - (.*)", re.S)
_LEVEL_LETTER = {"D": "debug", "I": "info", "W": "warning", "E": "error", "C": "critical"}


def read_server_line(line: str, stream: str, source: Source) -> Record | None:
    if not line[:1].isdigit():
        return None
    match = _SERVER_RE.match(line)
    if match is None:
        return None
    timestamp, letter, pid, logger, message = match.groups()
    return Record(source, stream, timestamp, _LEVEL_LETTER[letter], int(pid), logger, message)
