"""score-shim: a drop-in debugging shim for Azure ML entry scripts.

Public API::

    from shim import wrap_init, wrap_run

    init = wrap_init(init)
    run = wrap_run(run)

``get_model_path`` and its exceptions are imported on first use (PEP 562, a module ``__getattr__``): the model
paths need ``dataclasses`` and ``typing``, and ``import shim``, which the drop-in entry runs too, stays light in
a fresh interpreter without them (issue 17). Type checkers see them as ordinary imports.
"""

from __future__ import annotations

import os

from ._version import __version__
from .runtime import wrap
from .runtime.setup import ensure_started
from .settings import ConfigError, Settings
from .stream.configure import JSONFormatter, configure_logging, get_logger

TYPE_CHECKING = False
if TYPE_CHECKING:  # the lazy names as type checkers see them; `typing` is not imported at run time
    from collections.abc import Callable
    from typing import Any, TypeVar

    from .models.paths import ModelNotFoundException, ModelPathError, WebserviceException, get_model_path

    F = TypeVar("F", bound=Callable[..., Any])

#: The public names of shim.models.paths, imported when one is first read.
_MODEL_PATHS = ("ModelNotFoundException", "ModelPathError", "WebserviceException", "get_model_path")


def __getattr__(name: str) -> object:
    if name not in _MODEL_PATHS:
        raise AttributeError(f"module 'shim' has no attribute {name!r}")
    from .models import paths

    value = getattr(paths, name)
    globals()[name] = value  # read once: later reads are plain attribute reads
    return value


def wrap_init(init: F) -> F:
    """Wrap your own ``init()``: structured start-up events and a logged failure (re-raised unchanged).

    Starts the shim's logging on first use, as the drop-in entry does, and the debug port when
    ``SCORE_SHIM_DEBUG_PORT`` asks for one (before ``init()`` runs).
    """
    settings = ensure_started()
    if settings.debug_port is not None:  # debugger.start does nothing without a port: not imported then
        from .runtime import debugger

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
