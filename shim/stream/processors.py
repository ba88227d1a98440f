"""structlog processors: plain functions, one job each.

They run for the shim's own events and, through `shim.JSONFormatter`, for every stdlib log record (the
server's, gunicorn's, the user's), so that one stream carries one schema. None of them may raise: a log
line must never break scoring, so each guards what it reads from the outside world.
"""

from __future__ import annotations

import math
import os
import sys
import time

from . import context, fast_json, redaction

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: `typing` is not imported by a worker's start (issue 17, import time)
    import json
    from collections.abc import Callable
    from types import TracebackType
    from typing import Any

    EventDict = dict[str, Any]

#: Keys that lead every JSON line, in this order; the rest follow as they were bound.
HEAD_KEYS = ("timestamp", "level", "event", "logger")

_LEVEL_OF_METHOD = {"exception": "error", "warn": "warning", "msg": "info", "fatal": "critical"}

#: How much of a traceback a single line may carry; the head and the tail are kept, where the user's
#: frame and the exception are.
MAX_TRACEBACK_CHARS = 16_000
#: How much of an exception's message, or of a log record's text, one line may carry (head and tail).
MAX_MESSAGE_CHARS = 4_000
MAX_EVENT_CHARS = 16_000


_second_cache: tuple[int, str] = (-1, "")


def iso_timestamp(seconds: float) -> str:
    """ISO 8601 in UTC with microseconds and a ``Z``, the form Log Analytics parses.

    The date and time down to the second are formatted once per second: formatting a datetime is the
    dearest part of a line after the JSON itself.
    """
    global _second_cache
    whole = int(seconds)
    cached_second, prefix = _second_cache
    if whole != cached_second:
        # time.gmtime, not datetime: the same text, without importing datetime (issue 17, import time).
        prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))
        _second_cache = (whole, prefix)
    return f"{prefix}.{int((seconds - whole) * 1_000_000):06d}Z"


def add_timestamp(_: object, __: str, event_dict: EventDict) -> EventDict:
    if "timestamp" not in event_dict:
        event_dict["timestamp"] = iso_timestamp(time.time())
    return event_dict


def add_level(_: object, method_name: str, event_dict: EventDict) -> EventDict:
    if "level" not in event_dict:
        event_dict["level"] = _LEVEL_OF_METHOD.get(method_name, method_name)
    return event_dict


_identity: tuple[int, str] | None = None


def _refresh_identity() -> tuple[int, str]:
    # Read once per process (os.getpid() is a system call per line otherwise); forgotten at fork, so
    # that each gunicorn worker reports its own pid.
    global _identity
    import socket  # here: `import shim` does not pay for it (about 5 ms, benchmarks: import time)

    try:
        name = socket.gethostname()
    except OSError:
        name = os.environ.get("HOSTNAME", "unknown")
    _identity = (os.getpid(), name)
    return _identity


def _forget_identity() -> None:
    global _identity
    _identity = None


if hasattr(os, "register_at_fork"):  # POSIX; Windows has no fork
    os.register_at_fork(after_in_child=_forget_identity)


def add_process(_: object, __: str, event_dict: EventDict) -> EventDict:
    """The replica's identity, so that lines from many replicas can be merged and told apart."""
    identity = _identity or _refresh_identity()
    event_dict["pid"] = identity[0]
    event_dict["host"] = identity[1]
    return event_dict


def add_request_context(_: object, __: str, event_dict: EventDict) -> EventDict:
    """The ids the gateway or client set for the current request, read from the server's ``flask.g``.

    The server stores them per request (``x-request-id``, else a fresh uuid4), so nothing can leak from one
    request into the next, and the server's own lines get them too.
    """
    if "request_id" in event_dict:  # bound by the caller, who had the request at hand
        return event_dict
    ids = context.current_ids()
    if ids:
        for key, value in ids.items():
            event_dict.setdefault(key, value)
    return event_dict


def _type_name(exc: BaseException) -> str:
    cls = type(exc)
    module = getattr(cls, "__module__", "")
    if module in ("builtins", "__main__", ""):
        return cls.__qualname__
    return f"{module}.{cls.__qualname__}"


def _safe_str(exc: BaseException) -> str:
    try:
        return str(exc)
    except Exception:
        return f"<{type(exc).__name__}: str() raised>"


def clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n... [{len(text) - limit} characters cut] ...\n{text[-half:]}"


