"""One line per scored request: ``shim.run.ok`` carries what the server's two access lines said.

The bare server writes two lines per request: its own ``POST /score 200 1.102ms 13`` (``azmlinfsrv``,
from ``routes._after_request``) and gunicorn's access line. The shim's ``shim.run.ok`` would be a third.
Instead, a successful ``run()`` only notes its duration on ``flask.g``; when Flask has finished the
response (the ``request_finished`` signal, https://flask.palletsprojects.com/en/stable/api/#signals),
the shim prepares one ``shim.run.ok`` line with the run's duration, the request ids and an ``http``
object (method, path, status, bytes, duration), writes it when the server closes the response (after
sending it, where gunicorn writes its access line), and its handler skips the two access lines of that
request. Nothing is lost: the folded lines' facts are in ``http``, and every request that did not end in
a successful run (bad input, 404, a failing ``run()``, a 5xx answer) keeps the server's access lines.
Other handlers of those loggers (a file the user configured) still get every line.

A failing ``run()`` is told once, too (and a failing ``init()``, whose copy the server logs after "User's init
function failed": `fold_servers_init_copy`): ``shim.run.failed`` has the user's exception and traceback, and the
server's ``Encountered Exception`` line (``routes.handle_score``) repeats that traceback under its own
``UserScriptException`` wrapper. That line is skipped (`fold_servers_copy`), and ``shim.run.failed`` carries
what it adds (``server_logged``: the wrapper). A timeout, a debug-mode echo, or any other server error
line is not folded.

``SCORE_SHIM_ACCESS_LINES=keep`` keeps the server's two access lines as they are (for tooling that parses them,
and to compare the shim with the bare server at the same number of lines); ``shim.run.ok`` is written all the
same, with its ``http`` object. The folding of a failure's traceback does not depend on it.

This runs for every request: ``flask.g`` is read and written through its ``__dict__`` (`shim.stream.context`),
the request's context is looked up once per hook, and the summary line goes through the stream's processors
without structlog's call layers (`shim.stream.configure.log_event`).
"""

from __future__ import annotations

import functools
import sys
import threading
from time import perf_counter

from ..stream import configure, context

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: `typing` is not imported by a worker's start (issue 17, import time)
    import logging
    from typing import Any

_RUN_KEY = "_score_shim_run_ms"
_FAILED_KEY = "_score_shim_run_failed"
#: How the server logs an exception from run(): ``routes.handle_score`` logs the traceback of the
#: ``UserScriptException`` that ``user_script.invoke_run`` raised from it (azureml-inference-server-http 1.5.1).
SERVER_COPY = "Encountered Exception"
SERVER_WRAPPER = "UserScriptException: Caught an unhandled exception from the user script"
_SCORING_ENDPOINT = "handle_score"
_PAYLOAD_KEY = "_score_shim_payload"
#: logging.ERROR, without importing logging here.
_ERROR = 40
#: Set at start-up from SCORE_SHIM_ACCESS_LINES: fold (the default) or keep the server's two access lines.
fold_access_lines = True
_connected = False
_lock = threading.Lock()
#: Request ids whose gunicorn access line is folded into a shim.run.ok already written.
_folded_access: dict[str, int] = {}
_MAX_FOLDED = 4096

#: Set when the shim's own code fails here; never raised into the request.
failures = 0


def connect() -> bool:
    """Listen for finished Flask requests, if the server (Flask) is loaded. Idempotent."""
    global _connected
    if _connected:
        return True
    flask = sys.modules.get("flask")
    if flask is None:
        return False
    try:
        flask.request_finished.connect(_on_request_finished, weak=False)
    except Exception:
        return False
    configure.add_record_filter(_is_folded)
    _connected = True
    return True


def defer_run_ok(state: context.State, duration_ms: float, payload: str | None = None) -> bool:
    """Keep a successful run's duration for the summary line of the request (``state``: its context).

    False when there is no served request to summarise (``score-shim check``, tests, the level is above
    info): the caller then writes ``shim.run.ok`` at once.
    """
    if not _connected or not configure.enabled("info"):
        return False
    g = state[1]
    g[_RUN_KEY] = duration_ms
    if payload is not None:
        g[_PAYLOAD_KEY] = payload
    return True


def fold_servers_copy() -> dict[str, Any]:
    """In the server's scoring route, mark the request so that the server's copy of run()'s traceback is
    skipped; the fields ``shim.run.failed`` then carries for it. Empty elsewhere (``check``, tests)."""
    if not _connected:
        return {}
    state = context.current()
    try:
        if state is None or not str(getattr(state[0], "endpoint", None) or "").endswith(_SCORING_ENDPOINT):
            return {}
        state[1][_FAILED_KEY] = True
    except Exception:
        return {}
    return {"server_logged": f"{SERVER_COPY}: {SERVER_WRAPPER} (that line, with the same traceback, is folded here)"}


_init_copy_pending = False


def fold_servers_init_copy() -> dict[str, Any]:
    """``init()`` failed under the server's ``invoke_init``: its caller logs "User's init function failed",
    then the traceback again ("Encountered Exception ..." under ``UserScriptException``). That copy is skipped
    once; the fields ``shim.init.failed`` carries for it. Empty when init() was not called by the server."""
    global _init_copy_pending
    if not _connected or not _called_by_server("invoke_init"):
        return {}
    _init_copy_pending = True
    return {"server_logged": f"{SERVER_COPY}: {SERVER_WRAPPER} (that line, with the same traceback, is folded here)"}


