"""The debug port's relay on its own (`shim.runtime.debug_relay`): real sockets on 127.0.0.1, an echo backend.

The server tests (tests/test_debugger.py) attach a real DAP client through it to real debugpy; these pin down
what it promises by itself: nothing starts for a connection that says nothing, the backend starts once, bytes
go both ways unchanged and in order, either side closing closes the other, a backend that cannot start
closes the port, and none of its threads are visible to a debugger.
"""

from __future__ import annotations

import errno
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress

import pytest

from shim.runtime import debug_relay
from shim.runtime.debug_relay import Address, Relay
from tests._server import wait_for

TIMEOUT = 10.0


class EchoBackend:
    """What stands in for debugpy's adapter: echoes every connection; counts how often it was started."""

    def __init__(self) -> None:
        self.starts = 0
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(TIMEOUT)
        self.connections: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def start(self) -> Address:
        self.starts += 1
        return ("127.0.0.1", int(self.server.getsockname()[1]))

    def _accept(self) -> None:
        for _ in range(20):
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            self.connections.append(conn)
            threading.Thread(target=self._echo, args=(conn,), daemon=True).start()

    @staticmethod
    def _echo(conn: socket.socket) -> None:
        conn.settimeout(TIMEOUT)
        with suppress(OSError), conn:
            while data := conn.recv(65536):
                conn.sendall(data)

    def close(self) -> None:
        self.server.close()
        for conn in self.connections:
            with suppress(OSError):
                conn.close()


@contextmanager
def relayed(backend: debug_relay.Backend) -> Iterator[tuple[Relay, int]]:
    relay = Relay(debug_relay.bind("127.0.0.1", 0), backend)
    relay.serve()
    try:
        yield relay, int(relay.listener.getsockname()[1])
    finally:
        relay.close()


@pytest.fixture()
def echo() -> Iterator[EchoBackend]:
    backend = EchoBackend()
    yield backend
    backend.close()


def client(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    sock.settimeout(TIMEOUT)
    return sock


def receive(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def test_a_connection_that_says_nothing_starts_nothing(echo: EchoBackend) -> None:
    with relayed(echo.start) as (relay, port):
        for _ in range(3):
            client(port).close()
        time.sleep(0.3)
        assert echo.starts == 0 and not relay.started and relay.ready_at is None


def test_bytes_go_both_ways_unchanged_and_the_backend_starts_once(echo: EchoBackend) -> None:
    payload = bytes(range(256)) * 4096  # 1 MiB: many chunks, each one written out before the next is read
    with relayed(echo.start) as (relay, port):
        first, second = client(port), client(port)
        with first, second:
            sender = threading.Thread(target=first.sendall, args=(payload,), daemon=True)
            sender.start()
            assert receive(first, len(payload)) == payload
            sender.join(TIMEOUT)
            second.sendall(b"Content-Length: 2\r\n\r\n{}")
            assert receive(second, 23) == b"Content-Length: 2\r\n\r\n{}"
        assert echo.starts == 1 and relay.started
        assert relay.connected_at is not None and relay.ready_at is not None
        assert relay.connected_at <= relay.ready_at


def test_either_side_closing_closes_the_other(echo: EchoBackend) -> None:
    with relayed(echo.start) as (_, port), client(port) as sock:
        sock.sendall(b"hello")
        assert receive(sock, 5) == b"hello"
        assert wait_for(lambda: len(echo.connections) == 1, TIMEOUT)
        echo.connections[0].shutdown(socket.SHUT_RDWR)  # the backend goes away
        assert sock.recv(10) == b""
    # and the other way round: the client leaves, the backend sees its end.
    backend = EchoBackend()
    try:
        with relayed(backend.start) as (_, port):
            sock = client(port)
            sock.sendall(b"x")
            assert receive(sock, 1) == b"x"
            sock.close()
            assert wait_for(lambda: _closed(backend.connections[0]), TIMEOUT)
    finally:
        backend.close()


def _closed(conn: socket.socket) -> bool:
    try:
        conn.setblocking(False)
        return conn.recv(1) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


@pytest.mark.parametrize("how", ["returns None", "raises"])
def test_a_backend_that_cannot_start_closes_the_port_for_good(how: str) -> None:
    calls = []

    def backend() -> Address | None:
        calls.append(1)
        if how == "raises":
            raise RuntimeError("no debugger today")
        return None

    with relayed(backend) as (relay, port):
        with client(port) as sock:
            sock.sendall(b"Content-Length: 2\r\n\r\n{}")
            assert sock.recv(10) == b""  # closed without an answer
        assert relay.failed and not relay.started and calls == [1]
        assert wait_for(lambda: _refused(port), TIMEOUT), "the port stayed open"


def _refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except ConnectionRefusedError:
        return True
    except OSError:
        return False
    return False


def test_no_thread_of_the_relay_is_visible_to_a_debugger(echo: EchoBackend) -> None:
    with relayed(echo.start) as (_, port), client(port) as sock:
        sock.sendall(b"ping")
        assert receive(sock, 4) == b"ping"
        ours = [t for t in threading.enumerate() if t.name.startswith("score-shim-debug")]
        assert {t.name for t in ours} >= {"score-shim-debug-port", "score-shim-debug-session", "score-shim-debug-relay"}
        assert all(t.daemon and t.pydev_do_not_trace and t.is_pydev_daemon_thread for t in ours)  # type: ignore[attr-defined]


def test_binding_a_port_in_use_or_an_address_not_here_raises_oserror() -> None:
    with socket.create_server(("127.0.0.1", 0)) as holder:
        with pytest.raises(OSError) as in_use:
            debug_relay.bind("127.0.0.1", holder.getsockname()[1])
        assert in_use.value.errno == errno.EADDRINUSE
    with pytest.raises(OSError) as not_here:
        debug_relay.bind("192.0.2.1", 0)  # TEST-NET-1: never an address of this machine
    assert not_here.value.errno == errno.EADDRNOTAVAIL
