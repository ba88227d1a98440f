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

import heapq
import io
import json
import math
import os
import re
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TextIO

#: Bounds on what is kept, whatever the size of the log.
MAX_LINE = 1 << 20  # characters of one line; the rest of a longer line is skipped
MAX_RECORD_LINES = 400  # continuation lines kept per text record (head and tail)
MAX_WORKERS = 2000
MAX_GROUPS = 200
MAX_ROUTES = 50
MAX_SAMPLES = 10
MAX_STORY_LINES = 10_000
MAX_RECENT_IDS = 4096
MAX_STREAMS = 1000
MAX_LATENCY_KEYS = 4096
READ_BLOCK = 1 << 18  # characters read at a time

_LEVEL_LETTER = {"D": "debug", "I": "info", "W": "warning", "E": "error", "C": "critical"}

# The server's format: %(asctime)s %(levelname).1s [%(process)d] %(name)s - %(message)s
_SERVER_RE = re.compile(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) ([DIWEC]) \[(\d+)\] (\S+) - (.*)", re.S)
# Old servers (azureml-defaults, inference server 0.x): "2021-09-28 07:06:41,389 | root | INFO | message"
_OLD_SERVER_RE = re.compile(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) \| (\S+) +\| (\w+) +\| (.*)", re.S)
# gunicorn's own format: "[2026-11-25 17:27:42 +0000] [13736] [INFO] Starting gunicorn 27.0.1"
_GUNICORN_RE = re.compile(r"\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)(?: [+-]\d{4})?\] \[(\d+)\] \[(\w+)\] (.*)", re.S)
# gunicorn's access log: '127.0.0.1 - - [25/Nov/2026:17:27:43 +0000] "POST /score HTTP/1.1" 500 92 "-" "ua"'
_ACCESS_RE = re.compile(r'\S+ \S+ \S+ \[[^\]]*\] "(\S+) (\S+)[^"]*" (\d{3}) ')
# The server's own access line: "POST /score 500 2.218ms 92"
_SERVER_ACCESS_RE = re.compile(r"([A-Z]+) (\S.*) (\d{3}) ([\d.]+)ms( \S+)?")
_FRAME_RE = re.compile(r'\s*File "(.+)", line (\d+), in (.+)')
_PID_RE = re.compile(r"pid:? ?(\d+)")
_EXIT_RE = re.compile(r"Worker \(pid:(\d+)\) exited with code (\d+)")
_SIGNAL_RE = re.compile(r"Worker \(pid:(\d+)\) was sent (\w+)!")
# kubectl logs --prefix: "[pod/my-deployment-7d9c/inference-server] ..."
_KUBECTL_PREFIX_RE = re.compile(r"\[(pod/[^\]/]+)(?:/[^\]]*)?\] ")
# docker logs --timestamps / kubectl logs --timestamps: "2026-11-25T17:27:42.123456789Z ..."
_RFC3339_RE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d) ")

_log = math.log
_ACCESS_HTTP = 'gunicorn.access", "http": {"method": "'
_NEEDS_PARSE_LOGGERS = ("shim", "gunicorn", "azmlinfsrv")
_TIMEOUT_TEXTS = ("Scoring timeout after", "Script failed to finish execution within the allocated time")


class Histogram:
    """Latencies in fixed logarithmic buckets (4 % wide): percentiles in constant memory, mergeable."""

    RATIO = 1.04
    LOW_MS = 0.001
    SIZE = 650  # 0.001 ms .. about 100,000 s

    def __init__(self) -> None:
        self.counts = [0] * self.SIZE
        self.count = 0
        self.total = 0.0
        self.low = math.inf
        self.high = 0.0
        self._scale = 1.0 / math.log(self.RATIO)
        self._offset = -math.log(self.LOW_MS) * self._scale

    def add(self, ms: float, count: int = 1) -> None:
        if ms > self.LOW_MS:
            index = int(_log(ms) * self._scale + self._offset)
            if index >= self.SIZE:
                index = self.SIZE - 1
        elif ms >= 0.0:
            index = 0
        else:  # NaN and negatives are not latencies
            return
        self.counts[index] += count
        self.count += count
        self.total += ms * count
        if ms > self.high:
            self.high = ms
        if ms < self.low:
            self.low = ms

    def merge(self, other: Histogram) -> None:
        self.counts = [a + b for a, b in zip(self.counts, other.counts, strict=True)]
        self.count += other.count
        self.total += other.total
        self.low = min(self.low, other.low)
        self.high = max(self.high, other.high)

    def percentile(self, fraction: float) -> float:
        wanted = max(1, math.ceil(fraction * self.count))
        seen = 0
        for index, count in enumerate(self.counts):
            seen += count
            if seen >= wanted:
                # The bucket's geometric middle, clamped to what was really seen.
                value = float(self.LOW_MS * self.RATIO ** (index + 0.5))
                return round(min(max(value, self.low), self.high), 3)
        return round(self.high, 3)

    def as_dict(self) -> dict[str, Any] | None:
        if not self.count:
            return None
        return {
            "count": self.count,
            "mean": round(self.total / self.count, 3),
            "p50": self.percentile(0.50),
            "p90": self.percentile(0.90),
            "p95": self.percentile(0.95),
            "p99": self.percentile(0.99),
            "max": round(self.high, 3),
        }


