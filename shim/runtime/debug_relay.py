"""The debug port, held by the shim until a client comes: debugpy starts only then, behind a relay.

Why: once ``debugpy.listen()`` has run, pydevd's tracing stays installed, and pure-Python code runs several
times slower (Python 3.11, measured by ``python -m benchmarks.debugger``) even when nobody is attached. So
the shim binds the configured port with a plain socket and accepts on a daemon thread, which costs the
serving thread nothing. When a client connects and speaks (a DAP client always speaks first, with
``initialize``), the backend (debugpy, on a loopback port of its own) is started once, and from then on
every client's bytes are relayed both ways to it, unchanged: debugging works as if debugpy itself listened.

- A connection that closes without a byte (a port probe) starts nothing: debugpy's adapter would take it
  as a client session and a debugger started for nothing would slow the process for good.
- Every thread here is hidden from the debugger (``pydev_do_not_trace``, ``is_pydev_daemon_thread``), as
  the attach watcher is: they are not the user's code, and a traced relay would relay its own tracing.
- Nothing here raises into the server: a client that resets, a backend that fails, all end in closed
  sockets; a backend that cannot start closes the port for good (the caller logs why).
- Everything is bounded: the buffer of each direction (one chunk), the sessions at once, the wait for a
  client's first bytes, the connection to the backend, and the accept loop's run of errors.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections.abc import Callable

from ..stream.configure import get_logger

log = get_logger("shim")

#: What one direction of a session holds at most: one chunk is read, then written out in full.
CHUNK = 65536
#: A connection that has not said anything by then is closed, and starts nothing.
FIRST_BYTES_TIMEOUT_S = 30.0
#: How long connecting to the backend (debugpy's adapter, on loopback) may take.
BACKEND_CONNECT_TIMEOUT_S = 10.0
#: Sessions relayed at once (VS Code opens one per debugged process); more are refused by closing them.
MAX_SESSIONS = 16
#: The accept loop gives up after this many failures in a row (e.g. out of file descriptors), pausing between.
MAX_ACCEPT_ERRORS = 100
ACCEPT_ERROR_PAUSE_S = 0.1

Address = tuple[str, int]
#: Starts the backend once and says where it listens; None when it could not start (it logs why).
Backend = Callable[[], Address | None]

_current: Relay | None = None  # the relay of this process, closed in a forked child (see _after_fork)


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``(host, port)``; raises ``OSError`` (``socket.gaierror`` for a bad name).

    ``SO_REUSEADDR`` as debugpy sets it: a port whose last connections sit in TIME_WAIT can be bound again
    (a worker that replaces a killed owner), while a port another process listens on still fails.
    """
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    family, kind, proto, _, address = found[0]
    sock = socket.socket(family, kind, proto)
    try:
        if os.name != "nt":  # on Windows it would let a second process take the same port
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(MAX_SESSIONS)
    except BaseException:
        sock.close()
        raise
    return sock


def hidden_thread(target: Callable[[], None], name: str) -> threading.Thread:
    """A daemon thread that debugpy neither traces nor lists (it is the shim's, not the user's)."""
    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.pydev_do_not_trace = True  # type: ignore[attr-defined]
    thread.is_pydev_daemon_thread = True  # type: ignore[attr-defined]
    return thread


