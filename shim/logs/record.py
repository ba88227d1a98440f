"""The normalized forms the readers give, whatever the format of the line: a `Record` or a `ShimEvent`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .bounds import MAX_RECORD_LINES
from .tally.sources import Source

_CONTINUATIONS = ("Traceback", "During handling", "The above exception")


class Record:
    """One log record: a JSON line, or a text line with the continuation lines (a traceback) that follow it.

    ``timestamp`` is as written: a text format's string, or whatever value a JSON line carries.
    """

    __slots__ = (
        "host",
        "http",
        "level",
        "lines",
        "logger",
        "message",
        "pid",
        "request_id",
        "skipped",
        "source",
        "stream",
        "timestamp",
        "traceback",
    )

    def __init__(
        self, source: Source, stream: str, timestamp: Any, level: str, pid: int | None, logger: str, message: str
    ) -> None:
        self.source = source  # the input the record came from: its counts go there
        self.stream = stream  # the input, or the input and a kubectl pod (``app.log|pod/blue-7d9c``)
        self.timestamp = timestamp
        self.level = level
        self.pid = pid
        self.logger = logger
        self.message = message
        self.host: str | None = None
        self.request_id: str | None = None
        self.http: dict[str, Any] | None = None
        self.lines: list[str] = []
        self.skipped = 0
        self.traceback = "Traceback (most recent call last)" in message

    def continues_with(self, line: str) -> bool:
        """Whether ``line``, which no reader knows, belongs to this record: inside a traceback, or indented."""
        return self.traceback or not line or line[0] in " \t" or line.startswith(_CONTINUATIONS)

    def add(self, line: str) -> None:
        if len(self.lines) < MAX_RECORD_LINES:
            self.lines.append(line)
        else:  # keep the head and the tail: the exception line is at the end
            self.lines[MAX_RECORD_LINES // 2 + self.skipped % (MAX_RECORD_LINES // 2)] = line
            self.skipped += 1
        if not self.traceback and (
            line.startswith("Traceback (most recent call last)") or line.lstrip().startswith('File "')
        ):
            self.traceback = True  # a traceback, or its frames pasted without the header

    def text(self) -> str:
        if not self.lines:
            return self.message
        lines = self.lines
        if self.skipped:
            half = MAX_RECORD_LINES // 2
            pivot = half + self.skipped % half
            lines = [*lines[:half], f"... [{self.skipped} lines cut] ...", *lines[pivot:], *lines[half:pivot]]
        return "\n".join([self.message, *lines])


@dataclass
class ShimEvent:
    """One of the shim's own events (``shim.init.*``, ``shim.run.*``), its fields checked for their types."""

    name: str
    source: Source
    stream: str
    host: str | None
    pid: int | None
    request_id: str | None
    timestamp: Any  # as the line carries it
    error: dict[str, Any] | None
    diagnosis: str | None
    duration_ms: float | None
    elapsed_ms: float | None  # shim.run.slow: how long the run had been going when the watchdog looked
    phase: str | None
    http: dict[str, Any] | None
