"""``score-shim logs`` on a big log: peak memory (RSS) and lines/s of the command itself, streaming from disk.

The claim under test: the reader keeps constant memory however long the log is. A log of ``target_bytes``
(1 GB in a full run) is written to a temporary file from a block of realistic mixed lines (the shim's JSON
lines, the server's text lines and tracebacks, gunicorn's access and boot lines), repeated with fresh request
ids each time, so that the ids, like a real replica's, never repeat (an aggregation that kept one entry per id
would show). The file is synced and its pages dropped from the page cache, so that the command reads it from
disk. Then ``python -m shim logs FILE --json`` runs in a child whose peak RSS is read from ``wait4`` (its own
rusage, not every child's). The same command on one block (about 1 MB) gives the baseline: the interpreter
and the imports. The file is deleted afterwards, whatever happened.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from . import logs

#: Bounds: the command on 1 GB takes well under a minute here; a stuck reader fails the benchmark.
RUN_TIMEOUT_S = 300.0
POLL_S = 0.05
#: The prefix of every request id in the JSON part of the block (`logs.write_json_log`), replaced per copy.
_ID_PREFIX = b'"request_id": "2b1c'
_GUNICORN_BOOT = (
    b"[2026-11-25 00:00:00 +0000] [1] [INFO] Starting gunicorn 23.0.0\n"
    b"[2026-11-25 00:00:00 +0000] [1] [INFO] Listening at: http://127.0.0.1:31311 (1)\n"
    b"[2026-11-25 00:00:00 +0000] [1] [INFO] Using worker: sync\n"
    b"[2026-11-25 00:00:00 +0000] [41] [INFO] Booting worker with pid: 41\n"
)


def mixed_block(lines_each: int = 2000) -> bytes:
    """About 1 MB of a replica's log: gunicorn's boot lines, the shim's JSON stream, the bare server's text."""
    with tempfile.TemporaryDirectory(prefix="score-shim-block-") as tmp:
        json_log, text_log = Path(tmp) / "json.log", Path(tmp) / "text.log"
        logs.write_json_log(json_log, lines_each)
        logs.write_text_log(text_log, lines_each)
        return _GUNICORN_BOOT + json_log.read_bytes() + text_log.read_bytes()


def copy_of(block: bytes, index: int) -> bytes:
    """The block with request ids of its own: the ids' first four hex digits are the copy's number."""
    return block.replace(_ID_PREFIX, b'"request_id": "%04x' % (index % 0x10000))


def write_log(path: Path, block: bytes, target_bytes: int) -> dict[str, int]:
    """Copies of ``block`` until ``target_bytes``; then synced and dropped from the page cache."""
    copies = max(1, -(-target_bytes // len(block)))
    with path.open("wb", buffering=1 << 20) as out:
        for index in range(copies):
            out.write(copy_of(block, index))
        out.flush()
        os.fsync(out.fileno())
        if hasattr(os, "posix_fadvise"):
            os.posix_fadvise(out.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
    return {"bytes": copies * len(block), "lines": copies * block.count(b"\n"), "copies": copies}


def run_logs_command(path: Path, timeout_s: float = RUN_TIMEOUT_S) -> dict[str, Any]:
    """``python -m shim logs PATH --json`` in a child: wall seconds, its own peak RSS, and its summary."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        pid = os.posix_spawn(
            sys.executable,
            [sys.executable, "-m", "shim", "logs", str(path), "--json"],
            os.environ,
            file_actions=[(os.POSIX_SPAWN_DUP2, out.fileno(), 1), (os.POSIX_SPAWN_DUP2, err.fileno(), 2)],
        )
        status, usage = _wait(pid, timeout_s)
        seconds = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
            message = err.read()[-2000:].decode(errors="replace")
            raise RuntimeError(f"score-shim logs failed (wait status {status}): {message}")
        summary = json.loads(out.read())
    cpu_s = usage.ru_utime + usage.ru_stime
    return {"seconds": seconds, "cpu_s": cpu_s, "peak_rss_mb": usage.ru_maxrss / 1024, "summary": summary}


def _wait(pid: int, timeout_s: float) -> tuple[int, Any]:
    """``wait4`` without blocking past the deadline: the child is killed if it runs too long."""
    deadline = time.monotonic() + timeout_s
    while True:
        reaped, status, usage = os.wait4(pid, os.WNOHANG)
        if reaped == pid:
            return status, usage
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.wait4(pid, 0)
            raise TimeoutError(f"score-shim logs ran longer than {timeout_s:.0f} s")
        time.sleep(POLL_S)


@contextlib.contextmanager
def _temporary_log(directory: str | None) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="score-shim-biglog-", dir=directory) as tmp:
        yield Path(tmp) / "replica.log"


def measure(target_bytes: int, directory: str | None = None) -> dict[str, Any]:
    """Peak RSS and lines/s of ``score-shim logs`` on a ``target_bytes`` log and on one block of it."""
    block = mixed_block()
    with _temporary_log(directory) as small:
        small.write_bytes(block)
        baseline = run_logs_command(small)
    with _temporary_log(directory) as path:
        started = time.perf_counter()
        written = write_log(path, block, target_bytes)
        write_s = time.perf_counter() - started
        big = run_logs_command(path)
    read = big["summary"]
    if read.get("lines") != written["lines"] or not read.get("requests", {}).get("total"):
        lines = f"{read.get('lines')} of {written['lines']} lines"
        raise RuntimeError(f"score-shim logs did not read the whole log: {lines}")
    return {
        **written,
        "megabytes": round(written["bytes"] / 1e6, 1),
        "write_s": round(write_s, 2),
        "seconds": round(big["seconds"], 2),
        "lines_per_s": round(written["lines"] / big["seconds"]),
        "cpu_s": round(big["cpu_s"], 2),
        "lines_per_cpu_s": round(written["lines"] / big["cpu_s"]),
        "peak_rss_mb": round(big["peak_rss_mb"], 1),
        "baseline_bytes": len(block),
        "baseline_peak_rss_mb": round(baseline["peak_rss_mb"], 1),
        "requests_seen": read["requests"]["total"],
    }
