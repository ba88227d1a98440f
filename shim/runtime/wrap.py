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

import functools
from collections.abc import Callable
from time import perf_counter
from typing import Any, TypeVar

from ..models import azureml_hook, version_warnings
from . import echo, events, hold, watchdog

F = TypeVar("F", bound=Callable[..., Any])

_WRAPPED_MARK = "__score_shim_wrapped__"


def wrap_init(init: F) -> F:
    """Wrap ``init()``: log ``shim.init.start``, then ``shim.init.ok`` or ``shim.init.failed``."""
    if getattr(init, _WRAPPED_MARK, False):
        return init
    azureml_hook.install()  # logs the script's own azureml-core get_model_path calls; never imports it

    @functools.wraps(init)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        events.init_start(_entry_name(init))
        events.model_probe()
        started = perf_counter()
        try:
            with version_warnings.recording():  # scikit-learn's version warnings, for the diagnosis
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
        watchdog.run_started(started)
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
        events.run_ok(started, args, kwargs)
        return result

    setattr(wrapper, _WRAPPED_MARK, True)
    return wrapper  # type: ignore[return-value]


def _entry_name(fn: Callable[..., Any]) -> str | None:
    code = getattr(fn, "__code__", None)
    return getattr(code, "co_filename", None)
