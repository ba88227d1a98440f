"""One side of the debug-port benchmark: a long-lived interpreter that runs the pure-Python run() loop on demand.

Started by `benchmarks.debugger` as ``python -m benchmarks.debugger_child LOG_PATH``, with or without
``SCORE_SHIM_DEBUG_PORT`` in its environment. Both kinds start the shim as a worker does
(``ensure_started()``, then ``debugger.start()``, which returns at once without a port), so that the only
difference between them is the port. The loop runs on the main thread, as a sync worker runs ``run()``.

A fresh interpreter per side because a started debugpy cannot be unloaded: the side that a client attached
to stays traced, and must not leak into the others.

Protocol, one JSON object per line: the parent writes ``{"do": "round", "calls": N}``, ``{"do": "state"}`` or
``{"do": "quit"}`` on stdin; this process answers on its original stdout, kept on another descriptor, while
fd 1 (where the shim's log goes) points at LOG_PATH, which the parent reads for ``shim.debugger.*`` lines.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from typing import Any, TextIO


def scale(value: float) -> float:
    return value * 0.5


def run(raw_data: str) -> dict[str, Any]:
    """A typical pure-Python run(): parse, loop, call a helper, build a dict (the loop being measured)."""
    data = json.loads(raw_data)
    total = 0.0
    for row in data["data"]:
        for value in row:
            total += scale(value)
    return {"total": total, "rows": len(data["data"])}


BODY = json.dumps({"data": [[float(i + j) for j in range(8)] for i in range(16)]})


def timed_round(calls: int) -> dict[str, Any]:
    """Microseconds per call over ``calls`` calls of ``run``: the CPU time of this thread, and the wall clock.

    The CPU time of the thread that runs ``run()`` is what tracing costs it, and it does not count the time
    the process waited for a core on a loaded machine, which the wall clock does.
    """
    cpu, wall = time.thread_time_ns(), time.perf_counter_ns()
    for _ in range(calls):
        run(BODY)
    cpu, wall = time.thread_time_ns() - cpu, time.perf_counter_ns() - wall
    return {"cpu_us_per_call": cpu / calls / 1000, "wall_us_per_call": wall / calls / 1000}


def state() -> dict[str, Any]:
    """What the parent checks before trusting a side's figures: is debugpy loaded, is this thread traced."""
    relay_module = sys.modules.get("shim.runtime.debug_relay")
    relay = relay_module.current() if relay_module is not None else None
    return {
        "debugpy_loaded": "debugpy" in sys.modules,
        "traced": traced(),
        "relay": relay is not None,
        "relay_started": bool(relay is not None and relay.started),
        "attach_start_s": (
            relay.ready_at - relay.connected_at
            if relay is not None and relay.ready_at is not None and relay.connected_at is not None
            else None
        ),
    }


def traced() -> bool:
    """Whether a debugger traces this thread: a trace function (3.11 and older) or sys.monitoring (3.12+)."""
    monitoring = getattr(sys, "monitoring", None)
    if monitoring is not None and monitoring.get_tool(monitoring.DEBUGGER_ID) is not None:
        return True
    return sys.gettrace() is not None or threading.gettrace() is not None


def start_shim() -> None:
    """The shim as a worker starts it: settings and log stream, then the debug port if one is configured."""
    from shim.runtime import debugger
    from shim.runtime.setup import ensure_started

    settings = ensure_started()
    debugger.start(settings, remote_root=os.path.dirname(os.path.abspath(__file__)))


def _keep_stdout_for_replies(log_path: str) -> TextIO:
    """Replies on a copy of the original stdout; fd 1 (the shim's log destination) to ``log_path``."""
    sys.stdout.flush()
    replies = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    target = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(target, 1)
    os.close(target)
    return replies


def serve(commands: TextIO, replies: TextIO) -> None:
    """Answer the parent's commands until it says quit or closes stdin."""
    for line in commands:
        command = json.loads(line)
        kind = command.get("do")
        if kind == "quit":
            return
        try:
            if kind == "round":
                answer = timed_round(int(command["calls"]))
            elif kind == "state":
                answer = state()
            else:
                answer = {"error": f"unknown command {kind!r}"}
        except Exception as error:  # told to the parent, which fails the benchmark with it
            answer = {"error": f"{type(error).__name__}: {error}"}
        replies.write(json.dumps(answer) + "\n")


def main() -> None:
    os.environ.setdefault("SCORE_SHIM_LOG_FORMAT", "json")
    replies = _keep_stdout_for_replies(sys.argv[1])
    try:
        start_shim()
        replies.write(json.dumps({"ready": True, **state()}) + "\n")
    except Exception as error:
        replies.write(json.dumps({"error": f"start: {type(error).__name__}: {error}"}) + "\n")
        return
    serve(sys.stdin, replies)


if __name__ == "__main__":
    main()