@dataclass
class Worker:
    """One worker process of one replica, and how its ``init()`` went."""

    replica: str
    pid: int | None
    init: str = "unknown"  # booted | started | ok | failed
    duration_ms: float | None = None
    phase: str | None = None
    error: dict[str, Any] | None = None
    diagnosis: str | None = None
    ended: str | None = None  # how gunicorn saw it end: exit code, signal, WORKER TIMEOUT
    first_seen: str | None = None
    from_shim: bool = False  # the shim's events decided; the server's lines only confirm
    awaiting_error: bool = False  # "User's init function failed": the traceback record comes next

    @property
    def finished(self) -> bool:
        return self.init in ("ok", "failed") or self.ended is not None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"replica": self.replica, "pid": self.pid, "init": self.init}
        for key in ("duration_ms", "phase", "error", "diagnosis", "ended"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out


@dataclass
class Group:
    """Failures of one kind (stage, exception type, place), with a few samples."""

    stage: str
    type: str
    place: str | None
    count: int = 0
    message: str | None = None
    diagnosis: str | None = None
    request_ids: list[str] = field(default_factory=list)
    first: str | None = None
    last: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"stage": self.stage, "type": self.type, "place": self.place, "count": self.count}
        out["message"] = self.message
        if self.diagnosis:
            out["diagnosis"] = self.diagnosis
        out["sample_request_id"] = self.request_ids[0] if self.request_ids else None
        out["request_ids"] = self.request_ids
        out["first"], out["last"] = self.first, self.last
        return out


@dataclass
class _Source:
    """Per input (file or stdin): what is needed to count each request once whatever the format."""

    name: str
    lines: int = 0
    access: Counter[int] = field(default_factory=Counter)  # gunicorn's access lines (+ folded shim.run.ok)
    server: Counter[int] = field(default_factory=Counter)  # the server's access lines (+ shim.run.ok)
    status_shim: Counter[int] = field(default_factory=Counter)  # shim.run.ok lines, which fold both
    routes_shim: Counter[str] = field(default_factory=Counter)
    requests_raw: dict[str, int] = field(default_factory=dict)  # shim.run.ok: route and status, as sliced
    latency_raw: dict[str, int] = field(default_factory=dict)  # shim.run.ok: latencies as written
    latency_shim: Histogram = field(default_factory=Histogram)
    saw_access: bool = False
    saw_server: bool = False
    routes_access: Counter[str] = field(default_factory=Counter)
    routes_server: Counter[str] = field(default_factory=Counter)
    latency_server: Histogram = field(default_factory=Histogram)
    latency_access: Histogram = field(default_factory=Histogram)
    hosts: dict[tuple[str, int], str] = field(default_factory=dict)  # (stream, pid) -> host from JSON lines


#: (stream, host, pid, generation): a worker entry; the generation tells restarts with the same pid apart.
_WorkerKey = tuple[str, str | None, int | None, int]


