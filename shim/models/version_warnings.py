"""scikit-learn's ``InconsistentVersionWarning`` issued while ``init()`` runs, kept for the diagnosis.

A model saved with another scikit-learn warns when it is unpickled, naming both versions, and may then fail
to load. `recording` wraps ``warnings._showwarnmsg`` (the one function every shown warning passes through,
the C ``warnings.warn`` included) while ``init()`` runs: the warning is noted and then shown exactly as
before, through whatever ``showwarning`` is set. Only around ``init()``: ``run()`` pays nothing. A warning
that the filters ignore is not seen (nor would it have been shown).
"""

from __future__ import annotations

import warnings
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

#: The last few seen, newest last: (estimator, saved with, installed here).
recorded: deque[tuple[str, str, str]] = deque(maxlen=5)


def _note(message: Any) -> None:
    try:
        warning = getattr(message, "message", None)
        if type(warning).__name__ == "InconsistentVersionWarning":
            names = ("estimator_name", "original_sklearn_version", "current_sklearn_version")
            found = tuple(str(getattr(warning, name, "") or "")[:100] for name in names)
            if all(found):
                recorded.append(found)  # type: ignore[arg-type]
    except Exception:  # never break a warning's output
        pass


@contextmanager
def recording() -> Iterator[None]:
    """Note the version warnings shown inside the block; the warnings' output is unchanged."""
    original: Callable[[Any], None] | None = getattr(warnings, "_showwarnmsg", None)
    if original is None or not callable(original):  # another Python's warnings module: nothing noted
        yield
        return

    def showing(message: Any) -> None:
        _note(message)
        original(message)

    recorded.clear()
    warnings._showwarnmsg = showing  # type: ignore[attr-defined]
    try:
        yield
    finally:
        if getattr(warnings, "_showwarnmsg", None) is showing:
            warnings._showwarnmsg = original  # type: ignore[attr-defined]
