"""One side of the served-path benchmark: the server's own Flask app in this process, driven by WSGI calls.

Started by `benchmarks.served` with the environment ``azmlinfsrv`` would give a worker (bare: the echo
score.py as entry script; wrapped: the drop-in entry ``score_wrappers/entry.py``). Importing
``azureml_inference_server_http.server.entry`` creates the app exactly as a gunicorn worker does: the server's
config and ``logging.json``, the blueprint's setup, the script loaded, ``init()`` called. The app is a
module-level singleton, which is why each side lives in its own long-lived process.

Requests are WSGI calls as gunicorn's sync worker makes them (environ, ``start_response``, the body iterated,
``close()``, which is where Flask's ``call_on_close`` runs); no sockets, and no gunicorn access line (the
throughput benchmark has those). The log goes where a worker's goes, fd 1, which points at /dev/null while
timing: a check request first sends it to a file, so that the parent knows the lines were really written.

Protocol, one JSON object per line: the parent writes ``{"do": "ok"|"fail", "requests": N}``,
``{"do": "counters"}`` or ``{"do": "quit"}`` on stdin; this process answers on its original stdout, which
is kept on another descriptor once fd 1 is redirected. ``print`` is not used: the server redirects it.
"""

from __future__ import annotations

import io
import json
import os
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TextIO

OK_BODY = b'{"data": [[1.0, 2.0, 3.0, 4.0]]}'
#: The echo score.py raises when the body starts like this (see `benchmarks.served.SCORE_PY`).
FAIL_BODY = b'{"fail": "on purpose"}'
EXPECTED = {"ok": "200", "fail": "500"}

Wsgi = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def base_environ(body: bytes) -> dict[str, Any]:
    """The WSGI environ of a ``POST /score`` with ``body``, as a WSGI server would build it (less the input)."""
    from werkzeug.test import EnvironBuilder

    environ: dict[str, Any] = EnvironBuilder(
        path="/score", method="POST", data=body, content_type="application/json"
    ).get_environ()
    environ.pop("wsgi.input", None)
    return environ


def call(app: Wsgi, base: dict[str, Any], body: bytes) -> str:
    """One request; returns the status code as text. Iterates and closes the answer as gunicorn does."""
    environ = dict(base)
    environ["wsgi.input"] = io.BytesIO(body)
    status: list[str] = []

    def start_response(line: str, headers: Any, exc_info: Any = None) -> Callable[[bytes], None]:
        status.append(line)
        return _discard

    answer = app(environ, start_response)
    try:
        for _ in answer:
            pass
    finally:
        close = getattr(answer, "close", None)
        if close is not None:
            close()
    return status[0][:3]


def _discard(data: bytes) -> None:
    return None


def timed_round(app: Wsgi, base: dict[str, Any], body: bytes, requests: int, expected: str) -> dict[str, Any]:
    """Microseconds per request over ``requests`` calls, wall clock and this process's CPU time (which a
    shared machine's other load does not inflate), and how many answered other than ``expected``."""
    unexpected = 0
    started, started_cpu = time.perf_counter_ns(), time.process_time_ns()
    for _ in range(requests):
        if call(app, base, body) != expected:
            unexpected += 1
    cpu_ns, wall_ns = time.process_time_ns() - started_cpu, time.perf_counter_ns() - started
    return {"wall_us": wall_ns / requests / 1000, "cpu_us": cpu_ns / requests / 1000, "unexpected": unexpected}


def shim_counters() -> dict[str, Any]:
    """The shim's own failure counters (0 when the shim is not loaded): a benchmark of a path that silently
    failed to log would look fast."""
    modules = sys.modules
    access, events = modules.get("shim.runtime.access"), modules.get("shim.runtime.events")
    configure = modules.get("shim.stream.configure")
    pipeline = getattr(configure, "_pipeline", None)
    return {
        "shim_loaded": access is not None,
        "shim_started": bool(getattr(access, "_connected", False)),
        "access_failures": getattr(access, "failures", 0),
        "event_failures": getattr(events, "failures", 0),
        "internal_errors": getattr(configure, "_internal_errors", 0),
        "dropped_lines": getattr(getattr(pipeline, "writer", None), "dropped", 0),
    }


def _point_stdout_at(path: str) -> None:
    """Send fd 1 (the server's and the shim's log destination) to ``path``, after flushing what is pending."""
    for stream in (sys.stdout, sys.__stdout__):
        if stream is not None:
            stream.flush()
    target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(target, 1)
    os.close(target)


def check(app: Wsgi, bases: dict[str, dict[str, Any]], log_path: Path) -> dict[str, Any]:
    """One request of each kind with the log going to ``log_path``; what it wrote, for the parent to judge."""
    statuses = {kind: call(app, bases[kind], body) for kind, body in (("ok", OK_BODY), ("fail", FAIL_BODY))}
    _point_stdout_at(os.devnull)
    text = log_path.read_text(encoding="utf-8", errors="replace")
    return {"statuses": statuses, "log_tail": text[-6000:], **shim_counters()}


def serve(app: Wsgi, bases: dict[str, dict[str, Any]], commands: TextIO, replies: TextIO) -> None:
    """Answer the parent's commands until it says quit or closes stdin."""
    bodies = {"ok": OK_BODY, "fail": FAIL_BODY}
    for line in commands:
        command = json.loads(line)
        kind = command.get("do")
        if kind == "quit":
            return
        if kind == "counters":
            answer: dict[str, Any] = shim_counters()
        elif kind in bodies:
            answer = timed_round(app, bases[kind], bodies[kind], int(command["requests"]), EXPECTED[kind])
        else:
            answer = {"error": f"unknown command {line.strip()!r}"}
        replies.write(json.dumps(answer) + "\n")
        replies.flush()


def main(argv: list[str]) -> int:
    """``python -m benchmarks.served_child CHECK_LOG``: start the app, check it, then serve commands."""
    replies = os.fdopen(os.dup(1), "w", encoding="utf-8")
    log_path = Path(argv[1])
    _point_stdout_at(str(log_path))
    started = time.perf_counter()
    from azureml_inference_server_http.server.entry import app  # the server's own start-up

    start_s = time.perf_counter() - started
    bases = {"ok": base_environ(OK_BODY), "fail": base_environ(FAIL_BODY)}
    ready = {"ready": True, "start_s": round(start_s, 3), **check(app, bases, log_path)}
    replies.write(json.dumps(ready) + "\n")
    replies.flush()
    serve(app, bases, sys.stdin, replies)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
