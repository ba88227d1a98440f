"""The worker's variants, from the shim's full path to the bare server, and their timing (profile_request.py).

Where the microseconds go is measured by taking the shim's stages away one at a time, last first, while the
worker serves real requests: the write of the ``shim.run.ok`` line, then its rendering, its redaction, the other
processors, the logger call, the shim's handling of the server's two access records, the ``request_finished``
hook, the wrapper around ``run()``, and finally the shim's logging itself (the bare server's text handlers back).
A stage's cost is what its removal takes off a served request. Timing each stage in a loop of its own would keep
its code and data in the CPU's caches and its strings in the shim's own caches (the same request id again and
again) and comes out at about half of what it costs between the server's own code; timing it in place with
wrappers adds the wrappers' cost. Removal adds nothing: the variants take turns in every round (the order flips
each round) and every request is timed; the percentiles of the variants are compared.
"""

from __future__ import annotations

import logging
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

Serve = Callable[[Any, Any], None]
SERVER_LOGGERS = ("azmlinfsrv", "gunicorn.access")
MakeRequests = Callable[[int, int], list[Any]]


def _nothing(*_: Any, **__: Any) -> None:
    return None


def _same(_: Any, __: str, event_dict: Any) -> Any:
    return event_dict


def _empty(*_: Any) -> str:
    return ""


class States:
    """Switches the worker between the shim's full path, the shim with its last ``depth`` stages taken away, and
    the bare server (``depth == len(STAGES) + 1``)."""

    def __init__(self, app: Any) -> None:
        from azureml_inference_server_http.log_config import AMLLogFormatter

        from shim.runtime import access
        from shim.stream import configure

        self.access = access
        self.pipeline = configure._pipeline
        self.processors = list(self.pipeline.processors)
        self.user_script = app.blueprints["main"].user_script
        self.wrapped = self.user_script._user_run
        self.write_run_ok = access._write_run_ok
        self.server_handlers = {name: list(logging.getLogger(name).handlers) for name in SERVER_LOGGERS}
        self.root = (list(logging.getLogger().handlers), logging.getLogger().level)
        self.text = logging.StreamHandler(sys.stdout)  # the server's logging.json: one text handler on stdout
        self.text.setFormatter(AMLLogFormatter())

    def use(self, depth: int) -> None:
        """The shim with its last ``depth`` stages (`STAGES`) taken away; past them, the bare server."""
        self._restore()
        for _, take_away in STAGES[:depth]:
            take_away(self)
        if depth > len(STAGES):
            self._bare_logging()

    def _restore(self) -> None:
        import flask

        self.pipeline.processors[:] = self.processors
        self.pipeline.writer.__dict__.pop("write_line", None)
        self.access._write_run_ok = self.write_run_ok
        for name, handlers in self.server_handlers.items():
            logging.getLogger(name).handlers = list(handlers)
        root = logging.getLogger()
        root.handlers = list(self.root[0])
        root.setLevel(self.root[1])
        self.user_script._user_run = self.wrapped
        flask.request_finished.connect(self.access._on_request_finished, weak=False)

    def _bare_logging(self) -> None:
        for name in self.server_handlers:
            logging.getLogger(name).handlers = [self.text]
        root = logging.getLogger()
        root.handlers = []
        root.setLevel(logging.WARNING)  # the bare server leaves the root logger alone


def _no_write(states: States) -> None:
    states.pipeline.writer.write_line = _nothing


def _no_render(states: States) -> None:
    states.pipeline.processors[-1] = _empty


def _no_mask(states: States) -> None:
    states.pipeline.processors[-2] = _same


def _no_timestamp(states: States) -> None:
    states.pipeline.processors[0] = _same


def _no_other_processors(states: States) -> None:
    states.pipeline.processors[1:-2] = [_same] * (len(states.processors) - 3)


def _no_logger_call(states: States) -> None:
    states.access._write_run_ok = _nothing


def _no_shim_handler(states: States) -> None:
    for name in states.server_handlers:
        logging.getLogger(name).handlers = []


def _no_request_finished(states: States) -> None:
    import flask

    flask.request_finished.disconnect(states.access._on_request_finished)


def _no_wrapper(states: States) -> None:
    states.user_script._user_run = states.wrapped.__wrapped__


#: The shim's stages as they are taken away, last first (the table lists them in this order).
STAGES: tuple[tuple[str, Callable[[States], None]], ...] = (
    ("lines: the write (lock, os.write, unlock)", _no_write),
    ("lines: processor render_json (stdlib's C encoder; orjson where installed)", _no_render),
    ("lines: processor mask_event (redaction)", _no_mask),
    ("lines: processor add_timestamp", _no_timestamp),
    ("lines: processors add_level, add_process, add_request_context, render_error", _no_other_processors),
    ("run.ok: the logger call (the event dict, the processors' loop)", _no_logger_call),
    ("the server's two access records through the shim's handler", _no_shim_handler),
    ("request_finished: blinker, the summary's fields, call_on_close, fold bookkeeping", _no_request_finished),
    ("wrap_run: the wrapper, the watchdog's note, the duration noted on flask.g", _no_wrapper),
)
BARE = len(STAGES) + 1


def alternate(states: States, serve: Serve, make_requests: MakeRequests, requests: int, rounds: int) -> list[list[int]]:
    """Blocks of ``requests`` at every depth, 0 (the shim) to `BARE`, in turns (the order flips every round);
    the ns of every request, per depth. Blocks short enough that a slow spell of a busy machine falls on all
    the variants alike, long enough that each variant runs warm, as a worker serving one path does; the
    garbage collector runs as it would (the shim's allocations are part of its cost)."""
    timings: list[list[int]] = [[] for _ in range(BARE + 1)]
    served = 0
    depths = list(range(BARE + 1))
    try:
        for index in range(rounds):
            batches = [make_requests(requests, served + depth * requests) for depth in depths]
            served += len(depths) * requests
            for depth in depths if index % 2 == 0 else depths[::-1]:
                states.use(depth)
                batch = batches[depth]
                each = timings[depth]
                for environ, request in batch:
                    started = time.perf_counter_ns()
                    serve(environ, request)
                    each.append(time.perf_counter_ns() - started)
    finally:
        states.use(0)
    return timings


def table(timings: list[list[int]], percentile: int = 25) -> dict[str, Any]:
    """Each stage's cost: the ``percentile`` of the requests with it, less that of the requests without it, µs."""
    cut = [statistics.quantiles(each, n=100)[percentile - 1] / 1000 for each in timings]
    rows = [(label, round(cut[depth] - cut[depth + 1], 2)) for depth, (label, _) in enumerate(STAGES)]
    return {
        "percentile": percentile,
        "rows": rows,
        "shim_total": round(cut[0] - cut[len(STAGES)], 2),
        "bare_lines": round(cut[BARE] - cut[len(STAGES)], 2),
        "added": round(cut[0] - cut[BARE], 2),
        "bare_us": round(cut[BARE], 2),
        "shim_us": round(cut[0], 2),
    }
