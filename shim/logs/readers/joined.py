"""A paste whose line breaks were lost: several records on one line, split back into their records.

A chat box, a web form or a terminal that wrapped the text joins the lines of a log with spaces:
``2026-11-25 17:27:43,857 I [13738] azmlinfsrv - ... 2026-11-25 17:27:43,860 I [13738] azmlinfsrv - ...``, old
JSON objects ``{...} {...}``, old ``2021-09-28 07:06:41,389 | root | INFO | ...`` lines, runit's lines. Each
record starts with the head of its format (its time, and what follows the time in that format), so the line is
cut before each head that follows a space.

Only lines that neither the fast path nor the JSON reader took get here, and most are let through by one
search for a time of day after the line's own (``:43,857``, ``:25.693640``) and one for a gunicorn head: a line
that continues a traceback or tells a request holds neither. A line is split only when it starts with a head
itself, so that ``kubectl logs --prefix`` and ``--timestamps`` lines keep their prefix. What has no head (a
``print``, a bare gunicorn line of the oldest images) stays with the record before it, as a continuation would.
"""

from __future__ import annotations

import json
import re

# Seconds and their fraction: in every head but gunicorn's (``17:27:43,857``, runit's ``22:56:25,399160286``,
# JSON's ``22:56:25.693640Z``). A literal first character makes the search a fast scan.
SECOND_TIME_RE = re.compile(r":\d\d[,.]\d{3}")
#: In a gunicorn head, whose time has no fraction (``+0000] [13736] [INFO]``).
GUNICORN_MARK = "] ["
_HEAD = (
    r"(?:\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (?:[DIWEC] \[\d+\] \S+ - |\| \S+ +\| \w+ +\| |[A-Z]{4} )"  # server, old
    r"|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d,\d+[+-]\d\d:\d\d [-|] "  # runit
    r"|\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?: [+-]\d{4})?\] \[\d+\] \[[A-Z]+\] "  # gunicorn
    r'|\{"timestamp": ")'  # a JSON line (the shim's, or an old server's)
)
_HEAD_RE = re.compile(_HEAD)
_SPLIT_RE = re.compile(r"\s+(?=" + _HEAD + ")")
_DECODER = json.JSONDecoder()


def split_joined(line: str) -> list[str] | None:
    """The records a line holds when its line breaks were lost; None when it holds one (nearly always).

    Callers on the hot path look for `SECOND_TIME_RE` and `GUNICORN_MARK` first (as this does), and call
    this only for a line that has one, or that starts with a brace.
    """
    if line[:1] == "{":
        return _split_json(line)
    if SECOND_TIME_RE.search(line, 20) is None and GUNICORN_MARK not in line:
        return None
    if _HEAD_RE.match(line) is None:
        return None
    pieces = _SPLIT_RE.split(line.rstrip())
    if len(pieces) == 1:
        return None
    records: list[str] = []
    for piece in pieces:  # a JSON object followed by text that is no record's head: split it off
        records.extend((_split_json(piece) if piece[:1] == "{" else None) or [piece])
    return records


def _split_json(line: str) -> list[str] | None:
    """JSON objects one after the other (``{...} {...}``), and the text after the last one, split the same way."""
    pieces: list[str] = []
    at = 0
    while line.startswith("{", at):
        try:
            _, end = _DECODER.raw_decode(line, at)
        except ValueError:
            break
        pieces.append(line[at:end])
        at = len(line) - len(line[end:].lstrip())
    if not pieces or (len(pieces) == 1 and at >= len(line)):
        return None  # not JSON at all, or one object alone (which the JSON reader would have taken)
    rest = line[at:]
    if rest:
        pieces.extend(split_joined(rest) or [rest])
    return pieces
