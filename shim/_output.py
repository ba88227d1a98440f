"""Where rendered lines go: the real standard output, one whole line per write.

Not through ``print``: the server replaces ``builtins.print`` with a logger that would prefix every JSON
line with its own text header. Not through ``sys.stdout`` looked up at write time either: a user's
``contextlib.redirect_stdout`` would swallow the lines. The process's original stdout is what container
runtimes collect.
"""

from __future__ import annotations

import sys
import threading
from typing import Any, TextIO


class LineWriter:
    """A structlog "logger" that writes each rendered line to a stream and flushes it.

    One lock per writer so that lines from threads never interleave; a flush per line so that a worker
    killed a moment later (WORKER TIMEOUT, OOM) still leaves its last lines. A closed or broken stream
    drops the line and counts it: logging must never fail a request.
    """

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream
        self._lock = threading.Lock()
        self.dropped = 0

    @property
    def stream(self) -> TextIO | None:
        return self._stream if self._stream is not None else sys.__stdout__

    def write_line(self, line: str) -> None:
        stream = self.stream
        try:
            if stream is None:
                raise ValueError("no stdout")
            with self._lock:
                stream.write(line + "\n")
                stream.flush()
        except Exception:
            self.dropped += 1

    def msg(self, message: str, *_: Any, **__: Any) -> None:
        self.write_line(message)

    # structlog calls the method named after the level.
    debug = info = warning = warn = error = critical = exception = fatal = log = msg
