"""Where rendered lines go: the real standard output, one whole line at a time, whoever else writes there.

Not through ``print``: the server replaces ``builtins.print`` with a logger that would prefix every JSON
line with its own text header. Not through ``sys.stdout`` looked up at write time either: a user's
``contextlib.redirect_stdout`` would swallow the lines. The process's original stdout is what container
runtimes collect.

Whole lines across processes. gunicorn's master and workers share one stdout, in a container a pipe or a
FIFO read by the runtime. The kernel writes at most PIPE_BUF (4,096) bytes to a pipe in one piece: a longer
line goes in pieces as the reader drains the pipe, and another process's line, even a short one, can land
between two pieces. So a line to a pipe, FIFO or socket is written holding an exclusive POSIX record lock
(``lockf``, F_SETLKW) on the destination itself, which

- only the processes writing to that same destination contend for (two servers on one machine do not),
  including processes that opened a FIFO each for themselves;
- belongs to the process, not to the open file description (``flock`` on an inherited descriptor would be
  shared by the master and every worker it forked), and is never inherited by fork;
- the kernel releases when its holder dies (a WORKER TIMEOUT kill, the OOM killer);
- needs no lock file: nothing to create, protect or clean up in a shared temp folder.

The wait for it is bounded (`LOCK_WAIT_S`): a process stopped while it holds the lock (SIGSTOP; every
thread paused at a debugger's breakpoint) must not stall the logging, and so the requests, of every other
worker. Past the bound the line is written without the lock and one ``shim.output.lock_timeout`` line
says so. It costs two system calls per line (``python -m benchmarks.lines`` measures them). Regular files and
terminals need none: Linux writes one ``write()`` to a file whole, at an offset shared by the processes that
inherited the file or at its end (O_APPEND), and one ``write()`` to a terminal whole (tests/test_whole_lines.py
checks the files). Where no lock can be had (no ``fcntl``; a file system that refuses), lines are written
anyway and one ``shim.output.unlocked`` line says why.

A line is written with ``os.write`` until all of it is out, not through the text stream: with
PYTHONUNBUFFERED, common in images, the stream hands a single ``write()`` to the kernel and loses what a
partial write (a signal during a long write to a full pipe) left over.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
import threading
import time
import weakref

from . import processors

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: `typing` is not imported by a worker's start (issue 17, import time)
    from typing import Any, TextIO

try:
    import fcntl
except ImportError:  # Windows, where azmlinfsrv serves from one process
    fcntl = None  # type: ignore[assignment]


def _notice(event: str, **fields: Any) -> str:
    """One of the writer's own warnings, with the head keys, pid and host that every line carries."""
    import json  # here, not at the top: json is not imported by a worker's start (issue 17, import time)

    try:
        event_dict = {
            "timestamp": processors.iso_timestamp(time.time()),
            "level": "warning",
            "event": event,
            "logger": "shim",
            **fields,
        }
        return processors.render_json(None, "warning", processors.add_process(None, "warning", event_dict))
    except Exception:  # the line it announces matters more than its form
        return json.dumps({"level": "warning", "event": event, "logger": "shim", **fields})


class _Target:
    """A stream and how lines reach it: its file descriptor (None: through the stream) and whether to lock."""

    __slots__ = ("encoding", "fd", "lock", "stream")

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.encoding = getattr(stream, "encoding", None) or "utf-8"
        self.fd: int | None = None
        self.lock = False
        if os.name != "posix":  # a Windows console wants its text through the stream's own layer
            return
        try:
            fd = stream.fileno()
            mode = os.fstat(fd).st_mode
        except (OSError, ValueError, AttributeError):  # StringIO, a closed stream
            return
        self.fd = fd
        # Pipes, FIFOs and sockets take a long write in pieces; files and terminals take it whole.
        self.lock = stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


#: How long a line waits for another process's line before it is written anyway (see the module's docstring).
LOCK_WAIT_S = 1.0
#: The first pause between two tries, doubled up to `_MAX_PAUSE_S`: the holder writes one line, microseconds.
_FIRST_PAUSE_S = 0.00005
_MAX_PAUSE_S = 0.005


def _acquire(fd: int) -> bool:
    """Take the output's lock: True once held, False when another process held it for `LOCK_WAIT_S`.

    ``lockf`` has no timeout of its own, so a busy lock is tried again after short pauses; an error other
    than "held by another process" (no locks on this file system) is raised to the caller.
    """
    deadline = 0.0
    pause = _FIRST_PAUSE_S
    while True:
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except (BlockingIOError, PermissionError):  # EAGAIN / EACCES: another process is writing a line
            pass
        now = time.monotonic()
        if not deadline:
            deadline = now + LOCK_WAIT_S
        elif now >= deadline:
            return False
        time.sleep(pause)
        pause = min(pause * 2, _MAX_PAUSE_S)


def _write_all(fd: int, data: bytes) -> None:
    try:
        written = os.write(fd, data)
        if written < len(data):  # a signal, or a pipe's reader that drains it in pieces: the rest, in order
            view = memoryview(data)[written:]
            while view:
                view = view[os.write(fd, view) :]
    except OSError:
        raise
    except BaseException:
        # A signal handler raised (gunicorn's abort on WORKER TIMEOUT: SystemExit) while the line was going out,
        # and how much of it did is unknown: end it here, so that the lines after it start on a line of their own.
        with contextlib.suppress(OSError):
            os.write(fd, b"\n")
        raise


