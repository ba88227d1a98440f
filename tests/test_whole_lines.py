"""Whole lines across processes: no line of any worker or the master is ever torn by another's (issue 12).

Finding 4: with several workers writing to one pipe (every container's stdout), lines longer than the
pipe's atomic size (PIPE_BUF, 4,096 bytes) interleaved, and requests lost their line. Finding 8: the
``shim.output.fallback`` line lacked the head keys every line starts with.

The server test reads the real server's stdout through a pipe, as a container runtime does; the fast
tests start real processes that write through `LineWriter` to one pipe, socket, FIFO or file.

What no lock of the shim covers: the server's own ``print("Initializing logger")`` when a worker boots,
before any logging exists. With PYTHONUNBUFFERED (this machine, many images) it reaches the pipe as two
writes, the text and its newline: another process's line can land between them, and either one, being
unlocked, can land inside another process's long line. The server test therefore starts its load once
every worker has booted, and takes that text out before it judges a line.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import httpx
import pytest

from shim.cli.serve import LOOPBACK, ServeOptions, start, stop, wait_until_healthy
from shim.stream import output
from shim.stream.processors import HEAD_KEYS
from tests._server import STARTUP_SECONDS, free_port

ROOT = Path(__file__).resolve().parent.parent

# -- helpers: one reader for a pipe, the lines that are not whole JSON objects ------------------------------


@dataclass
class _Collected:
    """Every line read from a stream, and how many of them were ``shim.run.failed`` (counted as they come)."""

    lines: list[bytes] = field(default_factory=list)
    failed_lines: int = 0


#: The reader takes a page at a time with a pause between pages, as a busy log collector does: the pipe fills
#: up, and a long line goes into it in pieces (with a reader that always keeps up, most lines fit at once).
READ_BYTES = 4096
READ_PAUSE_S = 0.0002


def _read_lines(stream: IO[bytes], into: _Collected) -> None:
    pieces: list[bytes] = []  # of the line not yet ended
    while chunk := os.read(stream.fileno(), READ_BYTES):
        *ends, rest = chunk.split(b"\n")
        for end in ends:
            line = b"".join([*pieces, end, b"\n"])
            pieces = []
            into.lines.append(line)
            if b'"event": "shim.run.failed"' in line:
                into.failed_lines += 1
        pieces.append(rest)
        time.sleep(READ_PAUSE_S)
    if any(pieces):
        into.lines.append(b"".join(pieces))


def _reader(stream: IO[bytes]) -> tuple[_Collected, threading.Thread]:
    collected = _Collected()
    thread = threading.Thread(target=_read_lines, args=(stream, collected), daemon=True)
    thread.start()
    return collected, thread


#: The text the server prints in each worker as it boots, before any logging exists: a bare ``print`` that no
#: lock of the shim covers (see the module's docstring). Taken out before a line is judged: the workers' prints
#: can land on each other or at the start of a line, as the workers boot together.
SERVER_PRINT = b"Initializing logger"


def _objects(lines: list[bytes]) -> tuple[list[dict[str, Any]], list[bytes]]:
    """The lines that are one whole JSON object each, and the others (torn, merged or cut lines)."""
    objects, torn = [], []
    for line in lines:
        line = line.replace(SERVER_PRINT, b"") if SERVER_PRINT in line else line
        if line == b"\n":  # what is left of the print: its text and its newline come as two writes
            continue
        try:
            value = json.loads(line)
        except ValueError:
            value = None
        if isinstance(value, dict) and line.endswith(b"\n"):
            objects.append(value)
        else:
            torn.append(line)
    return objects, torn


def _shown(torn: list[bytes]) -> list[str]:
    return [f"{len(line)} bytes: {line[:80]!r} ... {line[-80:]!r}" for line in torn[:3]]


# -- finding 4: the real server, 4 workers, stdout a pipe, every run() failing with a 30 KB message --------

WORKERS = 4
THREADS = 8
PER_THREAD = 250
LOAD_DEADLINE_S = 150.0
LINES_DEADLINE_S = 60.0


@contextmanager
def _server_on_a_pipe(script: Path, workers: int) -> Iterator[tuple[str, _Collected, _Collected]]:
    """The real server with the shim, its stdout and stderr pipes read by this test as a container runtime does."""
    port = free_port()
    options = ServeOptions(
        script=script,
        port=port,
        workers=workers,
        env={"SCORE_SHIM_LOG_FORMAT": "json", "AML_APP_ROOT": str(script.parent)},
    )
    process = start(options, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=str(script.parent))
    assert process.stdout is not None and process.stderr is not None
    out, out_thread = _reader(process.stdout)
    err, err_thread = _reader(process.stderr)
    try:
        healthy = wait_until_healthy(process, port, STARTUP_SECONDS)
        assert healthy, f"server did not start (exit {process.poll()}): {b''.join(out.lines[-20:])[-4000:]!r}"
        # Every worker has booted, and printed its text (see SERVER_PRINT), before the load starts.
        assert _wait_for(lambda: _ready_workers(out) == workers, STARTUP_SECONDS), b"".join(out.lines)[-4000:]
        yield f"http://{LOOPBACK}:{port}", out, err
    finally:
        stop(process, grace=20)
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        out_thread.join(timeout=30)
        err_thread.join(timeout=30)


def _ready_workers(out: _Collected) -> int:
    return sum(b'"event": "Worker with pid' in line and b"ready for serving traffic" in line for line in out.lines[:])


def _wait_for(predicate: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.05)
    return predicate()


def _fail_requests(url: str, thread: int, deadline: float) -> list[tuple[str, int]]:
    answers = []
    with httpx.Client(base_url=url, timeout=60) as client:
        for index in range(PER_THREAD):
            if time.monotonic() > deadline:
                break
            request_id = f"tear-{thread}-{index}"
            response = client.post("/score", json={"tag": request_id}, headers={"x-request-id": request_id})
            answers.append((request_id, response.status_code))
    return answers


@pytest.mark.server
@pytest.mark.slow
@pytest.mark.timeout(LOAD_DEADLINE_S + LINES_DEADLINE_S + 2 * STARTUP_SECONDS)
def test_finding_4_lines_never_tear_between_workers(scripts: Path) -> None:
    total = THREADS * PER_THREAD
    with _server_on_a_pipe(scripts / "big_failures.py", WORKERS) as (url, out, err):
        deadline = time.monotonic() + LOAD_DEADLINE_S
        with ThreadPoolExecutor(max_workers=THREADS) as pool:
            futures = [pool.submit(_fail_requests, url, thread, deadline) for thread in range(THREADS)]
            answers = [answer for future in futures for answer in future.result(timeout=LOAD_DEADLINE_S + 60)]
        assert len(answers) == total, f"only {len(answers)} of {total} requests were sent before the deadline"
        assert {status for _, status in answers} == {500}
        lines_deadline = time.monotonic() + LINES_DEADLINE_S
        while out.failed_lines < total and time.monotonic() < lines_deadline:
            time.sleep(0.2)
    objects, torn = _objects(out.lines)
    assert not torn, f"{len(torn)} torn lines of {len(out.lines)}: {_shown(torn)}"
    assert not err.lines, err.lines[:3]
    failed = [line for line in objects if line["event"] == "shim.run.failed"]
    per_request = Counter(line.get("request_id") for line in failed)
    lost = {request_id for request_id, _ in answers} - set(per_request)
    assert not lost, f"{len(lost)} of {total} failing requests have no shim.run.failed line"
    assert set(per_request.values()) == {1}, per_request.most_common(3)
    # Each line carries its own request's message, not a neighbour's: nothing was spliced into it.
    assert all(line["error"]["message"].startswith(f"{line['request_id']} ") for line in failed)
    assert len({line["pid"] for line in failed}) > 1, "only one worker served: the test proved nothing"


# -- the same in a few processes, without the server: pipes, sockets, FIFOs, files ---------------------------

#: Lines longer than a pipe's whole capacity (64 KiB), and short ones that fit in one atomic write: a short
#: atomic write from one process could land in the middle of another process's long one.
LONG_CHARS = 150_000
LINES_EACH = 100

_WRITER = """
import json, os, sys
from shim.stream import output
from shim.stream.output import LineWriter
# What is tested here is the lock; its bound (LOCK_WAIT_S, tested below) is a safety valve for a stopped
# holder, and on a loaded machine a slow reader can hold a 150 kB write past 1 s: lift it for these writers.
output.LOCK_WAIT_S = 60.0
who, lines, long_chars, path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
stream = open(path, "w", encoding="utf-8") if path != "-" else None  # "-": the inherited stdout
writer = LineWriter(stream)
for index in range(lines):
    pad = "x" * (long_chars if index % 2 == 0 else 10)
    writer.write_line(json.dumps({"who": who, "index": index, "pad": pad}))
