"""One structured log stream: the shim's events and every stdlib record, rendered alike.

The shim does not use structlog's global configuration (`structlog.configure`): a user's score.py may
configure structlog for itself, and the two must not fight. It builds its own bound logger on the same
processors instead (https://www.structlog.org/en/stable/configuration.html#where-to-configure).
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import sys

from ..settings import Settings
from . import processors as p
from .console import safe_event, view_of
from .output import LineWriter
from .redaction import mask_event

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: `typing` is not imported by a worker's start (issue 17, import time)
    from collections.abc import Callable, Iterable
    from typing import Any, TextIO

    Processor = Callable[[Any, str, p.EventDict], Any]

#: Processors that enrich an event; the renderer comes last and is chosen by the format.
ENRICH: tuple[Processor, ...] = (
    p.add_timestamp,
    p.add_level,
    p.add_process,
    p.add_request_context,
    p.render_error,
)
#: What runs before the renderer: the enrichment, then every value masked (before it is rendered, so that
#: masking can never break a line's escaping).
PREPARE: tuple[Processor, ...] = (*ENRICH, mask_event)

_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "critical": logging.CRITICAL,
}


def _console_renderer(colors: bool) -> Processor:
    import structlog  # lazily, as in _Pipeline.root

    # The fields in the order they were logged (the error first, then what explains it), not sorted.
    renderer = structlog.dev.ConsoleRenderer(colors=colors, sort_keys=False)

    def render(logger: Any, name: str, event_dict: p.EventDict) -> Any:
        return renderer(logger, name, safe_event(p.as_console_exception(logger, name, view_of(event_dict))))

    return render


class _Pipeline:
    """The processors, renderer and writer in force; rebuilt by `configure_logging`."""

    def __init__(self, writer: LineWriter, renderer: Processor, level: int) -> None:
        self.writer = writer
        self.renderer = renderer
        self.level = level
        self.processors: list[Processor] = [*PREPARE, renderer]
        self._root: Any = None
        self.bound: dict[str, Any] = {}

    @property
    def root(self) -> Any:
        # structlog is imported on the first line logged, not by `import shim`: `import structlog` loads
        # structlog.stdlib, which loads asyncio (about 50 ms), and a script or `score-shim logs` that
        # never logs through the shim should not pay for it.
        if self._root is None:
            import structlog

            bound_logger_class: Any = structlog.make_filtering_bound_logger(self.level)
            self._root = bound_logger_class(self.writer, self.processors, {})
        return self._root


def _default_pipeline() -> _Pipeline:
    return _Pipeline(LineWriter(), p.render_json, logging.INFO)


_pipeline = _default_pipeline()


def configure_logging(
    settings: Settings | None = None,
    *,
    stream: TextIO | None = None,
) -> None:
    """Choose the format and level from the settings, and where lines go (default: the real stdout).

    ``auto`` renders for people when stdout is a terminal and JSON everywhere else, which is every
    container.
    """
    global _pipeline
    settings = settings or Settings()
    writer = LineWriter(stream)
    target = writer.stream
    fmt = settings.log_format
    if fmt == "auto":
        try:
            fmt = "console" if target is not None and target.isatty() else "json"
        except Exception:
            fmt = "json"
    renderer = _console_renderer(colors=True) if fmt == "console" else p.render_json
    _pipeline = _Pipeline(writer, renderer, _LEVELS[settings.log_level])


def output_stream() -> TextIO | None:
    return _pipeline.writer.stream


class _LoggerProxy:
    """A logger that always speaks through the pipeline in force, however late it was configured."""

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, method: str) -> Any:
        pipeline = _pipeline
        bound = pipeline.bound.get(self._name)
        if bound is None:
            bound = pipeline.bound[self._name] = pipeline.root.bind(logger=self._name)
        return getattr(bound, method)


_internal_errors = 0


def report_internal_error(where: str, error: BaseException) -> None:
    """The shim's own code failed: say so, as a warning, without ever raising (sentry-python's rule).

    The first 20 are logged, then one in a thousand, so that a bug on the hot path cannot flood the log.
    """
    global _internal_errors
    _internal_errors += 1
    if _internal_errors > 20 and _internal_errors % 1000:
        return
    with contextlib.suppress(Exception):
        get_logger("shim").warning(
            "shim.internal_error",
            where=where,
            error=error,
            count=_internal_errors,
            diagnosis="the shim's own code failed here; your script and its answer were not affected.",
        )


def get_logger(name: str = "shim") -> Any:
    """A structlog logger writing into the shim's stream; ``name`` becomes the ``logger`` field."""
    return _LoggerProxy(name)


