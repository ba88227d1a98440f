"""score-shim: a drop-in debugging shim for Azure ML entry scripts.

Public API::

    from shim import wrap_init, wrap_run

    init = wrap_init(init)
    run = wrap_run(run)
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

from ._version import __version__
from .models.paths import ModelNotFoundException, ModelPathError, WebserviceException, get_model_path
from .runtime import wrap
from .runtime.setup import ensure_started
from .settings import ConfigError, Settings
from .stream.configure import JSONFormatter, configure_logging, get_logger

F = TypeVar("F", bound=Callable[..., Any])


def wrap_init(init: F) -> F:
    """Wrap your own ``init()``: structured start-up events and a logged failure (re-raised unchanged).

    Starts the shim's logging on first use, as the drop-in entry does, and the debug port when
    ``SCORE_SHIM_DEBUG_PORT`` asks for one (before ``init()`` runs).
    """
    from .runtime import debugger  # here, not at the top: `import shim` stays light (benchmarks: import time)

    settings = ensure_started()
    code = getattr(init, "__code__", None)
    debugger.start(settings, remote_root=os.path.dirname(code.co_filename) if code is not None else None)
    return wrap.wrap_init(init)


def wrap_run(run: F) -> F:
    """Wrap your own ``run()``: one ``shim.run.ok`` / ``shim.run.failed`` line per request, with its id.

    The server sees your ``run``'s own signature and decorators (``@input_schema``, ``@rawhttp``).
    """
    ensure_started()
    return wrap.wrap_run(run)


__all__ = [
    "ConfigError",
    "JSONFormatter",
    "ModelNotFoundException",
    "ModelPathError",
    "Settings",
    "WebserviceException",
    "__version__",
    "configure_logging",
    "get_logger",
    "get_model_path",
    "wrap_init",
    "wrap_run",
]
