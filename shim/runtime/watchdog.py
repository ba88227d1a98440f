"""A run that hangs leaves its stack in the log while it still hangs.

The server's scoring timeout (``SCORING_TIMEOUT_MS``, SIGALRM) cannot interrupt C code, and gunicorn's
``WORKER_TIMEOUT`` kills the worker outright (SIGABRT, then SIGKILL): neither leaves the user's stack. A
daemon thread per process looks at the runs in progress and, when one passes a threshold, logs
``shim.run.slow`` with the stack of the thread running it (``sys._current_frames``), so the line the run
was stuck on is in the log before anything kills it. The same thread samples the process's memory and
warns (``shim.memory.high``) before the container's limit is reached.

The hot path only writes and removes one dict entry per run; the thread never touches the user's code,
never installs a signal handler, and never raises. A ``shim.run.slow`` line is written only while its run
is still going, never after the run's own ``shim.run.ok``/``failed`` line: the thread checks the run again,
under a lock, when it writes, and a run that ends meanwhile waits for that line to be written.
"""

from __future__ import annotations

import os
import sys
import threading
from time import perf_counter, sleep

from ..stream import context, processors
from ..stream.configure import get_logger, report_internal_error
from . import memory, user_files

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: `typing` is not imported by a worker's start (issue 17, import time)
    from typing import Any

log = get_logger("shim")

#: How many shim.run.slow lines one run may produce (at 1x, 2x, ... the threshold).
MAX_REPORTS_PER_RUN = 5
#: How often memory is sampled, in seconds.
MEMORY_INTERVAL_S = 1.0

# thread ident -> [started (perf_counter), the request's flask.g (its attributes) or None, reports so far]
_active: dict[int, list[Any]] = {}
_get_ident = threading.get_ident

threshold_s: float = 150.0
memory_warn_fraction: float = 0.9
_timeouts_note = ""
_running = False
#: Held, with _reporting set, while the thread writes a shim.run.slow line.
_report_lock = threading.Lock()
_reporting = False
_memory_warned = False
failures = 0


def _env_number(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, "") or default)
    except ValueError:
        return default


def configure(slow_run_ms: int | None, memory_warn_percent: int) -> None:
    """The threshold: ``SCORE_SHIM_SLOW_RUN_MS``, else half of what would kill the run first.

    What kills first is the smaller of the server's ``SCORING_TIMEOUT_MS`` (default 3,600,000) and
    gunicorn's ``WORKER_TIMEOUT`` (seconds, default 300): by default 150 s.
    """
    global threshold_s, memory_warn_fraction, _timeouts_note
    scoring_ms = float(user_files.server_scoring_timeout_ms())  # the environment's, else a config.json's
    worker_s = _env_number("WORKER_TIMEOUT", 300)
    first_kill_s = min(scoring_ms / 1000, worker_s) if worker_s > 0 else scoring_ms / 1000
    threshold_s = slow_run_ms / 1000 if slow_run_ms else first_kill_s / 2
    memory_warn_fraction = memory_warn_percent / 100
    _timeouts_note = (
        f"the server's scoring timeout (SCORING_TIMEOUT_MS={scoring_ms:g}) or gunicorn's "
        f"WORKER_TIMEOUT={worker_s:g} s stops it at {first_kill_s:g} s"
    )


def run_started(started: float) -> context.State | None:
    """Hot path: note the run of this thread (and its request, for the ids); the request's context, for the
    caller's own use (one lookup per run)."""
    state = context.current()
    _active[_get_ident()] = [started, state[1] if state else None, 0]
    if not _running:
        _start()
    return state


def run_finished() -> None:
    """Hot path: the run is over. If a shim.run.slow line is being written (maybe this run's), wait for it,
    so that it comes before the run's own line."""
    _active.pop(_get_ident(), None)
    if _reporting:
        with _report_lock:
            pass


def _start() -> None:
    global _running
    try:
        thread = threading.Thread(target=_watch, name="score-shim-watchdog", daemon=True)
        thread.start()
        _running = True
    except Exception:
        pass


def _forget_after_fork() -> None:
    # Threads do not survive fork: a gunicorn worker starts its own watchdog on its first run (and a lock
    # the parent's watchdog held at the fork would never be released in the child).
    global _running, _reporting, _report_lock
    _running, _reporting, _report_lock = False, False, threading.Lock()
    _active.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)


def _watch() -> None:
    global failures
    next_memory_check = 0.0
    while True:
        sleep(max(0.02, min(threshold_s / 4, 1.0)))
        try:
            now = perf_counter()
            for ident, run in list(_active.items()):
                started, _, reports = run
                if reports < MAX_REPORTS_PER_RUN and now - started >= threshold_s * (reports + 1):
                    _report_if_running(ident, run, now - started)
            if now >= next_memory_check:
                next_memory_check = now + MEMORY_INTERVAL_S
                _check_memory()
        except Exception as error:
            failures += 1
            report_internal_error("_watchdog", error)


def _report_if_running(ident: int, run: list[Any], elapsed_s: float) -> None:
    """Report ``run`` unless it ended after the scan saw it: its stack would be another code's, its line late."""
    global _reporting
    with _report_lock:
        _reporting = True  # before the check: a run ending from now on waits in run_finished
        try:
            if _active.get(ident) is run:
                run[2] += 1
                _report_slow(ident, elapsed_s, run[1])
        finally:
            _reporting = False


def _stack_of(ident: int) -> tuple[list[dict[str, Any]], str]:
    import traceback  # here: only a slow run needs it (import time)

    frame = sys._current_frames().get(ident)
    if frame is None:
        return [], ""
    summary = traceback.extract_stack(frame)
    frames = [
        {"file": entry.filename, "line": entry.lineno, "function": entry.name}
        for entry in summary
        if processors.is_user_file(entry.filename)
    ]
    text = "".join(traceback.format_list(summary))
    return frames, processors.masked_clip(text, processors.MAX_TRACEBACK_CHARS)


def _report_slow(ident: int, elapsed_s: float, g: Any) -> None:
    frames, stack = _stack_of(ident)
    fields: dict[str, Any] = {
        "elapsed_ms": round(elapsed_s * 1000, 1),
        "threshold_ms": round(threshold_s * 1000, 1),
        "where": frames[-1] if frames else None,
        "stack": stack,
        "diagnosis": (
            f"run() has been running for {elapsed_s:.1f} s and is still at the line in `where`; "
            f"{_timeouts_note}. A loop that never ends, a lock, a network call without a timeout, or C code "
            "that does not return are the usual causes."
        ),
    }
    if g is not None:
        try:
            for key in ("request_id", "client_request_id"):
                value = g.get(key)
                if value:
                    fields[key] = value
        except Exception:
            pass
    log.warning("shim.run.slow", **fields)


def _check_memory() -> None:
    global _memory_warned
    limit = memory.limit_bytes()
    rss = memory.rss_bytes()
    if not limit or rss is None:
        return
    if rss >= memory_warn_fraction * limit:
        if not _memory_warned:
            _memory_warned = True
            log.warning(
                "shim.memory.high",
                rss_bytes=rss,
                limit_bytes=limit,
                percent=round(100 * rss / limit, 1),
                peak_rss_bytes=memory.peak_rss_bytes(),
                diagnosis=(
                    "the process is close to the container's memory limit: past it the kernel kills the "
                    "worker (SIGKILL, 'died with <Signals.SIGKILL: 9>'), with no traceback. Load the model "
                    "once in init(), use fewer workers (WORKER_COUNT), or a larger instance."
                ),
            )
    elif rss < (memory_warn_fraction - 0.05) * limit:
        _memory_warned = False
