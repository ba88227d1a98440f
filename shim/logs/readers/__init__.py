"""The readers: each knows one format of line and turns its lines into a `Record` (`shim.logs.record`).

A new format is a new module here and one entry in one of the lists below; `shim.logs.text` tries them in
order. A reader looks at a line's first characters before its pattern, so that trying the others costs little.
The shim's JSON lines are read by `shim_json` (and, the commonest, by `shim.logs.fast_path` before any reader),
the old servers' JSON lines by `old_json` (through `shim_json`); `joined` splits a line that holds several
records (a paste whose line breaks were lost) before any of them.
"""

from __future__ import annotations

from collections.abc import Callable

from ..record import Record
from ..tally.sources import Source
from .fragments import read_fragment_line, read_quote_prefix
from .gunicorn import read_access_line, read_gunicorn_line
from .old_server import read_old_server_line
from .prefixes import Prefix, read_buildkit_prefix, read_kubectl_prefix, read_timestamp_prefix
from .runit import read_runit_line
from .server_text import read_server_line
from .supervisord import read_supervisord_line

#: (line, stream, source) -> the record the line opens, or None when the line is not of the reader's format.
RecordReader = Callable[[str, str, Source], Record | None]

#: Formats whose every line opens a record, even in the middle of a traceback; the commonest first.
RECORD_READERS: tuple[RecordReader, ...] = (
    read_server_line,
    read_old_server_line,
    read_gunicorn_line,
    read_runit_line,
    read_supervisord_line,
)

#: Formats whose lines open a record only when they do not continue the record open on their stream.
PLAIN_READERS: tuple[RecordReader, ...] = (read_access_line, read_fragment_line)

#: What is put in front of a line, stripped in this order: a quote (``> ``), then what kubectl and docker add
#: (``kubectl logs --prefix --timestamps``), then BuildKit's step and time (``#12 3.482 ``).
PREFIX_READERS: tuple[Callable[[str], Prefix | None], ...] = (
    read_quote_prefix,
    read_kubectl_prefix,
    read_timestamp_prefix,
    read_buildkit_prefix,
)