"""


def _writers(count: int, stdout: int | None, path: str = "-") -> list[subprocess.Popen[bytes]]:
    return [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, f"w{who}", str(LINES_EACH), str(LONG_CHARS), path],
            stdout=stdout,
            cwd=str(ROOT),
        )
        for who in range(count)
    ]


def _assert_whole(lines: list[bytes], writers: int) -> None:
    objects, torn = _objects(lines)
    assert not torn, f"{len(torn)} torn lines of {len(lines)}: {_shown(torn)}"
    for who in range(writers):
        indexes = [line["index"] for line in objects if line["who"] == f"w{who}"]
        assert indexes == list(range(LINES_EACH)), f"w{who} lost or reordered lines"


def _drain(reader: IO[bytes], processes: list[subprocess.Popen[bytes]]) -> list[bytes]:
    collected, thread = _reader(reader)
    for process in processes:
        assert process.wait(timeout=60) == 0
    thread.join(timeout=60)
    assert not thread.is_alive()
    return collected.lines


@pytest.mark.parametrize("kind", ["pipe", "socket"])
def test_processes_writing_long_lines_to_one_pipe_never_interleave(kind: str) -> None:
    if kind == "pipe":
        read_fd, write_fd = os.pipe()
        reader: IO[bytes] = os.fdopen(read_fd, "rb")
    else:
        ours, theirs = socket.socketpair()
        reader, write_fd = ours.makefile("rb"), theirs.detach()
    processes = _writers(4, write_fd)
    os.close(write_fd)
    with reader:
        _assert_whole(_drain(reader, processes), 4)


def test_processes_that_open_one_fifo_each_never_interleave(tmp_path: Path) -> None:
    # Each writer opens the FIFO itself (its own open file description): the lock is the FIFO's, not the fd's.
    fifo = tmp_path / "stdout.fifo"
    os.mkfifo(fifo)
    # Held open (as a container runtime holds its FIFO) until every writer is done: the reader's end of file
    # must not come between one writer's exit and the next one's open.
    keep_open = os.open(fifo, os.O_RDWR)
    try:
        with open(fifo, "rb") as reader:
            collected, thread = _reader(reader)
            for process in _writers(4, None, str(fifo)):
                assert process.wait(timeout=60) == 0
            os.close(keep_open)
            keep_open = -1
            thread.join(timeout=60)
    finally:
        if keep_open >= 0:
            os.close(keep_open)
    _assert_whole(collected.lines, 4)


@pytest.mark.parametrize("mode", ["wb", "ab"])
def test_processes_writing_long_lines_to_one_regular_file_never_interleave(tmp_path: Path, mode: str) -> None:
    # The writer takes no lock for a regular file: the kernel writes each write() whole (the inode's lock), with
    # the offset shared by the processes that inherited the file (as stdout) or set to its end (O_APPEND).
    path = tmp_path / "stdout.log"
    with path.open(mode) as shared:
        processes = _writers(4, shared.fileno())
    for process in processes:
        assert process.wait(timeout=60) == 0
    _assert_whole(path.read_bytes().splitlines(keepends=True), 4)


# -- a signal handler that logs while its own thread is in the middle of a line ------------------------------

_INTERRUPTED = """
import json, signal, sys
from shim.stream.output import LineWriter
writer = LineWriter()
handled = 0
def handler(signum, frame):
    global handled
    handled += 1
    writer.write_line(json.dumps({"who": "handler", "index": handled}))
