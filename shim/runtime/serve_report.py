"""Why ``init()`` failed, handed to ``score-shim serve``, which prints it as its last lines.

When a start fails, the server's output holds the reason 40 lines up, between the shim's event and the
server's own traceback; a person reads the last lines. ``serve`` names a file in a private temporary folder
(`ENV`); the worker whose ``init()`` (or import) failed writes the error and the diagnosis there, as the
``shim.init.failed`` line has them (message masked and clipped), and ``serve`` reads it once the server has
exited with code 3. Nothing is written without ``serve``: the variable is unset in a deployment.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: `typing` is not imported by a worker's start (issue 17, import time)
    from typing import Any

ENV = "SCORE_SHIM_SERVE_REPORT"


def note_init_failure(phase: str, error: dict[str, Any], diagnosis: object) -> None:
    """Write the failure for ``serve`` (atomically: a reader never sees half a file); never raises."""
    import json  # here, not at the top: json is not imported by a worker's start (issue 17, import time)

    path = os.environ.get(ENV)
    if not path:
        return
    report = {key: error.get(key) for key in ("type", "message", "where")}
    report["phase"] = phase
    report["diagnosis"] = diagnosis if isinstance(diagnosis, str) else None
    try:
        partial = f"{path}.{os.getpid()}"
        with open(partial, "w", encoding="utf-8") as out:
            json.dump(report, out)
        os.replace(partial, path)
    except (OSError, TypeError, ValueError):
        pass


def read(path: str) -> dict[str, Any] | None:
    """What a worker wrote (``serve``'s side); None when nothing was, or it cannot be read."""
    import json  # here, not at the top: json is not imported by a worker's start (issue 17, import time)

    try:
        with open(path, encoding="utf-8") as source:
            report = json.load(source)
    except (OSError, ValueError):
        return None
    return report if isinstance(report, dict) else None
