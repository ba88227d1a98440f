"""When the log starts and ends, across formats and inputs; and when its scoring requests do."""

from __future__ import annotations

import re
from datetime import datetime


def sort_key(timestamp: str | None) -> str:
    """A comparable form of the timestamps the formats use (all taken as UTC, as containers run)."""
    if not timestamp:
        return ""
    return timestamp[:19].replace("T", " ") + "." + re.sub(r"\D", "", timestamp[20:26]).ljust(6, "0")


def seconds_between(first: str | None, last: str | None) -> float | None:
    """How long from ``first`` to ``last`` (any of the formats' timestamps), or None when either is not a time."""
    try:
        start = datetime.strptime(sort_key(first), "%Y-%m-%d %H:%M:%S.%f")
        end = datetime.strptime(sort_key(last), "%Y-%m-%d %H:%M:%S.%f")
    except ValueError:
        return None
    return (end - start).total_seconds()


def earliest(*timestamps: str | None) -> str | None:
    """The earliest of the timestamps given (None ignored): inputs are read one after the other, not in time order."""
    known = [timestamp for timestamp in timestamps if timestamp]
    return min(known, key=sort_key) if known else None


def latest(*timestamps: str | None) -> str | None:
    """The latest of the timestamps given (None ignored)."""
    known = [timestamp for timestamp in timestamps if timestamp]
    return max(known, key=sort_key) if known else None


class Timeline:
    """The first and last timestamps seen, and those of the shim's scoring requests.

    The fast path does not read timestamps: it keeps the last ``shim.run.ok`` line whole (`last_json`), sliced only
    when asked, and writes the first one's timestamp of each input into `first` (while `first` is None, which only
    it and `next_input` set). So `first` and `last_json` are the first and last scoring requests the shim logged,
    which the replica sizing needs (`shim.logs.tally.sizing`), at no cost per line; `next_input` keeps the earliest
    and latest over the inputs read so far, which are not read in time order. `note` keeps every other record's
    time: the first in `opening` (unless a ``shim.run.ok`` came before it) and the latest in `last`, which is also
    the time of the record being read (`shim.logs.tally.histogram.Histogram` stamps a scoring request with it).
    """

    def __init__(self) -> None:
        self.opening: str | None = None
        self.first: str | None = None
        self.last: str | None = None
        self.last_json: str | None = None
        self.requests_first: str | None = None  # over the inputs before this one
        self.requests_last: str | None = None

    def note(self, timestamp: str | None) -> None:
        if not timestamp:
            return
        if self.opening is None and self.first is None:
            self.opening = timestamp
        self.last = timestamp

    def first_timestamp(self) -> str | None:
        """The first timestamp read, whichever line carried it."""
        return self.opening or self.first

    def next_input(self) -> None:
        """Another input starts (or ``--follow`` reads another file): the fast path notes its first request anew."""
        if self.opening is None:
            self.opening = self.first  # the log's first timestamp was a shim.run.ok line's
        self.requests_first = earliest(self.requests_first, self.first)
        self.requests_last = latest(self.requests_last, self._last_json_timestamp())
        self.first = None

    def first_request(self) -> str | None:
        """The earliest first ``shim.run.ok`` line's timestamp of the inputs (read by the fast path)."""
        return earliest(self.requests_first, self.first)

    def last_request(self) -> str | None:
        """The latest ``shim.run.ok`` line's timestamp (read by the fast path)."""
        return latest(self.requests_last, self._last_json_timestamp())

    def _last_json_timestamp(self) -> str | None:
        return self.last_json[15:42] if self.last_json else None

    def last_timestamp(self) -> str | None:
        last_json = self._last_json_timestamp()
        if last_json and (self.last is None or sort_key(last_json) > sort_key(self.last)):
            return last_json
        return self.last