def masked_clip(text: str, limit: int) -> redaction.Masked:
    """Mask the whole text, then bound it: a cut can never split a secret and leak its head or its tail."""
    return redaction.Masked(clip(redaction.redact(text), limit))


def _library_roots() -> tuple[str, ...]:
    """Where Python's and the installed packages' files live, and the shim's; read on the first use (sysconfig
    is not imported by a worker's start: issue 17, import time)."""
    global _LIBRARY_ROOTS
    if _LIBRARY_ROOTS is None:
        import sysconfig

        paths = sysconfig.get_paths()
        roots = {paths.get(key, "") for key in ("stdlib", "platstdlib", "purelib", "platlib")}
        # The shim's own frames: all of shim/, with the separator, so that a user's "shim_demo/" stays the user's.
        roots.add(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), ""))
        _LIBRARY_ROOTS = tuple(sorted(root for root in roots if root))
    return _LIBRARY_ROOTS


_LIBRARY_ROOTS: tuple[str, ...] | None = None


#: Parts of a path that say a file is installed, not written by the user: any environment's packages (not
#: only this interpreter's), and the inference server's own code (its package, the images' server folder).
_INSTALLED_MARKERS = (
    f"{os.sep}site-packages{os.sep}",
    f"{os.sep}dist-packages{os.sep}",
    f"{os.sep}azureml_inference_server_http{os.sep}",
    "/var/azureml-server/",
)
#: Compiled code (Cython names its frames after the .pyx, relative: ``sklearn/tree/_tree.pyx``).
_COMPILED_SUFFIXES = (".pyx", ".pxd", ".pxi")


def is_user_file(filename: str) -> bool:
    """Whether a frame's file is the user's code rather than Python's, a library's or the shim's.

    Not the user's: the standard library, installed packages, the shim, the server, compiled (Cython) code,
    ``<frozen ...>`` and ``<string>`` code, and any relative name (Python gives the user's files absolute
    names; Cython and generated code give relative ones). Other ``<...>`` names (a notebook cell) are.
    """
    if not filename or filename.startswith(_LIBRARY_ROOTS or _library_roots()):
        return False
    if filename.startswith("<"):
        return not filename.startswith(("<frozen ", "<string>"))
    if not os.path.isabs(filename) or filename.endswith(_COMPILED_SUFFIXES):
        return False
    return not any(marker in filename for marker in _INSTALLED_MARKERS)


def user_frames(tb: TracebackType | None) -> list[dict[str, Any]]:
    """The traceback's frames that belong to the user's code, outermost first."""
    frames = []
    while tb is not None:
        code = tb.tb_frame.f_code
        if is_user_file(code.co_filename):
            frames.append({"file": code.co_filename, "line": tb.tb_lineno, "function": code.co_name})
        tb = tb.tb_next
    return frames


def _where(tb: TracebackType | None) -> dict[str, Any] | None:
    # The innermost frame of the user's own code, where a reader starts; else the innermost frame.
    mine = user_frames(tb)
    if mine:
        return mine[-1]
    last = None
    while tb is not None:
        last, tb = tb, tb.tb_next
    if last is None:
        return None
    code = last.tb_frame.f_code
    return {"file": code.co_filename, "line": last.tb_lineno, "function": code.co_name}


def describe_exception(exc: BaseException) -> dict[str, Any]:
    """An exception as data: what a reader or ``score-shim logs`` groups failures by."""
    message = masked_clip(_safe_str(exc), MAX_MESSAGE_CHARS)
    described: dict[str, Any] = {"type": _type_name(exc), "message": message}
    if getattr(exc, "explains_itself", False):
        # The shim's own "what to fix" errors: the message is the whole story, a traceback of the
        # shim's internals would only bury it.
        return described
    where = _where(exc.__traceback__)
    if where is not None:
        described["where"] = where
    import traceback  # here: failures only (import time)

    try:
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    except Exception:
        text = "<traceback could not be formatted>"
    described["traceback"] = masked_clip(text, MAX_TRACEBACK_CHARS)
    return described


def render_error(_: object, __: str, event_dict: EventDict) -> EventDict:
    """Turn an exception under ``error`` (or ``exc_info``) into ``{type, message, where, traceback}``."""
    error = event_dict.get("error")
    if isinstance(error, BaseException):
        event_dict["error"] = describe_exception(error)
    exc_info = event_dict.pop("exc_info", None)
    if exc_info:
        if exc_info is True:
            exc_info = sys.exc_info()
        exc = exc_info if isinstance(exc_info, BaseException) else exc_info[1]
        if isinstance(exc, BaseException) and "error" not in event_dict:
            event_dict["error"] = describe_exception(exc)
    return event_dict


