"""Old servers' text lines (azureml-defaults, inference server 0.x): ``2021-09-28 07:06:41,389 | root | INFO | ...``."""

from __future__ import annotations

import re

from ..record import Record
from ..tally.sources import Source

_OLD_SERVER_RE = re.compile(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) \| (\S+) +\| (\w+) +\| (.*)", re.S)


def read_old_server_line(line: str, stream: str, source: Source) -> Record | None:
    if not line[:1].isdigit():
        return None
    match = _OLD_SERVER_RE.match(line)
    if match is None:
        return None
    timestamp, logger, level, message = match.groups()
    return Record(source, stream, timestamp, level.lower(), None, logger, message)
