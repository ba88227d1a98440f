"""The shim's commonest JSON lines, counted by slicing before any reader runs: the hot path.

The shim's ``shim.run.ok`` lines, most of a healthy log, are read here by slicing: their keys are the
shim's own, and a quote inside a JSON value is always escaped, so a key marker cannot occur inside a
value. The request's route and status are counted under the raw slice (``POST", "path": "/score",
"status": 200``) and its latency under the raw number, in dicts that `flush_latency` and the result turn
into numbers: one dict increment each instead of parsing. User log lines and print output at info/debug
are counted without being read, gunicorn's access lines (health probes) are sliced too. Anything else,
or a line whose keys are not where they should be, is left to the readers (``False``).
"""

from __future__ import annotations

from .bounds import MAX_LATENCY_KEYS, MAX_ROUTES
from .tally.sources import Source, count_route, flush_latency, parse_int
from .tally.totals import Tally
from .text import TextReader

_ACCESS_HTTP = 'gunicorn.access", "http": {"method": "'
_NEEDS_PARSE_LOGGERS = ("shim", "gunicorn", "azmlinfsrv")


def read_shim_fast(line: str, source: Source, tally: Tally, text: TextReader) -> bool:
    """A line that starts as the shim's lines do (``{"timestamp": "``); False to read it in full."""
    at = line.find('", "event": "', 40, 90)
    if at < 0:
        return False
    if not line.startswith('shim.run.ok", "logger": "shim"', at + 13):  # the shim's own, not a user's look-alike
        return _read_counted_line(line, source, tally, text, at)
    mark = line.find('"http": {"method": "', at)
    status_at = line.find('", "status": ', mark)
    close = line.find("}", status_at)
    if not (mark > 0 and status_at > 0 and close > 0):
        return False
    key = line[mark + 20 : status_at + 16]
    try:
        source.requests_raw[key] += 1
    except KeyError:
        _new_request_key(source, tally, key, line)
    mark = line.find('"duration_ms": ', status_at, close)
    if mark > 0:
        latency = source.latency_raw
        number = line[mark + 15 : close]
        if len(number) <= 6:
            # 3 significant digits (1 % at most, under the histogram's 4 % buckets):
            # few distinct keys, so the dict stays small and is rarely flushed.
            number = number[:5] if number[0] == "0" else number[:4]
        try:
            latency[number] += 1
        except KeyError:  # a new key: the only time the dict grows
            latency[number] = 1
            if len(latency) > MAX_LATENCY_KEYS:
                flush_latency(source)
    tally.json_lines += 1
    tally.timeline.last_json = line
    return True


def _read_counted_line(line: str, source: Source, tally: Tally, text: TextReader, at: int) -> bool:
    """Any other event at info or debug: counted without being read, unless the shim, the server or gunicorn wrote
    it (their messages mean something); gunicorn's access lines are sliced."""
    # User log lines and print output at info/debug: counted, not parsed.
    if not line.endswith(("info", "debug"), 0, at):
        return False
    logger_at = line.find('", "logger": "', at + 13) + 14
    if logger_at > 13 and (
        not line.startswith(_NEEDS_PARSE_LOGGERS, logger_at) or line.startswith("azmlinfsrv.print", logger_at)
    ):
        tally.json_lines += 1
        return True
    # gunicorn's access lines (health probes, failed requests), as the shim writes them.
    if not (line.startswith(_ACCESS_HTTP, logger_at) and _count_access(line, source, logger_at + len(_ACCESS_HTTP))):
        return False
    if text.open:  # a JSON line ends the text record (a traceback) open on its stream
        text.close(source.name)
    tally.json_lines += 1
    return True


def _count_access(line: str, source: Source, mark: int) -> bool:
    """A JSON access line by slicing; False to parse it in full."""
    status_at = line.find('", "status": ', mark)
    if status_at < 0:
        return False
    try:
        status = int(line[status_at + 13 : status_at + 16])
    except ValueError:
        return False
    method, _, path = line[mark:status_at].partition('", "path": "')
    source.saw_access = True
    source.access[status] += 1
    count_route(source.routes_access, method, path)
    if path == "/score":
        close = line.find("}", status_at)
        duration_at = line.find('"duration_ms": ', status_at, close)
        if duration_at > 0:
            source.latency_access.add(float(line[duration_at + 15 : close]))
    return True


def _new_request_key(source: Source, tally: Tally, key: str, line: str) -> None:
    if tally.timeline.first is None:
        tally.timeline.first = line[15:42]
    if len(source.requests_raw) < MAX_ROUTES * 8:
        source.requests_raw[key] = 1
    else:
        source.status_shim[parse_int(key.rpartition(" ")[2])] += 1
        source.routes_shim["(other)"] += 1