def log_event(name: str, method: str, event: str, fields: dict[str, Any]) -> None:
    """``get_logger(name).<method>(event, **fields)`` without structlog's call layers, for the line of every request.

    The same line, byte for byte: the event dict is built as structlog's bound logger builds it (its bound
    ``logger``, the fields, then ``event``), goes through the same processors with the same arguments, and the
    rendered line to the same writer; below the configured level nothing happens, as with structlog's filtering
    logger. What it saves is structlog's per-call machinery (the proxy, the bound method, the context copy),
    microseconds on a served request's path (issue 17).
    """
    pipeline = _pipeline
    if pipeline.level > _LEVELS[method]:
        return
    writer = pipeline.writer
    event_dict: Any = {"logger": name, **fields, "event": event}
    for processor in pipeline.processors:
        event_dict = processor(writer, method, event_dict)
    writer.write_line(event_dict)


# -- stdlib records ----------------------------------------------------------------------------------

_RECORD_ATTRS = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime", "taskName"}


def _access_fields(args: Any) -> dict[str, Any] | None:
    # gunicorn passes its access-log atoms as the record's args. Only these few are picked: the atoms
    # also hold every request header (Authorization included) and the WSGI environ.
    try:
        status = args["s"]
        return {
            "method": args["m"],
            "path": args["U"],
            "status": int(status) if str(status).isdigit() else status,
            "duration_ms": round(int(args["D"]) / 1000, 3),
        }
    except Exception:
        return None


def access_request_id(args: Any) -> str | None:
    """The request id of a gunicorn access record, as the client sent it.

    gunicorn's access atoms (``SafeAtoms``) escape ``"`` as ``\\"`` and nothing else, so undoing that one
    escape gives the id of every other line of the request.
    """
    request_id = args.get("{x-request-id}o") if isinstance(args, dict) else None
    return request_id.replace('\\"', '"') if isinstance(request_id, str) else None


def _stdlib_logger_name(name: str) -> str:
    """``logger`` is ``shim`` on the shim's own events only: a stdlib logger named so is a user's, and says so.

    ``score-shim logs`` and Log Analytics queries trust ``logger == "shim"``; a ``logging.getLogger("shim")``
    in a score.py must not be able to write a line that passes for ``shim.init.failed``.
    """
    return f"user.{name}" if name == "shim" or name.startswith("shim.") else name


def record_to_event_dict(record: logging.LogRecord) -> p.EventDict:
    """A stdlib record as an event: its message, logger and level, its extras, and its exception."""
    try:
        message = record.getMessage()
    except Exception:
        message = f"{record.msg!r} {record.args!r}"
    event_dict: p.EventDict = {
        "timestamp": p.iso_timestamp(record.created),
        "level": record.levelname.lower(),
        "event": p.masked_clip(message, p.MAX_EVENT_CHARS),
        "logger": _stdlib_logger_name(record.name),
    }
    for key, value in record.__dict__.items():
        if key not in _RECORD_ATTRS and not key.startswith("_"):
            event_dict.setdefault(key, value)
    if record.name == "gunicorn.access" and isinstance(record.args, dict):
        http = _access_fields(record.args)
        if http:
            event_dict["http"] = http
        # Written after the request's context is gone; the id is still in the response headers.
        request_id = access_request_id(record.args)
        if request_id is not None and request_id != "-":
            event_dict["request_id"] = request_id
    if record.exc_info and record.exc_info[1] is not None:
        event_dict["error"] = record.exc_info[1]
    if record.stack_info:
        event_dict["stack"] = record.stack_info
    return event_dict