def _called_by_server(function: str, depth: int = 40) -> bool:
    """Whether the server's ``function`` is among this thread's callers (``score-shim check`` calls init()
    itself, and the server's line then never comes)."""
    frame = sys._getframe(1)
    for _ in range(depth):
        if frame is None:
            return False
        code = frame.f_code
        if code.co_name == function and "azureml_inference_server_http" in code.co_filename:
            return True
        frame = frame.f_back  # type: ignore[assignment]
    return False


def _is_servers_init_copy(record: logging.LogRecord) -> bool:
    global _init_copy_pending
    if context.current() is not None:
        return False
    message = record.getMessage()
    if not (message.startswith(SERVER_COPY) and message.rstrip().endswith(SERVER_WRAPPER)):
        return False
    _init_copy_pending = False
    return True


def _is_servers_copy(record: logging.LogRecord) -> bool:
    """The server's ``Encountered Exception`` line for a run() whose ``shim.run.failed`` said it all."""
    state = context.current()
    if state is None or not state[1].get(_FAILED_KEY):
        return False
    message = record.getMessage()
    if not (message.startswith(SERVER_COPY) and message.rstrip().endswith(SERVER_WRAPPER)):
        return False
    state[1].pop(_FAILED_KEY, None)
    return True


def _on_request_finished(sender: Any, response: Any = None, **_: Any) -> None:
    global failures
    try:
        state = context.current()
        if state is None:
            return
        g = state[1]
        duration_ms = g.pop(_RUN_KEY, None)
        if duration_ms is None:
            return
        fields = _summary(state, response, duration_ms)
        # Written once the response has gone out (when the WSGI server closes it), as gunicorn writes
        # its access line: the client does not wait for the log.
        response.call_on_close(functools.partial(_write_run_ok, fields))
        if fold_access_lines and fields["http"]["status"] < 500:
            _expect_access_line(g.get("request_id"))
    except Exception as error:
        failures += 1
        configure.report_internal_error("_access", error)


def _summary(state: context.State, response: Any, duration_ms: float) -> dict[str, Any]:
    """The fields of a served request's ``shim.run.ok``: the run, the input's size, ``http``, the ids."""
    request, g = state
    status = int(response.status_code)
    http: dict[str, Any] = {
        "method": request.method,
        "path": request.path,
        "status": status,
        "bytes": response.content_length,
    }
    started = g.get("starting_perf_counter")
    if started is not None:
        http["duration_ms"] = round((perf_counter() - started) * 1000, 3)
    fields: dict[str, Any] = {"duration_ms": duration_ms, "input_bytes": context.input_bytes(request), "http": http}
    ids = context.current_ids(state)
    if ids:
        fields.update(ids)
    payload = g.pop(_PAYLOAD_KEY, None)
    if payload is not None:
        fields["payload"] = payload
    if status >= 500 and response.headers.get("x-ms-run-function-failed") == "False":
        fields["diagnosis"] = (
            "run() returned, but the server could not turn its result into a response: return "
            "JSON-serialisable values (lists and dicts, not numpy arrays or custom objects); the "
            "server's error line has the details."
        )
    return fields


def _expect_access_line(request_id: str | None) -> None:
    """gunicorn's access line of this request will come: note it, to be folded (`_folds_access_line`)."""
    if not request_id:
        return
    with _lock:
        if len(_folded_access) >= _MAX_FOLDED:
            _folded_access.clear()
        _folded_access[request_id] = _folded_access.get(request_id, 0) + 1


def _write_run_ok(fields: dict[str, Any]) -> None:
    global failures
    try:
        configure.log_event("shim", "info", "shim.run.ok", fields)
    except Exception as error:
        failures += 1
        configure.report_internal_error("_access", error)


def _access_status(message: str) -> int | None:
    # The server's format: "<METHOD> <path> <status> <duration>ms <length>"; read from the right, as a
    # path may hold spaces.
    parts = message.rsplit(" ", 3)
    return int(parts[1]) if len(parts) == 4 and parts[1].isdigit() else None


def _is_folded(record: logging.LogRecord) -> bool:
    """Whether the shim's handler skips ``record``, because a ``shim.run.ok`` line carries its facts."""
    name = record.name
    if name == "gunicorn.access":
        return fold_access_lines and _folds_access_line(record)
    if name != "azmlinfsrv":
        return False
    if record.levelno >= _ERROR:
        if record.funcName == _SCORING_ENDPOINT:
            return _is_servers_copy(record)
        if _init_copy_pending:
            return _is_servers_init_copy(record)
        return False
    if record.funcName == "_after_request" and fold_access_lines:
        state = context.current()
        if state is None or state[1].get(_RUN_KEY) is None:
            return False
        status = _access_status(record.getMessage())
        return status is not None and status < 500
    return False


def _folds_access_line(record: logging.LogRecord) -> bool:
    """gunicorn's access line of a request whose ``shim.run.ok`` was prepared (`_expect_access_line`)."""
    request_id = configure.access_request_id(record.args)
    if request_id is None:
        return False
    with _lock:
        count = _folded_access.get(request_id)
        if not count:
            return False
        if count == 1:
            del _folded_access[request_id]
        else:
            _folded_access[request_id] = count - 1
    return True
