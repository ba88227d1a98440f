"""In-process cost of `shim.runtime.wrap.wrap_run`: a trivial ``run()`` called bare and wrapped.

The wrapped calls really render and write one JSON line each (to a file opened on /dev/null), so the
figure includes the whole logging pipeline (processors, ``json.dumps``, the locked write and flush) but
not a disk or a terminal. Bare and wrapped are timed in alternating rounds and the median of the
per-round differences is reported: a median of differences shrugs off a round disturbed by the machine.

Outside a server there is no Flask request, so the wrapper's request-id and input-size lookups take
their shortest path; the returning call is therefore measured a second time inside a Flask request set up
as the server sets it up (the ids on ``flask.g``), which is what a served request pays.
"""

from __future__ import annotations

import contextlib
import gc
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from typing import Any

from shim import Settings
from shim.runtime import events as _events
from shim.runtime import wrap as _wrap
from shim.stream import configure as _logging

#: The body a client would send; passed by keyword, as the server passes it.
RAW_DATA = '{"data": [[1.0, 2.0, 3.0, 4.0]]}'


def echo_run(raw_data: str) -> str:
    """The cheapest possible ``run()``: whatever is measured on top of it is the wrapper's."""
    return raw_data


def failing_run(raw_data: str) -> str:
    """A ``run()`` that raises at once: the exception path (traceback rendered into the log line)."""
    raise ValueError("benchmark: run() failed on purpose")


@contextlib.contextmanager
def server_like_request() -> Iterator[None]:
    """A Flask request as the server's ``before_request`` leaves it: a JSON body, the ids on ``flask.g``."""
    import flask  # the server's dependency; imported here so that the plain figures run without it

    app = flask.Flask(__name__)
    with app.test_request_context("/score", method="POST", data=RAW_DATA, content_type="application/json"):
        flask.g.request_id = "0b9e3b4e-6f1c-4d36-9a52-2f4c1f1b7c55"
        flask.g.client_request_id = ""
        yield


def _ns_per_call(fn: Callable[..., Any], calls: int, raises: bool) -> float:
    # Two loops rather than one with a flag: the ok loop must not pay for a try it never needs.
    gc.collect()
    if raises:
        start = time.perf_counter_ns()
        for _ in range(calls):
            # Not `contextlib.suppress`: its enter/exit would be timed too, and dwarf the bare call.
            try:  # noqa: SIM105
                fn(raw_data=RAW_DATA)
            except ValueError:
                pass
        return (time.perf_counter_ns() - start) / calls
    start = time.perf_counter_ns()
    for _ in range(calls):
        fn(raw_data=RAW_DATA)
    return (time.perf_counter_ns() - start) / calls


def _compare(
    bare: Callable[..., Any], wrapped: Callable[..., Any], rounds: int, calls: int, raises: bool
) -> dict[str, Any]:
    """Alternate bare/wrapped rounds (the order flips each round, so drift favours neither side)."""
    bare_ns: list[float] = []
    wrapped_ns: list[float] = []
    for index in range(rounds):
        if index % 2 == 0:
            bare_ns.append(_ns_per_call(bare, calls, raises))
            wrapped_ns.append(_ns_per_call(wrapped, calls, raises))
        else:
            wrapped_ns.append(_ns_per_call(wrapped, calls, raises))
            bare_ns.append(_ns_per_call(bare, calls, raises))
    added_us = [(w - b) / 1000 for w, b in zip(wrapped_ns, bare_ns, strict=True)]
    return {
        "rounds": rounds,
        "calls_per_round": calls,
        "bare_us_per_call": round(statistics.median(bare_ns) / 1000, 3),
        "wrapped_us_per_call": round(statistics.median(wrapped_ns) / 1000, 3),
        "added_us_per_call": round(statistics.median(added_us), 3),
        "added_us_per_round": [round(value, 3) for value in added_us],
    }


def _check_lines_are_written(wrapped_ok: Callable[..., Any], wrapped_fail: Callable[..., Any]) -> None:
    """Fail loudly if the wrapper does not log: a benchmark of a silently broken path would look fast."""
    with tempfile.TemporaryFile("w+", encoding="utf-8") as sink:
        _logging.configure_logging(Settings(log_format="json"), stream=sink)
        wrapped_ok(raw_data=RAW_DATA)
        with contextlib.suppress(ValueError):
            wrapped_fail(raw_data=RAW_DATA)
        sink.seek(0)
        text = sink.read()
    if '"shim.run.ok"' not in text or '"shim.run.failed"' not in text or '"traceback"' not in text:
        raise RuntimeError(f"the wrapped run() did not write the expected JSON lines: {text[:500]!r}")


def measure(rounds: int = 7, calls: int = 20_000, failing_calls: int = 2_000) -> dict[str, Any]:
    """Median microseconds that `wrap_run` adds per call: returning (bare process, then inside a Flask
    request) and raising.

    The raising path gets fewer calls per round: each one formats a traceback, which costs far more
    than a returning call, and the round would otherwise take seconds.
    """
    wrapped_ok = _wrap.wrap_run(echo_run)
    wrapped_fail = _wrap.wrap_run(failing_run)
    _check_lines_are_written(wrapped_ok, wrapped_fail)
    failures_before = _events.failures
    with open(os.devnull, "w", encoding="utf-8") as devnull:
        _logging.configure_logging(Settings(log_format="json"), stream=devnull)
        try:
            ok = _compare(echo_run, wrapped_ok, rounds, calls, raises=False)
            with server_like_request():
                ok_in_request = _compare(echo_run, wrapped_ok, rounds, calls, raises=False)
            failed = _compare(failing_run, wrapped_fail, rounds, failing_calls, raises=True)
            dropped = _logging._pipeline.writer.dropped
        finally:
            _logging.configure_logging(Settings(log_format="json"))
    if _events.failures != failures_before or dropped:
        lost = _events.failures - failures_before
        raise RuntimeError(
            f"the shim's logging failed during the benchmark ({lost} event failures, "
            f"{dropped} lines dropped): the figures would be wrong"
        )
    return {"ok": ok, "ok_in_request": ok_in_request, "failed": failed}
