"""Lines to the readers of their formats, and what the readers make to `shim.logs.meaning`.

`LineReader` reads every line for the summary; `RequestLineReader` (``--request-id``) also gives the lines
that hold the id to the story.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from .fast_path import read_shim_fast
from .meaning.messages import on_json_item, on_text_record
from .meaning.platform import on_platform_text
from .readers.console import is_block_line, parse_console_line
from .readers.joined import GUNICORN_MARK, SECOND_TIME_RE, split_joined
from .readers.shim_json import parse_json_line, read_json_object
from .record import Record
from .story import RequestLines, Story
from .tally.totals import Tally
from .text import TextReader


class LineReader:
    """Lines in: the shim's commonest by slicing (`read_shim_fast`), other JSON objects, then text (`TextReader`)."""

    def __init__(self, tally: Tally) -> None:
        self.tally = tally
        self.source = tally.add_source("-")  # the input the lines come from
        self.text = TextReader(tally, self.read_json, self._finisher())
        self.console_block = False  # lines indented under a console line (its traceback) belong to it

    def _finisher(self) -> Callable[[Record], None]:
        """What takes a text record once complete."""
        return partial(on_text_record, self.tally)

    def feed(self, line: str) -> None:
        """One line, without its line ending."""
        source = self.source
        source.lines += 1
        if self.console_block:
            if is_block_line(line):
                return  # a traceback drawn under a console line: its type, message and place are on the line
            self.console_block = False
        if line.startswith('{"timestamp": "') and read_shim_fast(line, source, self.tally, self.text):
            return
        if line[:1] == "{" and self.read_json(line, source.name):
            return
        if (line[10:11] == "T" or line[:1] == "\x1b") and self.read_console(line, source.name):
            return
        if (line[:1] == "{" or SECOND_TIME_RE.search(line, 20) or GUNICORN_MARK in line) and self._read_joined(line):
            return  # several records on one line: a paste whose line breaks were lost
        self.text.read(line, source)

    def read_console(self, line: str, stream: str) -> bool:
        """A line of the shim's console format, read as the JSON line it was rendered from; False if not one."""
        obj = parse_console_line(line)
        if obj is None:
            return False
        if self.text.open:
            self.text.close(stream)
        self.tally.console_lines += 1
        self.console_block = True
        on_json_item(self.tally, read_json_object(obj, stream, self.source))
        return True

    def _read_joined(self, line: str) -> bool:
        """The records of a joined line, each read as the line it was (the line is counted once); False if one."""
        pieces = split_joined(line)
        if pieces is None:
            return False
        source = self.source
        for piece in pieces:
            if piece.startswith('{"timestamp": "') and read_shim_fast(piece, source, self.tally, self.text):
                continue
            if piece[:1] != "{" or not self.read_json(piece, source.name):
                self.text.read(piece, source)
        return True

    def read_json(self, line: str, stream: str) -> bool:
        """A JSON line (maybe behind a prefix, in ``stream``); False when it holds no JSON object."""
        obj = parse_json_line(line)
        if obj is None:
            return False
        if self.text.open:  # a JSON line ends the text record (a traceback) open on its stream
            self.text.close(stream)
        self.tally.json_lines += 1
        item = read_json_object(obj, stream, self.source)
        on_json_item(self.tally, item)
        if isinstance(item, Record) and not item.logger and ("code" in obj or "error" in obj):
            # An Azure error on one line ({"code": ..., "details": [{"code": ...}]}): its codes are keys, which
            # the record's message does not hold.
            on_platform_text(self.tally, item, line)
        return True

    def select_source(self, name: str) -> None:
        """Lines fed from now on come from ``name`` again (``--follow``: records stay open across reads)."""
        for source in self.tally.sources:
            if source.name == name:
                self.source = source
                return
        self.start_source(name, close=False)

    def start_source(self, name: str, *, close: bool = True) -> None:
        """Lines fed from now on come from ``name`` (a file, or ``<stdin>``)."""
        if close:
            self.text.close_all()
        sources = self.tally.sources
        if sources == [self.source] and self.source.lines == 0:
            # The only input so far gave no line (the unnamed one before the first was named, or an empty file).
            sources.clear()
        self.source = self.tally.add_source(name)


class RequestLineReader(LineReader):
    """``--request-id``: the lines that hold the id go to the story (`RequestLines`), and are read as any other."""

    def __init__(self, tally: Tally, story: Story, request_id: str) -> None:
        self.matching = RequestLines(request_id, story)
        super().__init__(tally)

    def _finisher(self) -> Callable[[Record], None]:
        return self._finish

    def feed(self, line: str) -> None:
        if self.matching.request_id not in line:
            super().feed(line)
            return
        source = self.source
        source.lines += 1
        console = line[:1] != "{"
        obj = parse_console_line(line) if console else parse_json_line(line)
        self.console_block = console and obj is not None
        if obj is None:
            self.matching.add_text(source.name, line, self.text.read(line, source))
            return
        item = read_json_object(obj, source.name, source)
        if item.request_id is not None and "request_id" not in obj:  # an old server's, nested in its message
            obj = {**obj, "request_id": item.request_id}
        self.matching.add_json(source.name, obj, line)
        if console:
            self.tally.console_lines += 1
        else:  # counted as in `read_json`, but the text record open on the stream stays open
            self.tally.json_lines += 1
        on_json_item(self.tally, item)

    def _finish(self, record: Record) -> None:
        self.matching.record_closed(record)
        on_text_record(self.tally, record)
