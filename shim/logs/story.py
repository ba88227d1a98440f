"""``--request-id``: the lines of one request, from every input and every format, in time order.

A JSON line belongs to the request when its ``request_id`` (or ``client_request_id``) is the id; a text
line when it holds the id as a whole word, and then the record it opens brings its traceback lines along.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .bounds import MAX_STORY_LINES
from .record import Record
from .tally.timeline import sort_key

#: (sort key, order of arrival, input name, lines): one matching record.
StoryEntry = tuple[str, int, str, list[str]]


class Story:
    """The matching records, at most `MAX_STORY_LINES` lines (the rest are counted in ``dropped``)."""

    def __init__(self) -> None:
        self.entries: list[StoryEntry] = []
        self.lines = 0
        self.dropped = 0
        self._arrivals = 0
        # Called with (input, lines) of each matching record once complete: ``--follow`` prints them as they come.
        self.on_story: Callable[[str, list[str]], None] | None = None

    def __len__(self) -> int:
        return len(self.entries)

    def add(self, source: str, timestamp: str, lines: list[str], *, announce: bool = True) -> StoryEntry | None:
        if self.lines >= MAX_STORY_LINES:
            self.dropped += 1
            return None
        self._arrivals += 1
        entry = (sort_key(timestamp), self._arrivals, source, lines)
        self.entries.append(entry)
        self.lines += len(lines)
        if announce and self.on_story is not None:
            self.on_story(source, lines)
        return entry

    def extend(self, entry: StoryEntry, lines: list[str]) -> None:
        """The rest of a text record whose first line is in the story, now that the record is complete."""
        entry[3].extend(lines)
        self.lines += len(lines)
        if self.on_story is not None:
            self.on_story(entry[2], entry[3])

    def sorted_lines(self) -> list[tuple[str, list[str]]]:
        """The request's lines, in time order across inputs (stable within one input)."""
        return [(source, lines) for _, _, source, lines in sorted(self.entries, key=lambda e: (e[0], e[1]))]


class RequestLines:
    """Which lines are the request's: they go to the `Story`, a text record with all its lines."""

    def __init__(self, request_id: str, story: Story) -> None:
        self.request_id = request_id
        self.story = story
        # Text records still open whose first line matched: id(record) -> (its entry, lines already in it).
        self._growing: dict[int, tuple[StoryEntry, int]] = {}

    def add_json(self, source: str, obj: dict[str, Any], line: str) -> None:
        if self.request_id in (obj.get("request_id"), obj.get("client_request_id")):
            self.story.add(source, str(obj.get("timestamp", "")), [line])

    def add_text(self, source: str, line: str, record: Record | None) -> None:
        """A line that holds the id somewhere, and the record it opened or continued (None: a prefixed JSON line)."""
        if not contains_token(line, self.request_id):
            return
        if record is None:  # a JSON line behind a kubectl or docker prefix: '{"timestamp": "...'
            brace = line.find("{")
            self.story.add(source, line[brace + 15 : brace + 42], [line])
            return
        # The record this line opened or continued joins the story, with the traceback lines that follow.
        if id(record) not in self._growing:
            entry = self.story.add(source, record.timestamp or "", [line], announce=False)
            if entry is not None:
                self._growing[id(record)] = (entry, len(record.lines))

    def record_closed(self, record: Record) -> None:
        """A text record is complete: if it is in the story, its last lines join it."""
        growing = self._growing.pop(id(record), None) if self._growing else None
        if growing is not None:
            entry, seen = growing
            self.story.extend(entry, record.lines[seen:])


def contains_token(line: str, token: str) -> bool:
    """``token`` in ``line`` as a whole word (a short id such as ``1`` must not match ``10``)."""
    start = 0
    while True:
        at = line.find(token, start)
        if at < 0:
            return False
        before = line[at - 1 : at] if at else ""
        after = line[at + len(token) : at + len(token) + 1]
        if not _word(before) and not _word(after):
            return True
        start = at + 1


def _word(char: str) -> bool:
    return bool(char) and (char.isalnum() or char in "-_")
