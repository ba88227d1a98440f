"""Transparent wrappers for a user's ``init()`` and ``run()``.

The server must not be able to tell a wrapped function from the original, and it looks closely
(azureml-inference-server-http 1.5.1, ``user_script._analyze_run``):

- ``inspect.signature(run)`` decides how ``run`` is called; `functools.wraps` sets ``__wrapped__``, which
  ``inspect.signature`` follows, so the server sees the user's own parameters.
- ``inference_schema.schema_util.is_schema_decorated`` walks ``__closure__`` recursively and trusts the
  LAST cell. The wrapper's closure therefore holds exactly one cell, the wrapped function: loggers and
  settings live at module level (a second cell that sorts after it makes ``@input_schema`` vanish).
- The wrapper passes every argument through untouched, so ``request_headers`` reaches the user's ``run``
  exactly when its signature asks for it.
- Exceptions are re-raised as they are (``TimeoutError`` included), so the server still answers 500 with
  ``x-ms-run-function-failed: True``; only in debug mode (``SCORE_SHIM_DEBUG=1``) is an ``Exception``
  answered with a 500 response object that carries it (see `shim.runtime.echo`).
"""

from __future__ import annotations

import contextlib
import functools
from time import perf_counter

from . import echo, events, hold, watchdog

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: `typing` is not imported by a worker's start (issue 17, import time)
    from collections.abc import Callable
    from contextlib import AbstractContextManager
    from typing import Any, TypeVar

    F = TypeVar("F", bound=Callable[..., Any])

_WRAPPED_MARK = "__score_shim_wrapped__"


def wrap_init(init: F) -> F:
    """Wrap ``init()``: log ``shim.init.start``, then ``shim.init.ok`` or ``shim.init.failed``."""
    if getattr(init, _WRAPPED_MARK, False):
        return init

    @functools.wraps(init)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        recording = _model_hooks()
        events.init_start(_entry_name(init))
        events.model_probe()
        started = perf_counter()
        try:
            with recording:  # scikit-learn's version warnings, for the diagnosis
                result = init(*args, **kwargs)
        except BaseException as error:
            events.init_failed(error, started, servers_copy=not hold.enabled)
            if hold.hold(error, functools.partial(init, *args, **kwargs)):  # opt-in hold mode
                return None
            raise
        events.init_ok(started)
        return result

    setattr(wrapper, _WRAPPED_MARK, True)
    return wrapper  # type: ignore[return-value]


def _model_hooks() -> AbstractContextManager[Any]:
    """Install the azureml-core hook (it logs the script's own ``get_model_path`` calls; it never imports
    azureml-core), and return the recorder of scikit-learn's version warnings for ``init()``'s diagnosis.

    ``shim.models`` is imported here, when ``init()`` runs, not when the script is loaded: the drop-in entry's
    import stays light (issue 17), and the model probe loads it then anyway. Never raises into ``init()``.
    """
    try:
        from ..models import azureml_hook, version_warnings

        azureml_hook.install()
        return version_warnings.recording()
    except Exception:
        return contextlib.nullcontext()


def wrap_run(run: F) -> F:
    """Wrap ``run()``: one ``shim.run.ok`` or ``shim.run.failed`` line per call, with the request id."""
    if getattr(run, _WRAPPED_MARK, False):
        return run

    @functools.wraps(run)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if hold.error is not None:  # init() failed and hold mode kept the worker up
            answer = hold.answer()
            if answer is not None:
                return answer
        started = perf_counter()
        request = watchdog.run_started(started)  # the request's context, looked up once for the run's line too
        try:
            result = run(*args, **kwargs)
        except BaseException as error:
            watchdog.run_finished()
            answer = echo.answer_for(error)  # debug mode only; never a timeout
            events.run_failed(error, started, args, kwargs, raised=answer is None)
            if answer is not None:
                return answer
            raise
        watchdog.run_finished()
        events.run_ok(started, args, kwargs, request)
        return result

    setattr(wrapper, _WRAPPED_MARK, True)
    return wrapper  # type: ignore[return-value]


def _entry_name(fn: Callable[..., Any]) -> str | None:
    code = getattr(fn, "__code__", None)
    return getattr(code, "co_filename", None)
