"""What the cross-process lock adds to a line written to a pipe (shim/stream/output.py).

Every line the shim writes to a pipe, a FIFO or a socket (a container's stdout) is written holding a POSIX
record lock on the destination, so that the lines of gunicorn's workers and master never tear each other.
Here one `LineWriter` writes lines of about 250 bytes to a real pipe drained by a reader process, with the
lock and without it (the path taken where no lock can be had), in alternating rounds whose order flips each
round. Reported: the median microseconds per line of each, the median of the per-round differences (what
the lock adds) and of the per-round ratios. ``python -m benchmarks.lines`` runs it alone.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import io
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

from shim.stream import output

#: A line of about 250 bytes, the size of most of the stream's lines (a successful request's is about 340).
LINE = json.dumps(
    {
        "timestamp": "2026-11-25T16:56:12.681904Z",
        "level": "info",
        "event": "shim.run.ok",
        "logger": "shim",
        "duration_ms": 0.725,
        "input_bytes": 32,
        "pid": 3040,
        "host": "my-deployment-7d9c",
        "request_id": "0b9e3b4e-6f1c-4d36-9a52-2f4c1f1b7c55",
    }
)

_DRAIN = "import os\nwhile os.read(0, 1 << 16):\n    pass\n"


@contextlib.contextmanager
def _pipe_to_a_reader() -> Iterator[io.TextIOWrapper]:
    """The write end of a pipe whose other end a separate process reads as fast as it can, as a log collector."""
    read_fd, write_fd = os.pipe()
    reader = subprocess.Popen([sys.executable, "-c", _DRAIN], stdin=read_fd)
    os.close(read_fd)
    stream = os.fdopen(write_fd, "w", encoding="utf-8")
    try:
        yield stream
    finally:
        stream.close()
        reader.wait(timeout=60)


def _writer(stream: io.TextIOWrapper, locked: bool) -> output.LineWriter:
    writer = output.LineWriter(stream)
    if locked:
        writer.write_line(LINE)
        return writer
    # The path of a platform without fcntl: the first line finds no lock, says so once, and none is tried again.
    saved = output.fcntl
    output.fcntl = None  # type: ignore[assignment]
    try:
        writer.write_line(LINE)
    finally:
        output.fcntl = saved
    return writer


def _us_per_line(writer: output.LineWriter, lines: int) -> tuple[float, float]:
    """Elapsed and CPU microseconds per line: on a shared machine the first includes time spent preempted."""
    gc.collect()
    write_line = writer.write_line
    start, start_cpu = time.perf_counter_ns(), time.process_time_ns()
    for _ in range(lines):
        write_line(LINE)
    return (time.perf_counter_ns() - start) / lines / 1000, (time.process_time_ns() - start_cpu) / lines / 1000


def measure(rounds: int = 7, lines: int = 20_000) -> dict[str, Any]:
    with _pipe_to_a_reader() as stream:
        locked, unlocked = _writer(stream, locked=True), _writer(stream, locked=False)
        with_lock: list[tuple[float, float]] = []
        without: list[tuple[float, float]] = []
        for index in range(rounds):
            order = [(locked, with_lock), (unlocked, without)]
            for writer, into in order if index % 2 == 0 else reversed(order):
                into.append(_us_per_line(writer, lines))
        if locked.dropped or unlocked.dropped:
            raise RuntimeError("lines were dropped during the benchmark: the figures would be wrong")
    added = [a[0] - b[0] for a, b in zip(with_lock, without, strict=True)]
    added_cpu = [a[1] - b[1] for a, b in zip(with_lock, without, strict=True)]
    return {
        "rounds": rounds,
        "lines_per_round": lines,
        "line_bytes": len(LINE) + 1,
        "locked_us_per_line": round(statistics.median(a for a, _ in with_lock), 3),
        "unlocked_us_per_line": round(statistics.median(a for a, _ in without), 3),
        "added_us_per_line": round(statistics.median(added), 3),
        "ratio": round(statistics.median(a[0] / b[0] for a, b in zip(with_lock, without, strict=True)), 3),
        "added_cpu_us_per_line": round(statistics.median(added_cpu), 3),
        "added_us_per_round": [round(value, 3) for value in added],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.lines", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds and lines (proves the benchmark runs)")
    args = parser.parse_args(argv)
    rounds, lines = (3, 5_000) if args.quick else (7, 20_000)
    found = measure(rounds, lines)
    print(f"{found['line_bytes']}-byte lines to a pipe, median of {rounds} rounds x {lines:,} lines")
    print(f"  with the lock     {found['locked_us_per_line']:7.3f} us/line")
    print(f"  without the lock  {found['unlocked_us_per_line']:7.3f} us/line")
    print(f"  added             {found['added_us_per_line']:7.3f} us/line   ratio {found['ratio']:.3f}")
    print(f"  added, CPU time   {found['added_cpu_us_per_line']:7.3f} us/line")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