class _Record:
    """A text record being assembled: its first line and the continuation lines (a traceback) that follow."""

    __slots__ = (
        "level",
        "lines",
        "logger",
        "message",
        "pid",
        "skipped",
        "source",
        "stream",
        "timestamp",
        "traceback",
    )

    def __init__(
        self, stream: str, timestamp: str | None, level: str, pid: int | None, logger: str, message: str
    ) -> None:
        self.stream = stream
        self.source: _Source | None = None  # set by the reader: counts go to the input the record came from
        self.timestamp = timestamp
        self.level = level
        self.pid = pid
        self.logger = logger
        self.message = message
        self.lines: list[str] = []
        self.skipped = 0
        self.traceback = "Traceback (most recent call last)" in message

    def add(self, line: str) -> None:
        if len(self.lines) < MAX_RECORD_LINES:
            self.lines.append(line)
        else:  # keep the head and the tail: the exception line is at the end
            self.lines[MAX_RECORD_LINES // 2 + self.skipped % (MAX_RECORD_LINES // 2)] = line
            self.skipped += 1
        if not self.traceback and line.startswith("Traceback (most recent call last)"):
            self.traceback = True

    def text(self) -> str:
        if not self.lines:
            return self.message
        lines = self.lines
        if self.skipped:
            half = MAX_RECORD_LINES // 2
            pivot = half + self.skipped % half
            lines = [*lines[:half], f"... [{self.skipped} lines cut] ...", *lines[pivot:], *lines[half:pivot]]
        return "\n".join([self.message, *lines])


def analyse_traceback(text: str) -> dict[str, Any] | None:
    """The exception a formatted traceback ends in: type, message and where (the user's innermost frame).

    In a chain (``The above exception was the direct cause ...``) the server's own wrapper
    (``UserScriptException``) is skipped for the exception it wraps, which is the user's.
    """
    segments: list[tuple[list[tuple[str, int, str]], str]] = []
    frames: list[tuple[str, int, str]] = []
    inside = False
    for line in text.split("\n"):
        if "Traceback (most recent call last)" in line:
            frames, inside = [], True
            continue
        if not inside:
            continue
        match = _FRAME_RE.match(line)
        if match:
            frames.append((match.group(1), int(match.group(2)), match.group(3).strip()))
        elif line and not line[0].isspace():
            segments.append((frames, line.strip()))
            inside = False
    if not segments:
        return None
    chosen = segments[-1]
    for segment in reversed(segments):
        if not segment[1].split(":", 1)[0].endswith("UserScriptException"):
            chosen = segment
            break
    frames, line = chosen
    kind, _, message = line.partition(": ")
    if not re.fullmatch(r"[\w.]+", kind):
        kind, message = line, ""
    out: dict[str, Any] = {"type": kind.rstrip(":"), "message": message.strip()}
    user = [frame for frame in frames if not _is_library(frame[0])]
    if user or frames:
        frame = (user or frames)[-1]
        out["where"] = {"file": frame[0], "line": frame[1], "function": frame[2]}
    return out


#: The folders of the shim's own code that run inside the server: their frames are never the user's.
_SHIM_PARTS = ("runtime", "stream", "models")


def _is_library(path: str) -> bool:
    return (
        "/site-packages/" in path
        or "/dist-packages/" in path
        or "/lib/python" in path
        or path.startswith("<")
        or "/shim/_" in path  # score-shim 0.1's flat layout, in logs from containers not yet updated
        or any(f"/shim/{part}/" in path for part in _SHIM_PARTS)
        or path.endswith("score_wrappers/entry.py")
    )


def _place(error: dict[str, Any] | None) -> str | None:
    where = error.get("where") if isinstance(error, dict) else None
    if isinstance(where, dict) and where.get("file"):
        return f"{where['file']}:{where.get('line')}"
    return None


def _is_timeout(error: dict[str, Any] | None, text: str = "") -> bool:
    kind = str(error.get("type", "")) if error else ""
    return (
        kind == "TimeoutError" or kind.endswith("UserScriptTimeout") or any(marker in text for marker in _TIMEOUT_TEXTS)
    )


def sort_key(timestamp: str | None) -> str:
    """A comparable form of the timestamps the formats use (all taken as UTC, as containers run)."""
    if not timestamp:
        return ""
    return timestamp[:19].replace("T", " ") + "." + re.sub(r"\D", "", timestamp[20:26]).ljust(6, "0")


class Summary:
    """The streaming reader: feed it lines (`feed`), then read the summary as data (`result`)."""

    def __init__(self, request_id: str | None = None) -> None:
        self.request_id = request_id
        self.text_records = 0
        self.json_lines = 0
        self.text_lines = 0
        self.sources: list[_Source] = []
        self.source = self._new_source("-")
        self.workers: OrderedDict[_WorkerKey, Worker] = OrderedDict()
        self.workers_dropped = 0
        self.groups: dict[tuple[str, str, str | None], Group] = {}
        self.groups_dropped = 0
        self.slow_count = 0
        self.slowest: list[tuple[float, str, str]] = []  # a min-heap of the slowest runs
        self.timeouts = 0
        self.timeout_samples: list[dict[str, Any]] = []
        self.worker_events: Counter[str] = Counter()
        self.worker_event_samples: list[dict[str, Any]] = []
        self.master_signals: Counter[str] = Counter()
        self.server_starts = 0
        self.first: str | None = None
        self._last_json: str | None = None
        self.last: str | None = None
        self._failed_ids: OrderedDict[str, bool] = OrderedDict()
        self._open: OrderedDict[str, _Record] = OrderedDict()
        self.story: list[tuple[str, int, str, list[str]]] = []
        self.story_lines = 0
        self.story_dropped = 0
        self._story_seq = 0
        self._story_open: dict[int, tuple[tuple[str, int, str, list[str]], int]] = {}
        # The latest worker entry of a (stream, pid) and of a (stream, host, pid).
        self._latest_any: dict[tuple[str, int | None], _WorkerKey] = {}
        self._latest: dict[tuple[str, str, int | None], _WorkerKey] = {}
        self.on_story: Any = None  # called with (source, lines) as a matching record completes (--follow)

    # -- inputs ---------------------------------------------------------------------------------------

    def _new_source(self, name: str) -> _Source:
        source = _Source(name)
        self.sources.append(source)
        return source

    def select_source(self, name: str) -> None:
        """Lines fed from now on come from ``name`` again (``--follow``: records stay open across reads)."""
        for source in self.sources:
            if source.name == name:
                self.source = source
                return
        self.start_source(name, close=False)

    def start_source(self, name: str, *, close: bool = True) -> None:
        """Lines fed from now on come from ``name`` (a file, or ``<stdin>``)."""
        if close:
            self.close_records()
        if self.sources == [self.source] and self.source.lines == 0:
            self.sources.clear()
        self.source = self._new_source(name)

    def feed_lines(self, lines: Iterable[str]) -> None:
        feed = self.feed
        for line in lines:
            feed(line)

    def feed(self, line: str) -> None:
        """One line, without its line ending.

        The shim's ``shim.run.ok`` lines, most of a healthy log, are read here by slicing: their keys are
        the shim's own, and a quote inside a JSON value is always escaped, so a key marker cannot occur
        inside a value. The request's route and status are counted under the raw slice
        (``POST", "path": "/score", "status": 200``) and its latency under the raw number, in dicts that
        `_flush_latency` and `result` turn into numbers: one dict increment each instead of parsing.
        Everything else goes to `_feed_json` or `_feed_text`.
        """
        source = self.source
        source.lines += 1
        if self.request_id is not None and self.request_id in line:
            self._feed_matching(line)
            return
        if line.startswith('{"timestamp": "'):
            at = line.find('", "event": "', 40, 90)
            if at > 0:
                if line.startswith('shim.run.ok"', at + 13):
                    mark = line.find('"http": {"method": "', at)
                    status_at = line.find('", "status": ', mark)
                    close = line.find("}", status_at)
                    if mark > 0 and status_at > 0 and close > 0:
                        key = line[mark + 20 : status_at + 16]
                        try:
                            source.requests_raw[key] += 1
                        except KeyError:
                            self._new_request_key(source, key, line)
                        mark = line.find('"duration_ms": ', status_at, close)
                        if mark > 0:
                            latency = source.latency_raw
                            number = line[mark + 15 : close]
                            if len(number) <= 6:
                                # 3 significant digits (1 % at most, under the histogram's 4 % buckets):
                                # few distinct keys, so the dict stays small and is rarely flushed.
                                number = number[:5] if number[0] == "0" else number[:4]
                            latency[number] = latency.get(number, 0) + 1
                            if len(latency) > MAX_LATENCY_KEYS:
                                _flush_latency(source)
                        self.json_lines += 1
                        self._last_json = line
                        return
                # User log lines and print output at info/debug: counted, not parsed.
                elif line.endswith(("info", "debug"), 0, at):
                    logger_at = line.find('", "logger": "', at + 13) + 14
                    if logger_at > 13 and (
                        not line.startswith(_NEEDS_PARSE_LOGGERS, logger_at)
                        or line.startswith("azmlinfsrv.print", logger_at)
                    ):
                        self.json_lines += 1
                        return
                    # gunicorn's access lines (health probes, failed requests), as the shim writes them.
                    if line.startswith(_ACCESS_HTTP, logger_at) and self._fast_access(
                        source, line, logger_at + len(_ACCESS_HTTP)
                    ):
                        return
        if line[:1] == "{" and self._feed_json(line, source.name):
            return
        self._feed_text(line)

    def _fast_access(self, source: _Source, line: str, mark: int) -> bool:
        """A JSON access line by slicing (see `feed`); False to parse it in full."""
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
        _route(source.routes_access, method, path)
        if path == "/score":
            close = line.find("}", status_at)
            duration_at = line.find('"duration_ms": ', status_at, close)
            if duration_at > 0:
                source.latency_access.add(float(line[duration_at + 15 : close]))
        if self._open:
            self._close(source.name)
        self.json_lines += 1
        return True

    def _new_request_key(self, source: _Source, key: str, line: str) -> None:
        if self.first is None:
            self.first = line[15:42]
        if len(source.requests_raw) < MAX_ROUTES * 8:
            source.requests_raw[key] = 1
        else:
            source.status_shim[_int(key.rpartition(" ")[2])] += 1
            source.routes_shim["(other)"] += 1

    # -- JSON lines -------------------------------------------------------------------------------------

    def _feed_json(self, line: str, stream: str) -> bool:
        try:
            value = json.loads(line)
        except ValueError:
            return False
        if not isinstance(value, dict):
            return False
        if self._open:  # a JSON line ends the text record (a traceback) open on its stream
            self._close(stream)
        self.json_lines += 1
        self._on_json(value, stream)
        return True

    def _count_run_ok(self, status: int | None, method: str | None, path: str | None, ms: float) -> None:
        source = self.source
        if status is not None:
            # Folded: this one line stands for the server's and gunicorn's access lines.
            source.status_shim[status] += 1
            _route(source.routes_shim, method, path)
        source.latency_shim.add(ms)

    def _note_time(self, timestamp: str | None) -> None:
        if not timestamp:
            return
        if self.first is None:
            self.first = timestamp
        self.last = timestamp

    def _on_json(self, obj: dict[str, Any], stream: str) -> None:
        event = obj.get("event")
        event = event if isinstance(event, str) else str(event)
        timestamp = obj.get("timestamp")
        self._note_time(timestamp if isinstance(timestamp, str) else None)
        pid = obj.get("pid") if isinstance(obj.get("pid"), int) else None
        host = obj.get("host") if isinstance(obj.get("host"), str) else None
        if host is not None and pid is not None and len(self.source.hosts) < MAX_WORKERS:
            self.source.hosts[(stream, pid)] = host
        request_id = obj.get("request_id") if isinstance(obj.get("request_id"), str) else None
        if event.startswith("shim."):
            self._on_shim_event(event, obj, stream, host, pid, request_id, timestamp)
            return
        logger = str(obj.get("logger", ""))
        http = obj.get("http") if isinstance(obj.get("http"), dict) else None
        self._on_message(stream, host, pid, logger, str(obj.get("level", "")), event, request_id, http, timestamp)

    def _on_shim_event(
        self,
        event: str,
        obj: dict[str, Any],
        stream: str,
        host: str | None,
        pid: int | None,
        request_id: str | None,
        timestamp: Any,
    ) -> None:
        error = obj.get("error") if isinstance(obj.get("error"), dict) else None
        diagnosis = obj.get("diagnosis") if isinstance(obj.get("diagnosis"), str) else None
        duration = obj.get("duration_ms")
        duration = float(duration) if isinstance(duration, (int, float)) else None
        if event == "shim.run.ok":
            http: dict[str, Any] = obj["http"] if isinstance(obj.get("http"), dict) else {}
            status = http.get("status") if isinstance(http.get("status"), int) else None
            request_ms = http.get("duration_ms", duration)
            self._count_run_ok(
                status,
                http.get("method"),
                http.get("path"),
                float(request_ms) if isinstance(request_ms, (int, float)) else 0.0,
            )
        elif event == "shim.run.failed":
            if request_id:
                self._failed_ids[request_id] = True
                if len(self._failed_ids) > MAX_RECENT_IDS:
                    self._failed_ids.popitem(last=False)
            self._failure("run", error, request_id, timestamp, diagnosis)
            if _is_timeout(error):
                self._timeout(stream, host, pid, request_id, timestamp, duration)
        elif event == "shim.run.slow":
            self.slow_count += 1
            elapsed = obj.get("elapsed_ms")  # how long the run had been going when the watchdog looked
            if isinstance(elapsed, (int, float)):
                duration = float(elapsed)
            if duration is not None:
                item = (duration, request_id or "", str(timestamp or ""))
                if len(self.slowest) < MAX_SAMPLES:
                    heapq.heappush(self.slowest, item)
                else:
                    heapq.heappushpop(self.slowest, item)
        elif event.startswith("shim.init."):
            worker = self._worker(stream, host, pid, timestamp, fresh=event == "shim.init.start")
            if worker is None:
                return
            if event == "shim.init.start":
                worker.init = "started"
            elif event == "shim.init.ok":
                worker.init, worker.duration_ms, worker.from_shim = "ok", duration, True
            elif event == "shim.init.failed":
                worker.init, worker.from_shim = "failed", True
                worker.duration_ms = duration
                worker.phase = obj.get("phase") if isinstance(obj.get("phase"), str) else None
                worker.error = _short_error(error)
                worker.diagnosis = diagnosis
                self._failure("init", error, None, timestamp, diagnosis)

    # -- text lines ------------------------------------------------------------------------------------

    def _feed_text(self, line: str) -> _Record | None:
        """A line that is not one of the shim's JSON lines; returns the record it opened or continued."""
        stream = self.source.name
        collected: str | None = None
        if line[:5] == "[pod/":
            match = _KUBECTL_PREFIX_RE.match(line)
            if match:
                stream = f"{stream}|{match.group(1)}"
                line = line[match.end() :]
        if len(line) > 20 and line[10:11] == "T" and line[4:5] == "-":
            match = _RFC3339_RE.match(line)
            if match:
                collected = match.group(0)[:-1]
                line = line[match.end() :]
        # A JSON line behind a kubectl or docker prefix.
        if (stream != self.source.name or collected) and line[:1] == "{" and self._feed_json(line, stream):
            return None
        self.text_lines += 1
        record = self._parse_record(stream, line)
        if record is None:
            current = self._open.get(stream)
            if current is not None and (
                current.traceback
                or not line
                or line[0] in " \t"
                or line.startswith(("Traceback", "During handling", "The above exception"))
            ):
                current.add(line)
                return current
            record = _Record(stream, collected, "", None, "", line)
        elif collected:
            record.timestamp = collected
        self._close(stream)
        record.source = self.source
        self._open[stream] = record
        if len(self._open) > MAX_STREAMS:
            self._close(next(iter(self._open)))
        return record

    def _parse_record(self, stream: str, line: str) -> _Record | None:
        first = line[:1]
        if first.isdigit():
            match = _SERVER_RE.match(line)
            if match:
                timestamp, letter, pid, logger, message = match.groups()
                return _Record(stream, timestamp, _LEVEL_LETTER[letter], int(pid), logger, message)
            match = _OLD_SERVER_RE.match(line)
            if match:
                timestamp, logger, level, message = match.groups()
                return _Record(stream, timestamp, level.lower(), None, logger, message)
        elif first == "[":
            match = _GUNICORN_RE.match(line)
            if match:
                timestamp, pid, level, message = match.groups()
                return _Record(stream, timestamp, level.lower(), int(pid), "gunicorn.error", message)
        return None

    def close_records(self) -> None:
        """Finish every record still open (at the end of an input)."""
        for stream in list(self._open):
            self._close(stream)

    def _close(self, stream: str) -> None:
        record = self._open.pop(stream, None)
        if record is None:
            return
        if record.source is not None and record.source is not self.source:
            current, self.source = self.source, record.source
            try:
                self._close_record(stream, record)
            finally:
                self.source = current
        else:
            self._close_record(stream, record)

    def _close_record(self, stream: str, record: _Record) -> None:
        self.text_records += 1
        self._note_time(record.timestamp)
        story = self._story_open.pop(id(record), None)
        if story is not None:
            entry, seen = story
            more = record.lines[seen:]
            entry[3].extend(more)
            self.story_lines += len(more)
            if self.on_story is not None:
                self.on_story(entry[2], entry[3])
        pid = record.pid
        host = self.source.hosts.get((stream, pid)) if pid is not None else None
        if not record.logger and record.message[:1].isdigit() and _ACCESS_RE.match(record.message):
            record.logger = "gunicorn.access"
        message = record.text() if record.lines else record.message
        self._on_message(stream, host, pid, record.logger, record.level, message, None, None, record.timestamp)

    # -- what a message means, whatever its format ----------------------------------------------------

    def _on_message(
        self,
        stream: str,
        host: str | None,
        pid: int | None,
        logger: str,
        level: str,
        message: str,
        request_id: str | None,
        http: dict[str, Any] | None,
        timestamp: Any,
    ) -> None:
        source = self.source
        if logger == "gunicorn.access":
            self._access(message, http)
            return
        server = not logger or logger.startswith(("azmlinfsrv", "root"))
        if server and self._server_message(stream, host, pid, logger, message, request_id, timestamp):
            return
        if not logger or logger.startswith("gunicorn"):
            self._gunicorn(stream, host, pid, message, timestamp)
        elif logger == "root" and len(message) == 3 and message.isdigit():
            source.saw_server = True  # old servers: "... | root | INFO | 200"
            source.server[int(message)] += 1

    def _access(self, message: str, http: dict[str, Any] | None) -> None:
        source = self.source
        source.saw_access = True
        status = http.get("status") if http else None
        method, path = (http.get("method"), http.get("path")) if http else (None, None)
        if not isinstance(status, int):
            match = _ACCESS_RE.match(message)
            if not match:
                return
            method, path, status = match.group(1), match.group(2), int(match.group(3))
        source.access[status] += 1
        duration = http.get("duration_ms") if http else None
        if isinstance(duration, (int, float)) and path == "/score":
            source.latency_access.add(float(duration))
        _route(source.routes_access, method, path)

    def _server_message(
        self,
        stream: str,
        host: str | None,
        pid: int | None,
        logger: str,
        message: str,
        request_id: str | None,
        timestamp: Any,
    ) -> bool:
        """The server's own lines (``azmlinfsrv*``); False when the message is not one of them."""
        if (
            message.startswith("Encountered Exception") or "Traceback (most recent call last)" in message[:200]
        ) and not message.startswith("Exception in worker process"):
            self._server_exception(stream, host, pid, message, request_id, timestamp)
            return True
        if message[:1].isupper() and " " in message and message[-1:].isdigit():
            match = _SERVER_ACCESS_RE.fullmatch(message)
            if match:
                source = self.source
                source.saw_server = True
                source.server[int(match.group(3))] += 1
                if match.group(2) == "/score":
                    source.latency_server.add(float(match.group(4)))
                _route(source.routes_server, match.group(1), match.group(2))
                return True
        if message.startswith("Invoking user's init function"):
            worker = self._worker(stream, host, pid, timestamp, fresh=True)
            if worker is not None and worker.init in ("unknown", "booted"):
                worker.init = "started"
            return True
        if message.startswith("Users's init has completed successfully"):
            worker = self._worker(stream, host, pid, timestamp)
            if worker is not None and not worker.from_shim:
                worker.init = "ok"
            return True
        if message.startswith("User's init function failed"):
            worker = self._worker(stream, host, pid, timestamp)
            if worker is not None and not worker.from_shim:
                worker.init = "failed"
                worker.awaiting_error = True
            return True
        return False

    def _server_exception(
        self, stream: str, host: str | None, pid: int | None, text: str, request_id: str | None, timestamp: Any
    ) -> None:
        error = analyse_traceback(text)
        key = self._latest_any.get((stream, pid))
        worker = self.workers.get(key) if key is not None else None
        if worker is not None and worker.awaiting_error:
            worker.awaiting_error = False
            worker.error = _short_error(error)
            self._failure("init", error, None, timestamp, None)
            return
        if worker is not None and worker.from_shim and worker.init == "failed" and not request_id:
            return  # the shim's shim.init.failed told this one already
        if request_id and request_id in self._failed_ids:
            return  # the shim's shim.run.failed told this one already, with the user's stack
        self._failure("run", error, request_id, timestamp, None)
        if _is_timeout(error, text):
            self._timeout(stream, host, pid, request_id, timestamp, None)

    def _gunicorn(self, stream: str, host: str | None, pid: int | None, message: str, timestamp: Any) -> None:
        if message.startswith("Booting worker with pid: "):
            match = _PID_RE.search(message)
            if match:
                worker = self._worker(stream, host, int(match.group(1)), timestamp, fresh=True)
                if worker is not None and worker.init == "unknown":
                    worker.init = "booted"
        elif message.startswith("Starting gunicorn"):
            self.server_starts += 1
        elif message.startswith("WORKER TIMEOUT"):
            self._worker_event("WORKER TIMEOUT", stream, host, _PID_RE.search(message), timestamp, message)
        elif message.startswith("Worker (pid:"):
            exited = _EXIT_RE.match(message)
            if exited:
                kind = f"exited with code {exited.group(2)}"
                self._worker_event(kind, stream, host, exited, timestamp, message)
                return
            signalled = _SIGNAL_RE.match(message)
            if signalled:
                name = signalled.group(2)
                kind = "SIGKILL (out of memory?)" if name == "SIGKILL" else f"sent {name}"
                self._worker_event(kind, stream, host, signalled, timestamp, message)
        elif message.startswith("Worker exiting"):
            self.worker_events["exiting"] += 1
        elif message.startswith("Handling signal: "):
            self.master_signals[message[len("Handling signal: ") :].strip()] += 1
        elif message.startswith("Reason: "):
            kind = message[len("Reason: ") :].split("\n", 1)[0].strip().rstrip(".")
            self._worker_event(kind, stream, host, None, timestamp, message)
        elif message.startswith("Exception in worker process"):
            # Old servers: init() raised through gunicorn's worker boot.
            error = analyse_traceback(message)
            worker = self._worker(stream, host, pid, timestamp)
            if worker is not None and not worker.from_shim:
                worker.init = "failed"
                worker.error = _short_error(error)
            self._failure("init", error, None, timestamp, None)

    # -- bounded bookkeeping ----------------------------------------------------------------------------

    def _worker(
        self, stream: str, host: str | None, pid: int | None, timestamp: Any, *, fresh: bool = False
    ) -> Worker | None:
        """The worker ``pid`` of a replica; lines without a host name join the one that has it.

        ``fresh`` (a worker boots, init() starts): when the worker with that pid had finished (a container
        restarted and its new worker got the same pid, as in a crash loop), a new entry starts.
        """
        index = (stream, pid)
        key = self._latest_any.get(index) if host is None else self._latest.get((stream, host, pid))
        if key is None and host is not None:
            anonymous = self._latest_any.get(index)
            if anonymous is not None and anonymous[1] is None and anonymous in self.workers:
                # Made from text lines before a JSON line named the host: it is this host's.
                adopted = self.workers.pop(anonymous)
                adopted.replica = host
                key = (stream, host, pid, anonymous[3])
                self.workers[key] = adopted
        worker: Worker | None = self.workers.get(key) if key is not None else None
        if worker is not None and fresh and worker.finished:
            worker = None
        if worker is None:
            if len(self.workers) >= MAX_WORKERS:
                self.workers_dropped += 1
                return None
            generation = key[3] + 1 if key is not None else 0
            key = (stream, host if host is not None else (key[1] if key else None), pid, generation)
            worker = self.workers[key] = Worker(
                _display(stream, key[1]), pid, first_seen=str(timestamp) if timestamp else None
            )
        assert key is not None
        self._latest_any[index] = key
        if key[1] is not None:
            self._latest[(stream, key[1], pid)] = key
        return worker

    def _worker_event(self, kind: str, stream: str, host: str | None, match: Any, timestamp: Any, message: str) -> None:
        self.worker_events[kind] += 1
        pid = int(match.group(1)) if match is not None else None
        if pid is not None:
            key = self._latest_any.get((stream, pid))
            worker = self.workers.get(key) if key is not None else None
            if worker is not None and worker.ended is None:
                worker.ended = kind
        if len(self.worker_event_samples) < MAX_SAMPLES * 5:
            self.worker_event_samples.append(
                {
                    "kind": kind,
                    "replica": _display(stream, host),
                    "pid": pid,
                    "timestamp": timestamp,
                    "message": message.split("\n", 1)[0][:300],
                }
            )

    def _failure(
        self,
        stage: str,
        error: dict[str, Any] | None,
        request_id: str | None,
        timestamp: Any,
        diagnosis: str | None,
    ) -> None:
        kind = str(error.get("type", "unknown")) if error else "unknown"
        place = _place(error)
        key = (stage, kind, place)
        group = self.groups.get(key)
        if group is None:
            if len(self.groups) >= MAX_GROUPS:
                self.groups_dropped += 1
                return
            message = str(error.get("message", ""))[:500] if error else None
            group = self.groups[key] = Group(stage, kind, place, message=message, diagnosis=diagnosis)
            group.first = str(timestamp) if timestamp else None
        group.count += 1
        if timestamp:
            group.last = str(timestamp)
        if request_id and len(group.request_ids) < MAX_SAMPLES:
            group.request_ids.append(request_id)

    def _timeout(
        self,
        stream: str,
        host: str | None,
        pid: int | None,
        request_id: str | None,
        timestamp: Any,
        duration: float | None,
    ) -> None:
        self.timeouts += 1
        if len(self.timeout_samples) < MAX_SAMPLES:
            self.timeout_samples.append(
                {
                    "request_id": request_id,
                    "replica": _display(stream, host),
                    "pid": pid,
                    "timestamp": timestamp,
                    "duration_ms": duration,
                }
            )

    # -- --request-id ---------------------------------------------------------------------------------

    def _feed_matching(self, line: str) -> None:
        """A line that contains the request id: its story, and whatever it means for the summary."""
        if line[:1] == "{":
            try:
                obj = json.loads(line)
            except ValueError:
                obj = None
            if isinstance(obj, dict):
                if self.request_id in (obj.get("request_id"), obj.get("client_request_id")):
                    self._story_add(str(obj.get("timestamp", "")), [line])
                self.json_lines += 1
                self._on_json(obj, self.source.name)
                return
        record = self._feed_text(line)
        if not _contains_token(line, self.request_id or ""):
            return
        if record is None:  # a JSON line behind a kubectl or docker prefix: '{"timestamp": "...'
            brace = line.find("{")
            self._story_add(line[brace + 15 : brace + 42], [line])
            return
        # The record this line opened or continued joins the story, with the traceback lines that follow.
        if id(record) not in self._story_open:
            entry = self._story_add(record.timestamp or "", [line], announce=False)
            if entry is not None:
                self._story_open[id(record)] = (entry, len(record.lines))

    def _story_add(
        self, timestamp: str, lines: list[str], *, announce: bool = True
    ) -> tuple[str, int, str, list[str]] | None:
        if self.story_lines >= MAX_STORY_LINES:
            self.story_dropped += 1
            return None
        self._story_seq += 1
        entry = (sort_key(timestamp), self._story_seq, self.source.name, lines)
        self.story.append(entry)
        self.story_lines += len(lines)
        if announce and self.on_story is not None:
            self.on_story(self.source.name, lines)
        return entry

    # -- the result -------------------------------------------------------------------------------------

    def result(self) -> dict[str, Any]:
        """The summary as data (what ``--json`` prints); does not close open records (see `close_records`)."""
        by_status: Counter[int] = Counter()
        routes: Counter[str] = Counter()
        latency = Histogram()
        for source in self.sources:
            # Each request once: shim.run.ok lines (which fold the access lines), plus gunicorn's access
            # lines when the input has them, else the server's.
            use_access = source.saw_access or not source.saw_server
            by_status.update(source.status_shim)
            by_status.update(source.access if use_access else source.server)
            routes.update(source.routes_shim)
            for raw, count in source.requests_raw.items():
                method, _, rest = raw.partition('", "path": "')
                path, _, status = rest.rpartition('", "status": ')
                by_status[_int(status)] += count
                _route(routes, method, path, count)
            _flush_latency(source)
            routes.update(source.routes_access if use_access else source.routes_server)
            latency.merge(source.latency_shim)
            use_server = source.saw_server or not source.saw_access
            latency.merge(source.latency_server if use_server else source.latency_access)
        workers = [worker.as_dict() for worker in self.workers.values()]
        init = Counter(worker["init"] for worker in workers)
        groups = sorted(self.groups.values(), key=lambda g: (-g.count, g.stage, g.type))
        return {
            "lines": sum(source.lines for source in self.sources),
            "records": self.json_lines + self.text_records,
            "json_lines": self.json_lines,
            "text_lines": self.text_lines,
            "sources": [{"name": s.name, "lines": s.lines} for s in self.sources],
            "first_timestamp": self.first,
            "last_timestamp": self._last_timestamp(),
            "init": dict(init),
            "workers": workers,
            "workers_not_shown": self.workers_dropped,
            "requests": {
                "total": sum(by_status.values()),
                "by_status": {str(code): count for code, count in sorted(by_status.items())},
                "by_route": dict(routes.most_common(MAX_ROUTES)),
            },
            "latency_ms": latency.as_dict(),
            "failures": [group.as_dict() for group in groups],
            "failure_groups_not_shown": self.groups_dropped,
            "slow_runs": {
                "count": self.slow_count,
                "slowest": [
                    {"duration_ms": d, "request_id": r or None, "timestamp": t or None}
                    for d, r, t in sorted(self.slowest, reverse=True)
                ],
            },
            "timeouts": {"count": self.timeouts, "samples": self.timeout_samples},
            "worker_events": {
                "counts": dict(self.worker_events),
                "master_signals": dict(self.master_signals),
                "server_starts": self.server_starts,
                "samples": self.worker_event_samples,
            },
        }

    def _last_timestamp(self) -> str | None:
        last_json = self._last_json[15:42] if self._last_json else None
        if last_json and (self.last is None or sort_key(last_json) > sort_key(self.last)):
            return last_json
        return self.last

    def story_lines_sorted(self) -> list[tuple[str, list[str]]]:
        """The request's lines, in time order across inputs (stable within one input)."""
        return [(source, lines) for _, _, source, lines in sorted(self.story, key=lambda e: (e[0], e[1]))]


def _route(routes: Counter[str], method: Any, path: Any, count: int = 1) -> None:
    if not isinstance(path, str):
        return
    key = f"{method or '?'} {path.split('?', 1)[0]}"
    if key in routes or len(routes) < MAX_ROUTES:
        routes[key] += count
    else:
        routes["(other)"] += count


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        return 0


def _flush_latency(source: _Source) -> None:
    """Move the raw latencies of ``shim.run.ok`` lines into the histogram (bounded, called as it fills)."""
    add = source.latency_shim.add
    for number, count in source.latency_raw.items():
        try:
            value = float(number)
        except ValueError:
            continue
        add(value, count)
    source.latency_raw.clear()


def _display(stream: str, host: str | None) -> str:
    """How a replica is named: its host name, else the pod of a ``kubectl logs --prefix`` line, else the input."""
    if host:
        return host
    return stream.split("|", 1)[1] if "|" in stream else stream


def _short_error(error: dict[str, Any] | None) -> dict[str, Any] | None:
    if not error:
        return None
    return {key: error[key] for key in ("type", "message", "where") if key in error}


def _contains_token(line: str, token: str) -> bool:
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
