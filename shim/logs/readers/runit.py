"""runit's lines in the older Azure ML images: the services starting, ending, and the container giving up.

The images of 2018-2022 (azureml-defaults, ACI and AKS web services) run nginx, gunicorn, rsyslog and an IoT
Edge server under runit, whose scripts stamp each line with ``date -Ins``::

    2018-12-13T22:56:25,399160286+00:00 - iot-server/run
    2018-12-13T22:56:30,008522386+00:00 - gunicorn/finish 3 0
    2018-12-13T22:56:30,009611284+00:00 - Exit code 3 is not normal. Killing image.
    2022-08-22T17:05:02,187280665+00:00 | gunicorn/run | AzureML image information: ...

The comma before the nanoseconds tells them from docker's and kubectl's ``--timestamps`` prefix (a dot).
`shim.logs.meaning.old_images` says what they mean.
"""

from __future__ import annotations

import re

from ..record import Record
from ..tally.sources import Source

_RUNIT_RE = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d,\d+[+-]\d\d:\d\d) [-|] ?(.*)", re.S)

#: The logger name a runit record gets (it has none of its own).
RUNIT = "runit"


def read_runit_line(line: str, stream: str, source: Source) -> Record | None:
    """A runit line: ``date -Ins`` (a comma before the nanoseconds), then `` - `` or `` | ``, then what it says."""
    if not (line[10:11] == "T" and line[19:20] == "," and line[:1].isdigit()):
        return None
    match = _RUNIT_RE.match(line)
    if match is None:
        return None
    timestamp, message = match.groups()
    return Record(source, stream, timestamp, "", None, RUNIT, message.rstrip())