signal.signal(signal.SIGALRM, handler)
signal.setitimer(signal.ITIMER_REAL, 0.0005, 0.0005)
for index in range(int(sys.argv[1])):
    writer.write_line(json.dumps({"who": "main", "index": index, "pad": "y" * 200_000}))
signal.setitimer(signal.ITIMER_REAL, 0, 0)
writer.write_line(json.dumps({"who": "done", "handled": handled}))
"""


def test_a_signal_handler_logging_in_the_middle_of_a_line_neither_deadlocks_nor_tears() -> None:
    # gunicorn's handlers, or the user's, may log while the main thread is writing (a pipe full, a slow reader).
    read_fd, write_fd = os.pipe()
    process = subprocess.Popen([sys.executable, "-c", _INTERRUPTED, "60"], stdout=write_fd, cwd=str(ROOT))
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as reader:
        collected, thread = _reader(reader)
        try:
            assert process.wait(timeout=60) == 0
        finally:
            process.kill()
        thread.join(timeout=30)
    objects, torn = _objects(collected.lines)
    assert not torn, _shown(torn)
    assert [line["index"] for line in objects if line["who"] == "main"] == list(range(60))
    [done] = [line for line in objects if line["who"] == "done"]
    # Each handler's line once (a handler interrupted by the next one may write after it: the order is theirs).
    handled = sorted(line["index"] for line in objects if line["who"] == "handler")
    assert done["handled"] > 0 and handled == list(range(1, done["handled"] + 1))


_EXITS_MID_LINE = """
import json, os, signal, sys
from shim.stream.output import LineWriter
writer = LineWriter()
def handler(signum, frame):  # as gunicorn's handle_abort on WORKER TIMEOUT: log, then sys.exit(1)
    writer.write_line(json.dumps({"who": "handler"}))
    os.write(2, b"fired\\n")
    sys.exit(1)
