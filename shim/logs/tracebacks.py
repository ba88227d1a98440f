"""What a formatted traceback says: the exception, its message, and the user's frame it was raised from.

The error summaries the shim writes (``{"type", "message", "where"}``) and the ones read here from the
server's text tracebacks have the same shape, so failures group the same way whichever line told them.
"""

from __future__ import annotations

import re
from typing import Any

_FRAME_RE = re.compile(r'\s*File "(.+)", line (\d+), in (.+)')
_TIMEOUT_TEXTS = ("Scoring timeout after", "Script failed to finish execution within the allocated time")
#: The folders of the shim's own code that run inside the server: their frames are never the user's.
_SHIM_PARTS = ("runtime", "stream", "models")

#: One traceback of a chain: its frames (file, line, function) and the exception line that ends it.
_Segment = tuple[list[tuple[str, int, str]], str]


def analyse_traceback(text: str) -> dict[str, Any] | None:
    """The exception a formatted traceback ends in: type, message and where (the user's innermost frame).

    In a chain (``The above exception was the direct cause ...``) the server's own wrapper
    (``UserScriptException``) is skipped for the exception it wraps, which is the user's.
    """
    segments = _segments(text)
    if not segments:
        return None
    chosen = segments[-1]
    for segment in reversed(segments):
        if not segment[1].split(":", 1)[0].endswith("UserScriptException"):
            chosen = segment
            break
    frames, line = chosen
    kind, _, message = line.partition(": ")
    if not re.fullmatch(r"[\w.]+", kind):
        kind, message = line, ""
    out: dict[str, Any] = {"type": kind.rstrip(":"), "message": message.strip()}
    user = [frame for frame in frames if not is_library(frame[0])]
    if user or frames:
        frame = (user or frames)[-1]
        out["where"] = {"file": frame[0], "line": frame[1], "function": frame[2]}
    return out


def _segments(text: str) -> list[_Segment]:
    """Each ``Traceback (most recent call last)`` of ``text`` with its frames and its exception line."""
    segments: list[_Segment] = []
    frames: list[tuple[str, int, str]] = []
    inside = False
    for line in text.split("\n"):
        if "Traceback (most recent call last)" in line:
            frames, inside = [], True
            continue
        if not inside:
            continue
        match = _FRAME_RE.match(line)
        if match:
            frames.append((match.group(1), int(match.group(2)), match.group(3).strip()))
        elif line and not line[0].isspace():
            segments.append((frames, line.strip()))
            inside = False
    return segments


def is_library(path: str) -> bool:
    """Whether a frame's file is someone else's code (the server, a package, the shim), not the user's."""
    return (
        "/site-packages/" in path
        or "/dist-packages/" in path
        or "/lib/python" in path
        or path.startswith("<")
        or "/shim/_" in path  # score-shim 0.1's flat layout, in logs from containers not yet updated
        or any(f"/shim/{part}/" in path for part in _SHIM_PARTS)
        or path.endswith("score_wrappers/entry.py")
    )


def error_place(error: dict[str, Any] | None) -> str | None:
    """``file:line`` where the error was raised, as failures are grouped by it."""
    where = error.get("where") if isinstance(error, dict) else None
    if isinstance(where, dict) and where.get("file"):
        return f"{where['file']}:{where.get('line')}"
    return None


def short_error(error: dict[str, Any] | None) -> dict[str, Any] | None:
    """The error without its traceback: what a worker entry shows."""
    if not error:
        return None
    return {key: error[key] for key in ("type", "message", "where") if key in error}


def is_timeout(error: dict[str, Any] | None, text: str = "") -> bool:
    """Whether the failure was a run that took too long (the shim's TimeoutError, the server's own texts)."""
    kind = str(error.get("type", "")) if error else ""
    return (
        kind == "TimeoutError" or kind.endswith("UserScriptTimeout") or any(marker in text for marker in _TIMEOUT_TEXTS)
    )