def render_record(record: logging.LogRecord, processors: Iterable[Processor]) -> str:
    event_dict: Any = record_to_event_dict(record)
    method = event_dict["level"]
    for processor in processors:
        event_dict = processor(None, method, event_dict)
    return str(event_dict)


class JSONFormatter(logging.Formatter):
    """A stdlib formatter that renders records as the shim's JSON lines.

    For the server's own extension point: a ``logging.json`` beside score.py (or in ``AML_APP_ROOT``)
    that names this class gives JSON server logs without the wrapper. With the wrapper (its own
    ``logging.json`` names this class too) the worker's first lines, written before the shim's stream is set
    up, follow the format the settings choose (`_rendering`), so that a console shows no JSON object.
    """

    @classmethod
    def _rendering(cls) -> tuple[Processor, ...]:
        """JSON; the console format when the wrapper is in use and the settings choose it (once per process)."""
        if cls._chosen is None:
            cls._chosen = cls._processors
            if os.environ.get("SCORE_SHIM_ENTRY_SCRIPT"):  # the wrapper's (shim.runtime.loader.ENV_ENTRY_SCRIPT)
                with contextlib.suppress(Exception):
                    fmt = Settings.from_env().log_format
                    if fmt == "console" or (fmt == "auto" and sys.stdout.isatty()):
                        cls._chosen = (*PREPARE, _console_renderer(colors=True))
        return cls._chosen

    _processors: tuple[Processor, ...] = (*PREPARE, p.render_json)
    _chosen: tuple[Processor, ...] | None = None

    def format(self, record: logging.LogRecord) -> str:
        try:
            return render_record(record, self._rendering())
        except Exception:
            return p.render_json(
                None, "error", {"level": "error", "event": "shim.log.unformattable", "logger": record.name}
            )


#: Predicates that tell the shim's handler to skip a record whose facts another line already carries
#: (see `shim.runtime.access`). Consulted only by `ShimHandler`: other handlers still get every record.
_record_filters: list[Callable[[logging.LogRecord], bool]] = []


def add_record_filter(skip: Callable[[logging.LogRecord], bool]) -> None:
    if skip not in _record_filters:
        _record_filters.append(skip)


def enabled(level: str) -> bool:
    """Whether the shim writes events of ``level`` under the configuration in force."""
    return _pipeline.level <= _LEVELS[level]


class ShimHandler(logging.Handler):
    """Sends stdlib records into the shim's stream, with the shim's format and writer."""

    def handle(self, record: logging.LogRecord) -> Any:
        """Skip the records another line tells already (`add_record_filter`), before the handler's lock is taken:
        the server's two access lines of every successful request are skipped so (issue 17)."""
        for skip in _record_filters:
            try:
                if skip(record):
                    return False
            except Exception:
                pass
        return super().handle(record)

    def emit(self, record: logging.LogRecord) -> None:
        pipeline = _pipeline
        try:
            line = render_record(record, pipeline.processors)
        except Exception:
            line = p.render_json(
                None, "error", {"level": "error", "event": "shim.log.unformattable", "logger": record.name}
            )
        pipeline.writer.write_line(line)


_CONSOLE_STREAM_NAMES = ("<stdout>", "<stderr>")

#: Loggers that the server configures with handlers of their own (azureml-inference-server-http's
#: logging.json, and gunicorn's `--access-logfile -`).
SERVER_LOGGERS = ("azmlinfsrv", "gunicorn.access", "gunicorn.error")

#: Libraries whose INFO lines would flood the stream (azure-core logs every HTTP request and its
#: headers at INFO); held at WARNING unless the user set their level.
NOISY_LOGGERS = ("azure", "urllib3", "msal", "opentelemetry")


def _writes_to_console(handler: logging.Handler) -> bool:
    if type(handler) is not logging.StreamHandler:  # FileHandler and friends are the user's choice
        return False
    stream = getattr(handler, "stream", None)
    return stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__) or (
        getattr(stream, "name", None) in _CONSOLE_STREAM_NAMES
    )


