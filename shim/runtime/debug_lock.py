"""One process per debug port: the first to claim it opens the port, the others learn which process did.

Every gunicorn worker loads the script, and ``debugpy.listen()`` in a second one fails ("Address already in
use"). So the workers agree on an owner, with a lock the kernel drops when its process dies (the worker
gunicorn starts in place of a killed one takes the port over):

- an exclusive ``flock`` on ``score-shim-debug-<port>.lock`` in the temp folder, which holds the owner's pid.
  The owner removes the file when it gives the port up or exits; a file left by a killed owner is reused.
- Linux without a usable temp folder (a read-only root file system with ``TMPDIR`` unset or pointing
  nowhere): a Unix socket in the abstract namespace named after the port. It is no file at all, the kernel
  frees it when its owner dies, and the owner's pid comes from the socket's credentials (``SO_PEERCRED``).
- neither (no temp folder on macOS; Windows, where the server runs one process): `Unlocked`, and every
  process tries the port.
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

#: The owner's pid when the lock is held but its holder cannot be told.
UNKNOWN_OWNER = -1
_BUSY = (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES)

_owner_pid: int | None = None  # the process that holds what follows (a forked child does not)
_held: Any = None  # the open lock file or the bound socket
_held_path: Path | None = None
_exit_hooked = False


class Unlocked(Exception):
    """No lock can be taken in this process; the message says why, for the log."""


def lock_path(port: int) -> Path:
    """The lock file of ``port``; raises ``OSError`` when there is no usable temp folder."""
    return Path(tempfile.gettempdir()) / f"score-shim-debug-{port}.lock"


def claim(port: int) -> int | None:
    """None when this process now owns ``port`` (until `release` or exit), else the owner's pid.

    Raises `Unlocked` when no lock can be taken here.
    """
    try:
        return _claim_file(port)
    except Unlocked as no_file:
        if not sys.platform.startswith("linux"):
            raise
        try:
            return _claim_abstract(port)
        except Unlocked as no_socket:
            raise Unlocked(f"{no_file}; {no_socket}") from None


def release() -> None:
    """Give the port up: the lock file is removed while still locked (no one can take a file being removed)."""
    global _owner_pid, _held, _held_path
    if _owner_pid != os.getpid():
        return  # not the owner (a forked worker inherits this handler and the handle, not the ownership)
    if _held_path is not None and _is_the_file(_held, _held_path):
        with contextlib.suppress(OSError):
            _held_path.unlink()
    with contextlib.suppress(OSError):
        _held.close()
    _owner_pid, _held, _held_path = None, None, None


def _own(held: Any, path: Path | None) -> None:
    global _owner_pid, _held, _held_path, _exit_hooked
    _owner_pid, _held, _held_path = os.getpid(), held, path
    if not _exit_hooked:
        atexit.register(release)
        _exit_hooked = True


# -- a lock file in the temp folder ---------------------------------------------------------------


def _claim_file(port: int) -> int | None:
    try:
        import fcntl
    except ImportError:
        raise Unlocked("no file locks on this system (fcntl)") from None
    try:
        path = lock_path(port)
    except OSError as error:
        raise Unlocked(f"no writable temp folder ({error})") from None
    for _ in range(3):  # the owner may remove the file between our open and our lock: then take the new one
        try:
            handle = open(path, "a+", encoding="ascii")  # noqa: SIM115 (held open while the port is owned)
        except OSError as error:
            raise Unlocked(f"cannot write the lock file {path} ({error.strerror or error})") from None
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            owner = _wait_for_owner(handle) if error.errno in _BUSY else UNKNOWN_OWNER
            handle.close()
            if error.errno in _BUSY:
                return owner
            raise Unlocked(f"cannot lock {path} ({error.strerror or error})") from None
        if _is_the_file(handle, path):
            with contextlib.suppress(OSError):
                handle.seek(0)
                handle.truncate()
                handle.write(str(os.getpid()))
                handle.flush()
            _own(handle, path)
            return None
        handle.close()
    return UNKNOWN_OWNER


def _wait_for_owner(handle: Any, seconds: float = 0.2) -> int:
    """The owner's pid, which it writes just after it takes the lock: a worker starting at the same moment
    may look in between (seen in CI: an empty file), so it looks again for a moment before saying unknown."""
    import time

    deadline = time.monotonic() + seconds
    owner = _read_owner(handle)
    while owner == UNKNOWN_OWNER and time.monotonic() < deadline:
        time.sleep(0.005)
        owner = _read_owner(handle)
    return owner


def _read_owner(handle: Any) -> int:
    try:
        handle.seek(0)
        text = handle.read().strip()
    except (OSError, ValueError):
        return UNKNOWN_OWNER
    return int(text) if text.isdigit() else UNKNOWN_OWNER


def _is_the_file(handle: Any, path: Path) -> bool:
    """Whether ``handle`` is still the file at ``path`` (not one its owner removed in the meantime)."""
    try:
        held, now = os.fstat(handle.fileno()), os.stat(path)
    except (OSError, ValueError):
        return False
    return (held.st_dev, held.st_ino) == (now.st_dev, now.st_ino)


# -- Linux: a socket in the abstract namespace (no file system needed) --------------------------------


def _claim_abstract(port: int) -> int | None:
    import socket

    name = f"\0score-shim-debug-{port}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(name)
        sock.listen(64)  # only for the others to read the owner's credentials; never accepted
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            return _abstract_owner(name)
        raise Unlocked(f"no abstract socket either ({error.strerror or error})") from None
    _own(sock, None)
    return None


def _abstract_owner(name: str) -> int:
    import socket
    import struct

    creds = struct.Struct("3i")  # struct ucred: pid, uid, gid
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.setblocking(False)  # a full backlog must not block the worker's start-up
        try:
            probe.connect(name)
            pid = creds.unpack(probe.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, creds.size))[0]
        except OSError:
            return UNKNOWN_OWNER
    return int(pid) if pid > 0 else UNKNOWN_OWNER