class LineWriter:
    """A structlog "logger" that writes each rendered line whole and at once (a flush per line).

    A re-entrant lock per writer keeps threads' lines apart, and a signal handler that logs while its
    own thread is in the middle of a line (gunicorn's, the user's) has its line written right after that
    one instead of deadlocking or tearing it. A flush per line, so that a worker killed a moment later
    (WORKER TIMEOUT, OOM) still leaves its last lines. When the real stdout is closed or its reader has
    gone (a broken pipe), the lines go on to stderr rather than being lost, announced by one
    ``shim.output.fallback`` line there (per process); a stream given explicitly has no fallback. A line
    that cannot be written anywhere is dropped and counted: logging must never fail a request.
    """

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream
        self._lock = threading.RLock()
        self._busy = False
        self._pending: list[str] = []
        self._target: _Target | None = None
        self._fallen_back = False
        self._said_unlocked = False
        self._said_timeout = False
        self.dropped = 0
        self.lock_timeouts = 0
        _writers.add(self)

    @property
    def stream(self) -> TextIO | None:
        if self._stream is not None:
            return self._stream
        return sys.__stderr__ if self._fallen_back else sys.__stdout__

    def write_line(self, line: str) -> None:
        with self._lock:
            if self._busy:  # a signal handler, on the thread that is writing a line: this one follows it
                self._pending.append(line)
                return
            self._busy = True
            try:
                self._emit(line)
            finally:
                try:
                    while self._pending:
                        self._emit(self._pending.pop(0))
                finally:
                    self._busy = False

    def _emit(self, line: str) -> None:
        if self._write(self.stream, line):
            return
        if self._stream is None and not self._fallen_back:
            self._fallen_back = True
            stderr = sys.__stderr__
            notice = _notice(
                "shim.output.fallback",
                diagnosis="stdout is closed or its reader has gone: the shim writes its lines to stderr from now on.",
            )
            if self._write(stderr, notice) and self._write(stderr, line):
                return
        self.dropped += 1

    def _write(self, stream: TextIO | None, line: str) -> bool:
        if stream is None:
            return False
        try:
            target = self._target
            if target is None or target.stream is not stream:
                target = self._target = _Target(stream)
            fd = target.fd
            if fd is None:
                stream.write(line + "\n")
                stream.flush()
                return True
            data = (line + "\n").encode(target.encoding, "backslashreplace")
            locked = target.lock and self._hold(target, fd)
            try:
                stream.flush()  # what others wrote through the stream (a print) goes out first
                _write_all(fd, data)
            finally:
                if locked:
                    with contextlib.suppress(OSError):
                        fcntl.lockf(fd, fcntl.LOCK_UN)
            return True
        except Exception:
            return False

    def _hold(self, target: _Target, fd: int) -> bool:
        """Take the destination's lock; when there is none to be had, say why, once, and write without it."""
        if fcntl is not None:
            try:
                if _acquire(fd):
                    return True
            except OSError as error:
                reason = f"lockf on the output failed: {error}"
            else:
                self._timed_out(fd)
                return False
        else:
            reason = "this platform has no fcntl"
        target.lock = False  # what failed once (the platform, the file system) fails again
        if not self._said_unlocked:
            self._said_unlocked = True
            notice = _notice(
                "shim.output.unlocked",
                reason=reason,
                diagnosis="lines longer than 4,096 bytes from several processes may interleave on this output.",
            )
            with contextlib.suppress(OSError):
                _write_all(fd, (notice + "\n").encode())
        return False

    def _timed_out(self, fd: int) -> None:
        """Another process held the lock past `LOCK_WAIT_S`: this line goes out without it; said once."""
        self.lock_timeouts += 1
        if self._said_timeout:
            return
        self._said_timeout = True
        notice = _notice(
            "shim.output.lock_timeout",
            waited_s=LOCK_WAIT_S,
            diagnosis=(
                "another process held the output's lock too long (stopped, or paused in a debugger): lines are "
                "written without waiting for it, and a long one may interleave with its line."
            ),
        )
        with contextlib.suppress(OSError):
            _write_all(fd, (notice + "\n").encode())

    def _after_fork_in_child(self) -> None:
        # Another thread of the parent may have been writing: the child has only this thread.
        self._lock = threading.RLock()
        self._busy = False
        self._pending = []

    def msg(self, message: str, *_: Any, **__: Any) -> None:
        self.write_line(message)

    # structlog calls the method named after the level.
    debug = info = warning = warn = error = critical = exception = fatal = log = msg


# -- fork: no writer's lock is held by a thread that the child will not have ------------------------------

_writers: weakref.WeakSet[LineWriter] = weakref.WeakSet()
_held_at_fork: list[LineWriter] = []


def _before_fork() -> None:
    _held_at_fork[:] = list(_writers)
    for writer in _held_at_fork:
        writer._lock.acquire()


def _after_fork_in_parent() -> None:
    for writer in _held_at_fork:
        writer._lock.release()
    _held_at_fork.clear()


def _after_fork_in_child() -> None:
    for writer in _held_at_fork:
        writer._after_fork_in_child()
    _held_at_fork.clear()


if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(before=_before_fork, after_in_parent=_after_fork_in_parent, after_in_child=_after_fork_in_child)
