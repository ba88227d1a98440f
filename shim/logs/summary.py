"""``score-shim logs``: read container logs as users get them and summarise them as data.

What arrives is never one clean format: ``az ml online-deployment get-logs``, ``kubectl logs`` (maybe with
``--prefix`` pod names or ``--timestamps``) and ``docker logs`` hand over the shim's JSON lines, the
server's text lines (``2026-11-25 17:27:43,857 E [13738] azmlinfsrv - ...``), gunicorn's own
(``[2026-11-25 17:27:42 +0000] [13736] [INFO] ...``), the raw access log, multi-line tracebacks and
``print`` output, from one or many replicas and from old server versions (``... | root | INFO | ...``).

Everything here streams: a line is looked at once and forgotten; what is kept is bounded (counters,
a fixed latency histogram, a few samples per group), so that a 1 GB log reads in constant memory. The
shim's JSON lines are the common case and the hot path: ``shim.run.ok``, gunicorn's access lines and user
log lines are read by prefix tests and slicing, without ``json.loads`` (``benchmarks/logs.py``: about
500,000 lines/s on a quiet machine, where ``json.loads`` alone, doing nothing with the result, reads 300,000).
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterable
from typing import Any, TextIO

from .bounds import (
    MAX_GROUPS,
    MAX_LINE,
    MAX_RECORD_LINES,
    MAX_ROUTES,
    MAX_SAMPLES,
    MAX_WORKERS,
    READ_BLOCK,
)
from .dispatch import LineReader, RequestLineReader
from .meaning.http_status import status_meanings
from .story import Story
from .tally.sizing import SizingAsk
from .tally.sources import Source
from .tally.totals import Tally

__all__ = [
    "MAX_GROUPS",
    "MAX_LINE",
    "MAX_RECORD_LINES",
    "MAX_ROUTES",
    "MAX_SAMPLES",
    "MAX_WORKERS",
    "SizingAsk",
    "Summary",
    "feed_handle",
    "read_file",
]


class Summary:
    """The streaming reader: feed it lines (`feed`), then read the summary as data (`result`).

    A `LineReader` hands each line to the reader of its format, the `Tally` keeps what they add up to, the
    `Story` the lines of ``--request-id``; ``sizing`` is what the replica sizing was asked for (``--target-rps``).
    """

    def __init__(self, request_id: str | None = None, sizing: SizingAsk | None = None) -> None:
        self.request_id = request_id
        self.sizing = sizing or SizingAsk()
        self.tally = Tally()
        self.story = Story()
        self.reader = (
            LineReader(self.tally) if request_id is None else RequestLineReader(self.tally, self.story, request_id)
        )
        self.sources: list[Source] = self.tally.sources
        self._time_requests()
        # One line, without its line ending: the reader's own method, so that the hot path has no call more.
        self.feed: Callable[[str], None] = self.reader.feed

    @property
    def json_lines(self) -> int:
        return self.tally.json_lines

    @property
    def story_dropped(self) -> int:
        return self.story.dropped

    @property
    def on_story(self) -> Callable[[str, list[str]], None] | None:
        """Called with (source, lines) as a matching record completes (``--follow``)."""
        return self.story.on_story

    @on_story.setter
    def on_story(self, announce: Callable[[str, list[str]], None] | None) -> None:
        self.story.on_story = announce

    def select_source(self, name: str) -> None:
        self.tally.timeline.next_input()
        self.reader.select_source(name)
        self._time_requests()

    def start_source(self, name: str, *, close: bool = True) -> None:
        self.tally.timeline.next_input()
        self.reader.start_source(name, close=close)
        self._time_requests()

    def _time_requests(self) -> None:
        """The input being read stamps its requests with the time of their records (for the request rate)."""
        self.reader.source.time_requests(self.tally.timeline)

    def feed_lines(self, lines: Iterable[str]) -> None:
        feed = self.feed
        for line in lines:
            feed(line)

    def close_records(self) -> None:
        """Finish every record still open (at the end of an input)."""
        self.reader.text.close_all()

    def result(self) -> dict[str, Any]:
        """The summary as data (what ``--json`` prints); does not close open records (see `close_records`).

        The statuses seen get the troubleshooting guide's meaning here, above the tally, which knows no meaning.
        """
        result = self.tally.result(self.sizing)
        requests = result["requests"]
        requests["meanings"] = status_meanings(requests["by_status"])
        return result

    def story_lines_sorted(self) -> list[tuple[str, list[str]]]:
        """The request's lines, in time order across inputs (stable within one input)."""
        return self.story.sorted_lines()


def read_file(
    summary: Summary,
    path: str,
    name: str,
    progress: Callable[[str, int, int, int], None] | None = None,
) -> None:
    """Feed one file to ``summary``, in constant memory; ``progress(name, bytes_read, size, lines)`` now and then.

    Undecodable bytes become U+FFFD: a log with a stray binary line is still a log.
    """
    summary.start_source(name)
    with open(path, "rb") as raw, io.TextIOWrapper(raw, encoding="utf-8", errors="replace") as handle:
        feed_handle(summary, handle, progress=progress, name=name, size=os.fstat(raw.fileno()).st_size, raw=raw)
    summary.close_records()


def feed_handle(
    summary: Summary,
    handle: TextIO,
    *,
    progress: Callable[[str, int, int, int], None] | None = None,
    name: str = "-",
    size: int = 0,
    raw: Any = None,
) -> None:
    """Every line of ``handle`` to ``summary``; a line longer than `MAX_LINE` is cut there.

    Read in blocks and split in C (``str.split``), which is about twice as fast as ``readline`` per line;
    only the unfinished last line of a block is carried over, so memory stays bounded by the block size.
    """
    feed = summary.feed
    read = handle.read
    count = 0
    pending = ""
    skipping = False  # inside a line longer than MAX_LINE, whose head was fed already
    while True:
        block = read(READ_BLOCK)
        if not block:
            break
        lines = (pending + block).split("\n") if pending else block.split("\n")
        pending = lines.pop()
        if skipping and lines:
            lines[0:1] = []  # the rest of the long line
            skipping = False
        for line in lines:
            if len(line) > MAX_LINE:
                line = line[:MAX_LINE]
            feed(line)
        if len(pending) > MAX_LINE:
            if not skipping:
                feed(pending[:MAX_LINE])
                skipping = True
            pending = ""
        if progress is not None:
            count += len(lines)
            progress(name, raw.tell() if raw is not None else 0, size, count)
    if pending and not skipping:
        feed(pending)
