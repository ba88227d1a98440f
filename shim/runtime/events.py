"""The shim's events about ``init()`` and ``run()``: what is logged, never how it is wrapped.

Every function here is called from the hot path of someone else's code, so each one swallows its own
failures (counted in `failures`) the way sentry-python's integrations do: instrumentation that breaks
must not break the script it instruments.
"""

from __future__ import annotations

import functools
import os
import sys
from time import perf_counter

from .._version import __version__
from ..stream import context
from ..stream.configure import bridge_library_loggers, get_logger, report_internal_error
from ..stream.console import register_view
from . import access, memory, payload, serve_report

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: `typing` is not imported by a worker's start (issue 17, import time)
    from collections.abc import Callable
    from typing import Any, TypeVar

    F = TypeVar("F", bound=Callable[..., None])

log = get_logger("shim")

#: How many times the shim's own logging failed; exposed for tests and `score-shim check`.
failures = 0


def _never_raises(fn: F) -> F:
    @functools.wraps(fn)
    def guarded(*args: Any, **kwargs: Any) -> None:
        global failures
        try:
            fn(*args, **kwargs)
        except Exception as error:
            failures += 1
            report_internal_error(f"_events.{fn.__name__}", error)

    return guarded  # type: ignore[return-value]


def _ms_since(started: float) -> float:
    return round((perf_counter() - started) * 1000, 3)


def _server_version() -> str | None:
    try:
        from importlib.metadata import version

        return version("azureml-inference-server-http")
    except Exception:
        return None


@_never_raises
def init_start(entry_script: str | None) -> None:
    bridge_library_loggers()  # the libraries the script imported may have set up console handlers
    log.info(
        "shim.init.start",
        entry_script=entry_script,
        azureml_model_dir=os.environ.get("AZUREML_MODEL_DIR"),
        aml_app_root=os.environ.get("AML_APP_ROOT"),
        python=sys.version.split()[0],
        shim_version=__version__,
        server_version=_server_version(),
    )


@_never_raises
def model_probe() -> None:
    """``shim.model.probe``: where the model should be and what is there, before ``init()`` runs."""
    from ..models.probe import probe_models  # here: once per process, not on `import shim` (import time)

    report = probe_models()
    # No model at all (AZUREML_MODEL_DIR unset) is normal for a deployment without one: info, not warning.
    problems = report.get("problems", [])
    worrying = len(problems) > 1 or (bool(problems) and report.get("layout") != "unset")
    (log.warning if worrying else log.info)("shim.model.probe", **report)


def _diagnosis_fields(error: BaseException) -> dict[str, Any]:
    try:
        from ..models.diagnosis import event_fields  # here: failures only, not on `import shim` (import time)

        return event_fields(error)
    except Exception:
        return {}


@_never_raises
def init_ok(started: float) -> None:
    bridge_library_loggers()  # and those init() set up
    # The memory init() left behind, and the container's limit: what the OOM killer will go by.
    log.info("shim.init.ok", duration_ms=_ms_since(started), memory=memory.snapshot())


@_never_raises
def init_failed(
    error: BaseException,
    started: float | None = None,
    *,
    phase: str = "init",
    servers_copy: bool = True,
    **details: Any,
) -> None:
    """``shim.init.failed``; ``servers_copy``: the error goes on to the server, which logs it again (not when
    hold mode keeps the worker up: the server then sees init() succeed)."""
    if phase in ("init", "import") and "diagnosis" not in details:
        details.update(_diagnosis_fields(error))  # a missing model, in plain words (shim.models.diagnosis)
    if phase == "init" and servers_copy and isinstance(error, Exception):
        details.update(access.fold_servers_init_copy())  # the server's copy of this traceback is folded here
    fields: dict[str, Any] = {"phase": phase, "error": error, **details}
    if started is not None:
        fields["duration_ms"] = _ms_since(started)
    log.error("shim.init.failed", **fields)
    if os.environ.get(serve_report.ENV):  # score-shim serve prints it last
        from ..stream.processors import describe_exception

        serve_report.note_init_failure(phase, describe_exception(error), fields.get("diagnosis"))


#: What a failure's line carries for machines (``score-shim logs``, ``jq``): the console shows the rest.
_FOR_MACHINES = ("diagnosis_facts", "server_logged")