def masked_repr(value: object) -> str:
    """A value json cannot encode, as its repr, masked; never an error (the JSON encoders' ``default``)."""
    try:
        text = repr(value)
    except Exception:
        return f"<unrepresentable {type(value).__name__}>"
    return redaction.redact(text)


# One encoder for every line: json.dumps(default=...) would build a new one per call. NaN and infinities
# are not JSON: they take the fallback, which writes them as strings. Built on the first line rendered: json is
# not imported by a worker's start (issue 17, import time).
_encoders: tuple[json.JSONEncoder, Callable[[EventDict], str]] | None = None


def _stdlib_encoders() -> tuple[json.JSONEncoder, Callable[[EventDict], str]]:
    """The encoder, and `_line_encoder` for the lines themselves."""
    global _encoders
    if _encoders is None:
        import json

        encoder = json.JSONEncoder(default=masked_repr, allow_nan=False)
        _encoders = (encoder, _line_encoder(json, encoder))
    return _encoders


def _line_encoder(module: Any, encoder: json.JSONEncoder) -> Callable[[EventDict], str]:
    """``encoder.encode``, with the C encoder it builds on every call built once (what ``JSONEncoder.encode`` does
    for a dict, the same bytes, without its Python-level set-up: issue 17). No ``markers``: a circular value
    then ends in a RecursionError instead of a ValueError, and either sends the line to `_fallback_json`."""
    make = getattr(module.encoder, "c_make_encoder", None)
    if make is None:  # no C accelerator (another interpreter)
        return encoder.encode
    encode = make(None, masked_repr, module.encoder.encode_basestring_ascii, None, ": ", ", ", False, False, False)
    return lambda value: "".join(encode(value, 0))


def render_json(_: object, __: str, event_dict: EventDict) -> str:
    """One JSON object, on one line, with the head keys first.

    Through orjson where it is installed and writes the very same bytes (`shim.stream.fast_json`), else through
    the standard library's encoder."""
    ordered = {key: event_dict.pop(key) for key in HEAD_KEYS if key in event_dict}
    ordered.update(event_dict)
    line = fast_json.encode(ordered)
    if line is not None:
        return line
    encode_line = (_encoders or _stdlib_encoders())[1]
    try:
        return encode_line(ordered)
    except Exception:
        return _fallback_json(ordered)


def _fallback_json(ordered: EventDict) -> str:
    """Circular structures, keys json rejects, NaN: still one valid JSON object, masked; only what could not
    be encoded is written as its (masked) repr."""
    encoder = _stdlib_encoders()[0]
    try:
        return encoder.encode(_jsonable(ordered, set()))
    except Exception:
        pass
    try:
        return encoder.encode({_json_key(key): _json_scalar(value) for key, value in ordered.items()})
    except Exception:
        head = {key: str(ordered[key]) for key in ("timestamp", "level") if key in ordered}
        return encoder.encode({**head, "event": "shim.log.unformattable", "logger": "shim"})


def _json_key(key: object) -> str:
    return key if isinstance(key, str) else masked_repr(key)


def _json_scalar(value: object) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, (str, int, float, bool, type(None))):
        return value
    return masked_repr(value)


def _jsonable(value: object, path: set[int]) -> object:
    # The structure kept as far as JSON allows; a cycle, or nesting past 32, becomes the (masked) repr.
    if not isinstance(value, (dict, list, tuple)):
        return _json_scalar(value)
    if id(value) in path or len(path) >= 32:
        return masked_repr(value)
    path.add(id(value))
    try:
        if isinstance(value, dict):
            return {_json_key(key): _jsonable(item, path) for key, item in value.items()}
        return [_jsonable(item, path) for item in value]
    finally:
        path.discard(id(value))


def as_console_exception(_: object, __: str, event_dict: EventDict) -> EventDict:
    """For the console renderer: a failure as its type, message and place first, its traceback under the line."""
    error = event_dict.get("error")
    if not (isinstance(error, dict) and "traceback" in error):
        return event_dict
    where = error.get("where")
    place = f" at {where.get('file')}:{where.get('line')}" if isinstance(where, dict) else ""
    first = {"error": f"{error.get('type')}: {error.get('message')}{place}"}
    rest = {key: value for key, value in event_dict.items() if key != "error"}
    rest["exception"] = error["traceback"]
    return {**first, **rest}
