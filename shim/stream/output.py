"""Where rendered lines go: the real standard output, one whole line per write.

Not through ``print``: the server replaces ``builtins.print`` with a logger that would prefix every JSON
line with its own text header. Not through ``sys.stdout`` looked up at write time either: a user's
``contextlib.redirect_stdout`` would swallow the lines. The process's original stdout is what container
runtimes collect.
"""

from __future__ import annotations

import os
import sys
import threading
from typing import Any, TextIO


class LineWriter:
    """A structlog "logger" that writes each rendered line to a stream and flushes it.

    One lock per writer so that lines from threads never interleave; a flush per line so that a worker
    killed a moment later (WORKER TIMEOUT, OOM) still leaves its last lines. When the real stdout is closed
    or its reader has gone (a broken pipe), the lines go on to stderr rather than being lost, announced by
    one ``shim.output.fallback`` line there (per process); a stream given explicitly has no fallback. A line that cannot
    be written anywhere is dropped and counted: logging must never fail a request.
    """

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream
        self._lock = threading.Lock()
        self._fallen_back = False
        self.dropped = 0

    @property
    def stream(self) -> TextIO | None:
        if self._stream is not None:
            return self._stream
        return sys.__stderr__ if self._fallen_back else sys.__stdout__

    def write_line(self, line: str) -> None:
        with self._lock:
            if self._write(self.stream, line):
                return
            if self._stream is None and not self._fallen_back:
                self._fallen_back = True
                notice = (
                    '{"level": "warning", "event": "shim.output.fallback", "logger": "shim", "diagnosis": '
                    '"stdout is closed or its reader has gone: the shim writes its lines to stderr from now on.", '
                    f'"pid": {os.getpid()}}}'
                )
                if self._write(sys.__stderr__, notice) and self._write(sys.__stderr__, line):
                    return
            self.dropped += 1

    @staticmethod
    def _write(stream: TextIO | None, line: str) -> bool:
        if stream is None:
            return False
        try:
            stream.write(line + "\n")
            stream.flush()
            return True
        except Exception:
            return False

    def msg(self, message: str, *_: Any, **__: Any) -> None:
        self.write_line(message)

    # structlog calls the method named after the level.
    debug = info = warning = warn = error = critical = exception = fatal = log = msg
