"""What a formatted traceback says: the exception, its message, the user's frame it was raised from, its phase.

The error summaries the shim writes (``{"type", "message", "where"}``) and the ones read here from the
server's text tracebacks have the same shape, so failures group the same way whichever line told them.
A chain (``The above exception was the direct cause ...``) is read as one failure: the exception named is
the last one the user's code raised (the server's wrappers, ``UserScriptException`` and
``UserScriptImportException``, are skipped for the exception they wrap, as the shim's own events do), and
the chain's first exception, when it is another, is its ``cause``. A traceback pasted without its header
(frames and the exception line) reads the same; so does a lone exception line, or a known failure's message
without its type (``Model not found in cache``: `shim.models.known_failures.bare_failure`).
"""

from __future__ import annotations

import re
from typing import Any

from ..models.known_failures import bare_failure
from .frames import FRAME_RE, Frame, is_library, phase_of

_TIMEOUT_TEXTS = ("Scoring timeout after", "Script failed to finish execution within the allocated time")
_HEADER = "Traceback (most recent call last)"
_CHAIN_MARKERS = ("The above exception was the direct cause", "During handling of the above exception")
#: ``ModuleNotFoundError: No module named 'lightgbm'``: an exception line on its own (dotted names allowed).
EXCEPTION_LINE_RE = re.compile(r"([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Timeout))(?::\s?(.*))?")
_SERVER_WRAPPERS = ("UserScriptException", "UserScriptImportException")
#: How an exception line starts: a (dotted) name, then a colon or the end of the line.
_EXCEPTION_HEAD_RE = re.compile(r"[A-Za-z_][\w.]*(?::|\s*$)")


class _Segment:
    """One traceback of a chain: its frames and the exception line that ends it."""

    __slots__ = ("chained", "frames", "line")

    def __init__(self, chained: bool) -> None:
        self.chained = chained  # a chain marker came before it: it belongs to the previous segment's failure
        self.frames: list[Frame] = []
        self.line = ""


def analyse_traceback(text: str) -> dict[str, Any] | None:
    """The failure a formatted traceback tells: ``type``, ``message``, ``where``, ``phase`` and maybe ``cause``.

    ``where`` is the user's innermost frame of the exception named, else of the chain; ``phase`` is read from
    the frames (`phase_of`). None when ``text`` holds no traceback.
    """
    chain = _last_chain(_segments(text))
    if not chain:
        return None
    chosen = next((s for s in reversed(chain) if not _is_wrapper(s.line)), chain[-1])
    out = _exception(chosen.line)
    where = _user_frame(chosen, chain)
    if where is not None:
        out["where"] = {"file": where[0], "line": where[1], "function": where[2]}
    phase = phase_of([frame for segment in reversed(chain) for frame in segment.frames])
    if phase is not None:
        out["phase"] = phase
    cause = _exception(chain[0].line)
    if chain[0] is not chosen and not _is_wrapper(chain[0].line) and cause != _exception(chosen.line):
        out["cause"] = cause
    return out


def _segments(text: str) -> list[_Segment]:
    """Each traceback of ``text`` with its frames and its exception line; a frame may start one (no header)."""
    segments: list[_Segment] = []
    current: _Segment | None = None
    chained = False
    for line in text.split("\n"):
        if _HEADER in line:
            current, chained = _Segment(chained), False
            continue
        match = FRAME_RE.match(line)
        if match:
            if current is None:
                current, chained = _Segment(chained), False
            current.frames.append((match.group(1), int(match.group(2)), match.group(3)))
        elif line.startswith(_CHAIN_MARKERS):
            chained = True
        elif current is not None and line and not line[0].isspace():
            if not _EXCEPTION_HEAD_RE.match(line):
                continue  # not an exception line: IPython's "path in function(args)", a code line pasted flush
            current.line = line.strip()
            segments.append(current)
            current = None
        elif current is None and segments and line[:1].isspace() and line.lstrip().startswith(_MESSAGE):
            _azureml_message(segments[-1], line.strip()[len(_MESSAGE) :])
        elif current is None and not segments:
            lone_line = unquote(line)
            if not EXCEPTION_LINE_RE.fullmatch(lone_line):
                bare = bare_failure(lone_line)  # a known failure's message without its type
                lone_line = f"{bare[0]}: {bare[1]}" if bare else ""
            if lone_line:
                lone = _Segment(chained)  # a lone exception line (``ModuleNotFoundError: ...``)
                lone.line = lone_line
                segments.append(lone)
    return segments


_QUOTES = ('"', "'", "`")


def unquote(line: str) -> str:
    """A line as pasted in quotes or backticks (``"FileNotFoundError: ..."``, ```NO_SUCHFILE : ...```), without them."""
    text = line.strip()
    if len(text) > 1 and text[0] in _QUOTES and text[-1] == text[0]:
        return text[1:-1].strip()
    return text


#: azureml-core's exceptions print their message on a line of its own: ``X: X:`` then ``\tMessage: ...``.
_MESSAGE = "Message: "


def _azureml_message(segment: _Segment, message: str) -> None:
    """The message of ``ModelNotFoundException: ModelNotFoundException:`` is on the ``Message:`` line after it;
    so is the rest of a message that ends with the name of the azureml-core exception it wraps."""
    kind, _, said = segment.line.partition(": ")
    if said.strip().rstrip(":") in ("", kind.rpartition(".")[2]) and message:
        segment.line = f"{kind.rstrip(':')}: {message}"
    elif said.rstrip().endswith(":") and message:  # "... details: WebserviceException:" wraps one printed so
        segment.line = f"{segment.line.rstrip()} {message}"


def frame_files(text: str) -> list[str]:
    """The files of the frames of the exception a traceback names (`analyse_traceback`), outermost first."""
    chain = _last_chain(_segments(text))
    chosen = next((s for s in reversed(chain) if not _is_wrapper(s.line)), chain[-1]) if chain else None
    return [frame[0] for frame in chosen.frames] if chosen is not None else []


def _last_chain(segments: list[_Segment]) -> list[_Segment]:
    """The last failure: its segments from the first (the root cause) to the last (what reached the server)."""
    start = len(segments) - 1
    while start > 0 and segments[start].chained:
        start -= 1
    return segments[max(start, 0) :]


def _is_wrapper(line: str) -> bool:
    return line.split(":", 1)[0].endswith(_SERVER_WRAPPERS)


def _exception(line: str) -> dict[str, Any]:
    kind, _, message = line.partition(": ")
    if not re.fullmatch(r"[\w.]+", kind):
        kind, message = line, ""
    return {"type": kind.rstrip(":"), "message": message.strip()}


def _user_frame(chosen: _Segment, chain: list[_Segment]) -> Frame | None:
    """The user's innermost frame of the exception named, else of the chain from its root; None when no frame
    is the user's (a paste of library frames only): the server's, a package's or compiled code is no place to
    fix, and a failure is grouped by where the user's code is."""
    for segment in (chosen, *chain):
        user = [frame for frame in segment.frames if not is_library(frame[0])]
        if user:
            return user[-1]
    return None


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
    return {key: error[key] for key in ("type", "message", "where", "cause") if key in error}


def is_timeout(error: dict[str, Any] | None, text: str = "") -> bool:
    """Whether the failure was a run that took too long (the shim's TimeoutError, the server's own texts)."""
    kind = str(error.get("type", "")) if error else ""
    return (
        kind == "TimeoutError" or kind.endswith("UserScriptTimeout") or any(marker in text for marker in _TIMEOUT_TEXTS)
    )