def _shim_handler(logger: logging.Logger) -> ShimHandler | None:
    return next((h for h in logger.handlers if isinstance(h, ShimHandler)), None)


#: The loggers a user's logging.json names (`shim.runtime.user_files`): bridged like the server's.
_user_loggers: list[str] = []


def bridge_loggers(names: Iterable[str]) -> None:
    """Bridge these loggers too, at every `install_stdlib_bridge`: those a user's logging.json configures."""
    for name in names:
        if name and name != "root" and name not in _user_loggers and name not in SERVER_LOGGERS:
            _user_loggers.append(name)


def install_stdlib_bridge(level: str = "info") -> None:
    """Route the server's, gunicorn's and the user's stdlib logging into the shim's stream.

    The bare server leaves the root logger at WARNING with no handler, so a user's ``logging.info`` is
    dropped; the shim gives the root logger its handler and the configured level. The server's own
    loggers get the handler directly and stop propagating (as the server and gunicorn configure them),
    so no line is written twice. Their console handlers are replaced; other handlers (App Insights,
    files) are kept. The loggers a user's logging.json names (`bridge_loggers`) lose their console handlers
    too, keep the others and their propagation, and get the handler when they do not propagate, so that
    their records are in the stream once. Idempotent.
    """
    root = logging.getLogger()
    handler = _shim_handler(root) or ShimHandler()
    for name in SERVER_LOGGERS:
        logger = logging.getLogger(name)
        for console in [h for h in logger.handlers if _writes_to_console(h)]:
            logger.removeHandler(console)
        if _shim_handler(logger) is None:
            logger.addHandler(handler)
        logger.propagate = False
    for name in _user_loggers:
        logger = logging.getLogger(name)
        for console in [h for h in logger.handlers if _writes_to_console(h)]:
            logger.removeHandler(console)
        if not logger.propagate and _shim_handler(logger) is None:
            logger.addHandler(handler)
    for console in [h for h in root.handlers if _writes_to_console(h)]:
        root.removeHandler(console)
    if _shim_handler(root) is None:
        root.addHandler(handler)
    root.setLevel(_LEVELS[level])
    for name in NOISY_LOGGERS:
        noisy = logging.getLogger(name)
        if noisy.level == logging.NOTSET:
            noisy.setLevel(logging.WARNING)
    # warnings.warn (scikit-learn's InconsistentVersionWarning, deprecations) as lines of the stream, with
    # the request's id, instead of plain text on stderr: the standard library's own switch (logger py.warnings).
    logging.captureWarnings(True)
    bridge_library_loggers()


def _library_console(handler: logging.Handler) -> bool:
    """A library's own console handler: a plain StreamHandler on a console, or on a stream object that is
    no file (mlflow writes through one of its own that forwards to stderr)."""
    if type(handler) is not logging.StreamHandler:
        return False
    # An io object that is no console (a StringIO a test reads, a file) is the owner's choice: kept.
    return _writes_to_console(handler) or not isinstance(getattr(handler, "stream", None), io.IOBase)


def bridge_library_loggers() -> None:
    """Libraries that give their logger a console handler of their own (and often stop its propagation)
    print plain text on stderr, outside the stream and without the request's id: their console handlers are
    replaced by the stream's, as a user's logging.json's are. Their other handlers, levels and propagation
    stay. Run once the bridge is installed, again after the script's import and after ``init()``, when
    libraries have configured their loggers. Idempotent, and a no-op before the bridge."""
    handler = _shim_handler(logging.getLogger())
    if handler is None:
        return
    for name, logger in list(logging.Logger.manager.loggerDict.items()):
        if not isinstance(logger, logging.Logger) or name in SERVER_LOGGERS:
            continue
        consoles = [h for h in logger.handlers if _library_console(h)]
        if not consoles:
            continue
        for console in consoles:
            logger.removeHandler(console)
        if not logger.propagate and _shim_handler(logger) is None:
            logger.addHandler(handler)
