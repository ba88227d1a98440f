"""When the log starts and ends, across formats and inputs."""

from __future__ import annotations

import re


def sort_key(timestamp: str | None) -> str:
    """A comparable form of the timestamps the formats use (all taken as UTC, as containers run)."""
    if not timestamp:
        return ""
    return timestamp[:19].replace("T", " ") + "." + re.sub(r"\D", "", timestamp[20:26]).ljust(6, "0")


class Timeline:
    """The first and last timestamps seen.

    The last ``shim.run.ok`` line is kept whole (`last_json`) and its timestamp sliced only when asked: the fast
    path does not read timestamps.
    """

    def __init__(self) -> None:
        self.first: str | None = None
        self.last: str | None = None
        self.last_json: str | None = None

    def note(self, timestamp: str | None) -> None:
        if not timestamp:
            return
        if self.first is None:
            self.first = timestamp
        self.last = timestamp

    def last_timestamp(self) -> str | None:
        last_json = self.last_json[15:42] if self.last_json else None
        if last_json and (self.last is None or sort_key(last_json) > sort_key(self.last)):
            return last_json
        return self.last
