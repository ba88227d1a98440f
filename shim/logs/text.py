"""Text lines into records: a line a reader knows opens a record, the lines that continue it (a traceback) join it.

Each stream (an input, or a pod of a ``kubectl logs --prefix`` input) has at most one record open; it is
finished when its stream's next record opens, when a JSON line comes on the stream, or at the end of the input.
"""

from __future__ import annotations

import html
import re
from collections import OrderedDict
from collections.abc import Callable

from .bounds import MAX_STREAMS
from .readers import PLAIN_READERS, PREFIX_READERS, RECORD_READERS, RecordReader
from .record import Record
from .tally.sources import Source
from .tally.totals import Tally

_ENTITY_RE = re.compile(r"&(?:lt|gt|quot|amp|#39|#x27);")


class TextReader:
    """The open records by stream (at most `MAX_STREAMS`); ``finish`` takes each record as it completes."""

    def __init__(self, tally: Tally, read_json: Callable[[str, str], bool], finish: Callable[[Record], None]) -> None:
        self.tally = tally
        self.open: OrderedDict[str, Record] = OrderedDict()
        self._read_json = read_json
        self._finish = finish

    def read(self, line: str, source: Source) -> Record | None:
        """A line that is not one of the shim's JSON lines; returns the record it opened or continued."""
        stream = source.name
        timestamp: str | None = None
        if "&" in line and _ENTITY_RE.search(line):  # pasted from a web page: &lt;module&gt;, &quot;...&quot;
            line = html.unescape(line)
        for read_prefix in PREFIX_READERS:
            prefix = read_prefix(line)
            if prefix is not None:
                if prefix.pod is not None:
                    stream = f"{stream}|{prefix.pod}"
                if prefix.timestamp is not None:
                    timestamp = prefix.timestamp
                line = line[prefix.end :]
        # A JSON line behind a kubectl or docker prefix.
        if (stream != source.name or timestamp) and line[:1] == "{" and self._read_json(line, stream):
            return None
        self.tally.text_lines += 1
        record = _first_record(RECORD_READERS, line, stream, source)
        if record is None:
            current = self.open.get(stream)
            if current is not None and current.continues_with(line):
                current.add(line)
                return current
            record = _plain_record(line, stream, source)
        if timestamp:
            record.timestamp = timestamp
        self.close(stream)
        self.open[stream] = record
        if len(self.open) > MAX_STREAMS:
            self.close(next(iter(self.open)))
        return record

    def close(self, stream: str) -> None:
        record = self.open.pop(stream, None)
        if record is not None:
            self._finish(record)

    def close_all(self) -> None:
        for stream in list(self.open):
            self.close(stream)


def _first_record(readers: tuple[RecordReader, ...], line: str, stream: str, source: Source) -> Record | None:
    for read in readers:
        record = read(line, stream, source)
        if record is not None:
            return record
    return None


def _plain_record(line: str, stream: str, source: Source) -> Record:
    """A line that continues no record: a plain reader's record, else a bare one (``print`` output, say)."""
    record = _first_record(PLAIN_READERS, line, stream, source)
    return record if record is not None else Record(source, stream, None, "", None, "", line)
