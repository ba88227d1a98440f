"""The drop-in entry script: point the server here and ``SCORE_SHIM_ENTRY_SCRIPT`` at your score.py.

    AZUREML_ENTRY_SCRIPT=.../score_wrappers/entry.py  SCORE_SHIM_ENTRY_SCRIPT=score.py

or, where the entry script must live in your code folder (managed online endpoints), a one-line file:

    from score_wrappers.entry import init, run  # noqa: F401

This module exposes only ``init`` and ``run`` (never a ``driver_module``, which the server would follow).
"""

from shim.runtime.entry import load_entry as _load_entry
from shim.runtime.loader import ScriptLoadError as _ScriptLoadError

try:
    init, run = _load_entry()
except _ScriptLoadError as _error:
    # Raised afresh here so that the server's traceback is one line of this file and the message,
    # not the shim's internals.
    raise _ScriptLoadError(str(_error)) from None

__all__ = ["init", "run"]