signal.signal(signal.SIGALRM, handler)
signal.setitimer(signal.ITIMER_REAL, 0.2)
writer.write_line(json.dumps({"who": "main", "pad": "z" * 300_000}))  # blocks: nobody reads the pipe yet
"""


def test_a_handler_that_exits_in_the_middle_of_a_line_writes_its_own_on_a_line_of_its_own() -> None:
    # The process exits before the rest of the long line can go out: that line stays cut, but the handler's
    # line (gunicorn's on WORKER TIMEOUT, say) and whatever follows in the stream are not glued to it.
    read_fd, write_fd = os.pipe()
    process = subprocess.Popen(
        [sys.executable, "-c", _EXITS_MID_LINE], stdout=write_fd, stderr=subprocess.PIPE, cwd=str(ROOT)
    )
    os.close(write_fd)
    try:
        assert process.stderr is not None
        # The pipe is read only once the handler has run, while the long line was stuck in the full pipe.
        ready, _, _ = select.select([process.stderr], [], [], 60)
        assert ready, "the handler did not get to its end: a deadlock on the writer's lock?"
        assert process.stderr.readline() == b"fired\n"
        with os.fdopen(read_fd, "rb") as reader:
            lines = reader.read().splitlines(keepends=True)
        assert process.wait(timeout=60) == 1
    finally:
        process.kill()
        process.wait(timeout=60)
    assert json.loads(lines[-1]) == {"who": "handler"}
    assert all(line.startswith(b'{"who": "main", "pad": "zzz') for line in lines[:-1]), _shown(lines[:-1])


# -- no lock to be had: the lines go out anyway, and one line says so ---------------------------------------


def test_without_a_lock_the_lines_are_written_and_one_warning_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    # As on a platform without fcntl (Windows): nothing to lock with.
    monkeypatch.setattr(output, "fcntl", None)
    read_fd, write_fd = os.pipe()
    with os.fdopen(read_fd, "rb") as reader, os.fdopen(write_fd, "w", encoding="utf-8") as pipe:
        writer = output.LineWriter(pipe)
        for index in range(3):
            writer.write_line(json.dumps({"event": "line", "index": index}))
        pipe.close()
        objects, torn = _objects(reader.read().splitlines(keepends=True))
    assert not torn
    assert [line["event"] for line in objects] == ["shim.output.unlocked", "line", "line", "line"]
    assert list(objects[0])[:4] == list(HEAD_KEYS) and objects[0]["level"] == "warning"
    assert "fcntl" in objects[0]["reason"]


# -- a holder that never lets go (stopped, paused in a debugger) does not stall everyone else -----------------

_HOLD_THE_LOCK = """
import fcntl, os, sys, time
fd = int(sys.argv[1])
fcntl.lockf(fd, fcntl.LOCK_EX)
os.write(1, b"held\\n")
time.sleep(30)
"""


def test_a_process_that_keeps_the_lock_delays_a_line_only_for_the_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(output, "LOCK_WAIT_S", 0.3)
    read_fd, write_fd = os.pipe()
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD_THE_LOCK, str(write_fd)], pass_fds=(write_fd,), stdout=subprocess.PIPE
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"held\n"  # it holds the lock now
        with os.fdopen(read_fd, "rb") as reader, os.fdopen(write_fd, "w", encoding="utf-8") as pipe:
            writer = output.LineWriter(pipe)
            for index in range(2):
                writer.write_line(json.dumps({"event": "line", "index": index}))
            pipe.close()
            holder.kill()  # its copy of the pipe's write end closes with it: the reader sees the end
            holder.wait(timeout=30)
            objects, torn = _objects(reader.read().splitlines(keepends=True))
    finally:
        holder.kill()
        holder.wait(timeout=30)
    assert not torn
    assert [line["event"] for line in objects] == ["shim.output.lock_timeout", "line", "line"]  # said once
    assert writer.lock_timeouts == 2 and objects[0]["waited_s"] == 0.3


# -- finding 8: the fallback line starts with the head keys and carries pid and host ------------------------

_CLOSED_STDOUT = """
import os
os.close(1)
from shim.stream.output import LineWriter
LineWriter().write_line('{"event": "after"}')
"""


def test_finding_8_fallback_line_has_head_keys() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _CLOSED_STDOUT], capture_output=True, cwd=str(ROOT), timeout=60, check=True
    )
    notice, line = (json.loads(text) for text in done.stderr.decode().splitlines())
    assert list(notice)[:4] == list(HEAD_KEYS)
    assert (notice["level"], notice["event"], notice["logger"]) == ("warning", "shim.output.fallback", "shim")
    assert notice["timestamp"].endswith("Z") and datetime.fromisoformat(notice["timestamp"][:-1])
    assert isinstance(notice["pid"], int) and notice["pid"] > 0 and notice["host"]
    assert line == {"event": "after"}