class Relay:
    """The configured port, accepted by the shim; its clients relayed to a backend started on first use."""

    def __init__(self, listener: socket.socket, backend: Backend) -> None:
        self.listener = listener
        self._backend = backend
        self._start_lock = threading.Lock()
        self._address: Address | None = None
        self._failed = False
        self._closed = False
        self._sessions = threading.BoundedSemaphore(MAX_SESSIONS)
        self._owner_pid = os.getpid()
        #: ``time.monotonic()`` when the connection that started the backend was accepted, and when it was ready.
        self.connected_at: float | None = None
        self.ready_at: float | None = None

    @property
    def started(self) -> bool:
        """Whether the backend runs (a client connected and it started)."""
        return self._address is not None

    @property
    def failed(self) -> bool:
        """Whether the backend could not start: the port is closed and stays closed."""
        return self._failed

    def serve(self) -> None:
        """Accept clients from now on, on a hidden daemon thread."""
        global _current
        _current = self
        hidden_thread(self._accept_loop, "score-shim-debug-port").start()

    def close(self) -> None:
        """Stop listening (sessions already relayed go on until either side closes); frees the port."""
        self._closed = True
        _close(self.listener)  # the shutdown wakes the accept loop, which a close alone would not

    # -- accepting ---------------------------------------------------------------------------------

    def _accept_loop(self) -> None:
        errors = 0
        while errors < MAX_ACCEPT_ERRORS:
            try:
                client, _ = self.listener.accept()
            except OSError:
                if self._closed:
                    return  # the port was given up (close() woke this accept)
                errors += 1  # e.g. EMFILE, ECONNABORTED: pause, then look again
                time.sleep(ACCEPT_ERROR_PAUSE_S)
                continue
            errors = 0
            self._begin(client, time.monotonic())
        if not self._closed:
            log.warning(
                "shim.debugger.failed",
                debug_port=self._port(),
                diagnosis=(
                    f"the debug port failed to accept {errors} connections in a row and is closed; the server "
                    "goes on without the debugger."
                ),
            )
            self.close()

    def _begin(self, client: socket.socket, accepted_at: float) -> None:
        """A session on a thread of its own; refused (closed) beyond `MAX_SESSIONS` or without a thread."""
        if not self._sessions.acquire(blocking=False):
            _close(client)
            return
        try:
            hidden_thread(lambda: self._session(client, accepted_at), "score-shim-debug-session").start()
        except Exception:  # no thread to be had (RuntimeError): this client is turned away, the port stays
            self._sessions.release()
            _close(client)

    def _port(self) -> int | None:
        try:
            return int(self.listener.getsockname()[1])
        except (OSError, IndexError):
            return None

    # -- one client --------------------------------------------------------------------------------

    def _session(self, client: socket.socket, accepted_at: float) -> None:
        backend: socket.socket | None = None
        try:
            first = _first_bytes(client)
            if not first:
                return
            address = self._ensure_started(accepted_at)
            if address is None:
                return
            backend = _connect_backend(address)
            if backend is None:
                return
            for sock in (client, backend):
                sock.settimeout(None)  # a session may sit at a breakpoint for an hour
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)  # a vanished peer ends it
            backend.sendall(first)
            _relay(client, backend)
        except Exception:  # a client that resets, a backend that went away: this session ends, nothing else
            pass
        finally:
            _close(client)
            if backend is not None:
                _close(backend)
            self._sessions.release()

    def _ensure_started(self, accepted_at: float) -> Address | None:
        """The backend's address, starting it on the first call (once, whichever client speaks first)."""
        with self._start_lock:
            if self._address is None and not self._failed:
                self.connected_at = accepted_at
                try:
                    address = self._backend()
                except Exception:  # the backend logs its own failures; one that raises is one more
                    address = None
                if address is None:
                    self._failed = True
                    self.close()
                else:
                    self._address = address
                    self.ready_at = time.monotonic()
            return self._address


def _connect_backend(address: Address) -> socket.socket | None:
    """A connection to the backend; None (logged) when it does not answer, so the client is closed."""
    try:
        return socket.create_connection(address, timeout=BACKEND_CONNECT_TIMEOUT_S)
    except OSError as error:
        log.warning(
            "shim.debugger.failed",
            error=error,
            diagnosis=(
                f"debugpy, started behind the debug port, does not answer on {address[0]}:{address[1]}; this "
                "client is turned away. Restart the server to debug again; it goes on serving meanwhile."
            ),
        )
        return None


def _first_bytes(client: socket.socket) -> bytes:
    """What the client says first (empty when it closes, resets or stays silent for too long)."""
    client.settimeout(FIRST_BYTES_TIMEOUT_S)
    try:
        return client.recv(CHUNK)
    except OSError:  # socket.timeout is an OSError
        return b""


def _relay(client: socket.socket, backend: socket.socket) -> None:
    """Copy bytes both ways until either side closes or fails, which shuts both down and so ends the other."""
    back = hidden_thread(lambda: _pump(backend, client), "score-shim-debug-relay")
    back.start()
    _pump(client, backend)
    back.join(timeout=BACKEND_CONNECT_TIMEOUT_S)  # already woken by the shutdown at the end of _pump


def _pump(source: socket.socket, target: socket.socket) -> None:
    """One direction, one chunk at a time (the buffer stays bounded); its end shuts both sockets down.

    Shut down, not closed: that wakes the other direction's thread, and the session closes both once that
    thread has ended (a socket closed under a thread blocked on it could have its number reused meanwhile).
    """
    try:
        while True:
            data = source.recv(CHUNK)
            if not data:
                return
            target.sendall(data)
    except OSError:
        return
    finally:
        for sock in (source, target):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


def _close(sock: socket.socket) -> None:
    """Shut down (which wakes a thread blocked on the socket) and close; never raises."""
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()


def current() -> Relay | None:
    """The relay this process serves the debug port with, if any (for the benchmark's figures)."""
    return _current if _current is not None and _current._owner_pid == os.getpid() else None


def _after_fork() -> None:
    """A process forked from the owner (the user's multiprocessing) must not hold the port open after it."""
    global _current
    if _current is not None and _current._owner_pid != os.getpid():
        with contextlib.suppress(OSError):
            _current.listener.close()  # the child's copy only; the owner goes on listening
        _current = None


os.register_at_fork(after_in_child=_after_fork)
