"""A traceback's frames: whose code each is (the user's or someone else's), and the phase they were in.

The phase is read from the frames' function names, outermost first: the user's ``init`` or ``run``, the
user's module being executed (``<module>``), or the server's own loader and callers (``load_script``,
``invoke_init``, ``invoke_run``). A traceback that names none of them has no phase.
"""

from __future__ import annotations

import re
from functools import lru_cache

#: ``  File "/var/azureml-app/score.py", line 2, in <module>``, as Python formats a frame.
FRAME_RE = re.compile(r'\s*File "(.+?)", line (\d+), in (\S+)')

#: One frame: file, line, function.
Frame = tuple[str, int, str]

#: The folders of the shim's own code that run inside the server: their frames are never the user's.
_SHIM_PARTS = ("runtime", "stream", "models")
#: Paths of code that is not the user's: packages, the standard library, the server (new and old), the shim.
_LIBRARY_PARTS = (
    "/site-packages/",
    "/dist-packages/",
    "/lib/python",
    "/azureml_inference_server_http/",
    "/var/azureml-server/",
    "/shim/_",  # score-shim 0.1's flat layout, in logs from containers not yet updated
    *(f"/shim/{part}/" for part in _SHIM_PARTS),
)
_LIBRARY_RE = re.compile("|".join(re.escape(part) for part in _LIBRARY_PARTS))
_USER_PHASES = {"init": "init", "run": "run", "<module>": "import"}
_SERVER_PHASES = {
    "load_script": "import",
    "_import": "import",
    "invoke_init": "init",
    "invoke_run": "run",
    "handle_score": "run",
}


@lru_cache(maxsize=1024)  # a log's tracebacks name the same few files again and again
def is_library(path: str) -> bool:
    """Whether a frame's file is someone else's code (the server, a package, the shim), not the user's."""
    return (
        path.startswith("<")
        or path.endswith((".pyx", ".pxd", ".pxi", "score_wrappers/entry.py"))
        or _LIBRARY_RE.search(path) is not None
    )


def phase_of(frames: list[Frame]) -> str | None:
    """``import``, ``init`` or ``run`` from the frames' functions (outermost first); None when they do not say."""
    for path, _, function in frames:
        if function in _USER_PHASES and not is_library(path):
            return _USER_PHASES[function]
    for path, _, function in frames:
        if function in _SERVER_PHASES and is_library(path):
            return _SERVER_PHASES[function]
    return None
