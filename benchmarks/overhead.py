"""`shim.runtime.wrap.wrap_run` alone: a trivial ``run()`` called bare and wrapped, no server, no request.

NOT the served path (`benchmarks.served` is): the shim is not started here, so Flask's ``request_finished``,
``call_on_close`` and the folding filter never run, and the ``shim.run.ok`` line is rendered and written at
once (to /dev/null). It is kept as a lower bound, for telling the wrapper's own share of the served-path
figure from the rest. Bare and wrapped alternate rounds (the order flipping each round); the median of the
per-round differences is reported, in CPU time (the wall clock too, in the JSON).
"""

from __future__ import annotations

import contextlib
import gc
import os
import tempfile
import time
from collections.abc import Callable
from typing import Any

from shim import Settings
from shim.runtime import events as _events
from shim.runtime import wrap as _wrap
from shim.stream import configure as _logging

from . import rounds as r

#: The body a client would send; passed by keyword, as the server passes it.
RAW_DATA = '{"data": [[1.0, 2.0, 3.0, 4.0]]}'


def echo_run(raw_data: str) -> str:
    """The cheapest possible ``run()``: whatever is measured on top of it is the wrapper's."""
    return raw_data


def _us_per_call(fn: Callable[..., Any], calls: int) -> tuple[float, float]:
    """CPU and wall µs per call (CPU time: what a shared machine's other load does not inflate)."""
    gc.collect()
    start, start_cpu = time.perf_counter_ns(), time.process_time_ns()
    for _ in range(calls):
        fn(raw_data=RAW_DATA)
    cpu_ns, wall_ns = time.process_time_ns() - start_cpu, time.perf_counter_ns() - start
    return cpu_ns / calls / 1000, wall_ns / calls / 1000


def _check_lines_are_written(wrapped: Callable[..., Any]) -> None:
    """Fail loudly if the wrapper does not log: a benchmark of a silently broken path would look fast."""
    with tempfile.TemporaryFile("w+", encoding="utf-8") as sink:
        _logging.configure_logging(Settings(log_format="json"), stream=sink)
        wrapped(raw_data=RAW_DATA)
        sink.seek(0)
        text = sink.read()
    if '"shim.run.ok"' not in text:
        raise RuntimeError(f"the wrapped run() did not write its JSON line: {text[:500]!r}")


def measure(rounds: int = 7, calls: int = 20_000) -> dict[str, Any]:
    """µs per call bare and wrapped, and the median of the per-round differences."""
    wrapped = _wrap.wrap_run(echo_run)
    _check_lines_are_written(wrapped)
    failures_before = _events.failures
    bare_us: list[tuple[float, float]] = []
    wrapped_us: list[tuple[float, float]] = []
    with open(os.devnull, "w", encoding="utf-8") as devnull:
        _logging.configure_logging(Settings(log_format="json"), stream=devnull)
        try:
            for index in range(rounds):
                for fn, into in r.rotated([(echo_run, bare_us), (wrapped, wrapped_us)], index):
                    into.append(_us_per_call(fn, calls))
            dropped = _logging._pipeline.writer.dropped
        finally:
            with contextlib.suppress(Exception):
                _logging.configure_logging(Settings(log_format="json"))
    if _events.failures != failures_before or dropped:
        raise RuntimeError(
            f"the shim's logging failed during the benchmark ({_events.failures - failures_before} event "
            f"failures, {dropped} lines dropped): the figures would be wrong"
        )
    return {
        "calls_per_round": calls,
        "cpu_us": r.compare([cpu for cpu, _ in bare_us], [cpu for cpu, _ in wrapped_us]),
        "wall_us": r.compare([wall for _, wall in bare_us], [wall for _, wall in wrapped_us]),
    }