def _failure_view(event_dict: dict[str, Any]) -> dict[str, Any]:
    """A failure on a terminal: the error, where and why; the facts behind the diagnosis stay in the JSON line."""
    return {key: value for key, value in event_dict.items() if key not in _FOR_MACHINES}


register_view("shim.init.failed", _failure_view)
register_view("shim.run.failed", _failure_view)


def run_ok(
    started: float,
    args: tuple[Any, ...] = (),
    kwargs: dict[str, Any] | None = None,
    request: context.State | None = None,
) -> None:
    """Inside a served request (``request``: its context, as the wrapper looked it up) the line is written once
    the response is known, with its status (`access.defer_run_ok`); elsewhere at once. Never raises: guarded by
    hand rather than by `_never_raises`, whose extra call would be paid by every request."""
    global failures
    try:
        duration_ms = round((perf_counter() - started) * 1000, 3)
        described = payload.describe(args, kwargs) if payload.enabled else None
        if request is None or not access.defer_run_ok(request, duration_ms, described):
            fields: dict[str, Any] = {"duration_ms": duration_ms, "input_bytes": context.input_bytes()}
            if described is not None:
                fields["payload"] = described
            log.info("shim.run.ok", **fields)
    except Exception as error:
        failures += 1
        report_internal_error("_events.run_ok", error)


def _known_failure(error: BaseException) -> str | None:
    """A run() failure that is one of the ecosystem's known breakages (a module the environment lacks, numpy's
    binary mismatch, ...), from its type, message and frames only: per failing request, no file system walk."""
    try:
        from ..models import known_failures  # here: failures only, not on `import shim` (import time)

        kind, message = type(error).__name__, str(error)
        if not known_failures.may_explain(kind, message):
            return None
        files: list[str] = []
        tb = error.__traceback__
        while tb is not None and len(files) < 200:
            files.append(tb.tb_frame.f_code.co_filename)
            tb = tb.tb_next
        found = known_failures.explain(kind, message, files)
        return found.text if found is not None else None
    except Exception:
        return None


def _system_exit_diagnosis(error: SystemExit) -> str:
    # gunicorn's WORKER_TIMEOUT: the arbiter sends SIGABRT and the worker's handler calls sys.exit(1) in
    # whatever frame run() was in; the traceback's last frame is that handler, not the user's code.
    tb = error.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    code = tb.tb_frame.f_code if tb is not None else None
    if code is not None and code.co_name == "handle_abort" and "gunicorn" in code.co_filename:
        return (
            "gunicorn stopped this worker: run() outlasted "
            f"WORKER_TIMEOUT={os.environ.get('WORKER_TIMEOUT', '300')} s. "
            "The traceback shows the line it was on; the server answers 500 and starts a new worker, which "
            "runs init() again."
        )
    return (
        f"run() called sys.exit({error.code!r}): the server answers 500 and the worker goes on serving. "
        "Raise an exception or return an error value instead."
    )


@_never_raises
def run_failed(
    error: BaseException,
    started: float,
    args: tuple[Any, ...] = (),
    kwargs: dict[str, Any] | None = None,
    *,
    raised: bool = True,
) -> None:
    """``shim.run.failed``; ``raised``: the error goes on to the server (not answered by the debug echo)."""
    fields: dict[str, Any] = {}
    if raised and isinstance(error, Exception) and not isinstance(error, TimeoutError):
        fields.update(access.fold_servers_copy())  # the server's copy of this traceback is folded here
    if isinstance(error, TimeoutError):
        # The server's SCORING_TIMEOUT_MS alarm: it re-raises `from None`, so this traceback is the only
        # record of where run() was when time ran out.
        fields["diagnosis"] = (
            "run() was interrupted by the server's scoring timeout "
            f"(SCORING_TIMEOUT_MS={os.environ.get('SCORING_TIMEOUT_MS', '3600000')}); "
            "the traceback shows the line it was on."
        )
    elif isinstance(error, SystemExit):
        fields["diagnosis"] = _system_exit_diagnosis(error)
    else:
        known = _known_failure(error)
        if known is not None:
            fields["diagnosis"] = known
    if payload.enabled:
        fields["payload"] = payload.describe(args, kwargs)
    log.error(
        "shim.run.failed", duration_ms=_ms_since(started), input_bytes=context.input_bytes(), error=error, **fields
    )
