"""supervisord's lines in the first Azure ML images (2018): ``2018-11-30 09:33:06,449 INFO exited: iot (...)``.

Before runit, the images ran nginx, gunicorn, rsyslog and the IoT Edge server under supervisord, whose own
lines tell each program spawned and ended (``exited: gunicorn (exit status 3; not expected)``).
`shim.logs.meaning.old_images` says what they mean.
"""

from __future__ import annotations

import re

from ..record import Record
from ..tally.sources import Source

_SUPERVISORD_RE = re.compile(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) (CRIT|ERRO|WARN|INFO|DEBG|TRAC|BLAT) (.*)", re.S)
_LEVELS = {"CRIT": "critical", "ERRO": "error", "WARN": "warning", "INFO": "info"}

#: The logger name a supervisord record gets.
SUPERVISORD = "supervisord"


def read_supervisord_line(line: str, stream: str, source: Source) -> Record | None:
    """A supervisord line: its time, a four-letter level (``INFO``, ``CRIT``), what it says."""
    if not (line[19:20] == "," and line[23:24] == " " and line[28:29] == " " and line[:1].isdigit()):
        return None
    match = _SUPERVISORD_RE.match(line)
    if match is None:
        return None
    timestamp, level, message = match.groups()
    return Record(source, stream, timestamp, _LEVELS.get(level, "debug"), None, SUPERVISORD, message)
