"""The drop-in entry: load the user's script named by ``SCORE_SHIM_ENTRY_SCRIPT`` and wrap it.

Called when the server imports ``score_wrappers/entry.py``. The user's script is imported right away, not
inside ``init()``: the server inspects ``run`` (its signature, ``@input_schema``, ``@rawhttp``) before it
calls ``init()``. Before it, the user's ``config.json`` and ``logging.json`` beside score.py are honoured
(`shim.runtime.user_files`): the server looked for them beside the entry script, which is not score.py.
"""

from __future__ import annotations

import threading
from time import perf_counter

from . import events, hold, user_files, watchdog
from .loader import ScriptLoadError, entry_points, import_script, resolve_entry_script
from .setup import ensure_started
from .wrap import wrap_init, wrap_run

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: `typing` is not imported by a worker's start (issue 17, import time)
    from collections.abc import Callable
    from typing import Any

    from ..settings import Settings

_lock = threading.Lock()
_loaded: tuple[Callable[..., Any], Callable[..., Any]] | None = None


def load_entry() -> tuple[Callable[..., Any], Callable[..., Any]]:
    """The wrapped ``(init, run)`` of the user's script; imported once per process.

    A problem the shim can explain is logged as ``shim.init.failed`` and raised as `ScriptLoadError`; an
    exception raised by the user's script while it is imported is logged and re-raised unchanged. Either
    way the server stops with exit code 3, as it would for a broken script.
    """
    global _loaded
    with _lock:
        if _loaded is not None:
            return _loaded
        try:
            settings = ensure_started()
        except Exception as error:
            raise ScriptLoadError(str(error)) from None
        started = perf_counter()
        try:
            path = resolve_entry_script(settings.entry_script)
            # The user's config.json and logging.json beside score.py, where the bare server finds them.
            user_files.adopt(path, settings.log_level)
        except ScriptLoadError as error:
            events.init_failed(error, started, phase="load", entry_script=settings.entry_script, diagnosis=str(error))
            if hold.hold(error, retry=None):
                return _held()
            raise
        watchdog.configure(settings.slow_run_ms, settings.memory_warn_percent)  # the scoring timeout in force
        # Before the script is imported, so that module-level code and init() can be stepped through too.
        _start_debugger(settings, str(path.parent))
        started = perf_counter()
        try:
            module = import_script(path)
            init, run = entry_points(module)
        except ScriptLoadError as error:
            events.init_failed(error, started, phase="load", entry_script=str(path), diagnosis=str(error))
            if hold.hold(error, retry=None):
                return _held()
            raise
        except BaseException as error:
            events.init_failed(error, started, phase="import", entry_script=str(path))
            if hold.hold(error, retry=None):
                return _held()
            raise
        _loaded = (wrap_init(init), wrap_run(run))
        return _loaded


def _start_debugger(settings: Settings, remote_root: str) -> None:
    """The debug port, when one is asked for. `debugger` (sockets, the relay, the lock files) is imported only
    then: ``debugger.start`` does nothing without a port, and a worker's start should not pay for it (issue 17)."""
    if settings.debug_port is None:
        return
    from . import debugger

    debugger.start(settings, remote_root=remote_root)


def _held() -> tuple[Callable[..., Any], Callable[..., Any]]:
    """Hold mode, when the script itself could not be loaded: placeholders that answer 503."""
    global _loaded
    _loaded = (hold.placeholder_init, hold.placeholder_run)
    return _loaded
