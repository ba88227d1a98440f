"""A small Debug Adapter Protocol client: what VS Code does when it attaches to debugpy.

Messages are JSON objects framed by a ``Content-Length: N\\r\\n\\r\\n`` header, over TCP. A reader thread
sorts what the adapter sends into responses (by ``request_seq``) and events (in order); every wait is
bounded. Connect once, for real: debugpy's adapter accepts one client session, and a connection that is
opened and closed without a session uses it up.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

Message = dict[str, Any]


class DAPError(AssertionError):
    """The adapter did not answer as expected (or not in time)."""


class DAPClient:
    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._seq = 0
        self._send_lock = threading.Lock()
        self._cond = threading.Condition()
        self._responses: dict[int, Message] = {}
        self._events: list[Message] = []
        self._closed = False
        self._reader = threading.Thread(target=self._read_loop, name="dap-reader", daemon=True)
        self._reader.start()

    @classmethod
    def connect(cls, host: str, port: int, timeout: float = 10.0) -> DAPClient:
        sock = socket.create_connection((host, port), timeout=timeout)
        sock.settimeout(None)  # the reader thread blocks; waits are bounded by the condition below
        return cls(sock)

    # -- wire -------------------------------------------------------------------------------------

    def _read_loop(self) -> None:
        buffer = b""
        try:
            while True:
                while b"\r\n\r\n" not in buffer:
                    chunk = self._sock.recv(65536)
                    if not chunk:
                        return
                    buffer += chunk
                header, _, buffer = buffer.partition(b"\r\n\r\n")
                length = next(
                    int(line.split(b":", 1)[1])
                    for line in header.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                while len(buffer) < length:
                    chunk = self._sock.recv(65536)
                    if not chunk:
                        return
                    buffer += chunk
                body, buffer = buffer[:length], buffer[length:]
                message = json.loads(body)
                with self._cond:
                    if message.get("type") == "response":
                        self._responses[message["request_seq"]] = message
                    elif message.get("type") == "event":
                        self._events.append(message)
                    self._cond.notify_all()
        except OSError:
            return
        finally:
            with self._cond:
                self._closed = True
                self._cond.notify_all()

    def send(self, command: str, arguments: Message | None = None) -> int:
        with self._send_lock:
            self._seq += 1
            seq = self._seq
            message: Message = {"seq": seq, "type": "request", "command": command}
            if arguments is not None:
                message["arguments"] = arguments
            body = json.dumps(message).encode("utf-8")
            self._sock.sendall(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        return seq

    def _wait(self, found: Callable[[], Message | None], what: str, timeout: float) -> Message:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                value = found()
                if value is not None:
                    return value
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._closed:
                    seen = [e.get("event") for e in self._events]
                    state = "closed" if self._closed else f"no answer in {timeout:.0f} s"
                    raise DAPError(f"waiting for {what}: connection {state}; events so far: {seen}")
                self._cond.wait(min(remaining, 0.5))

    def response(self, seq: int, timeout: float = 10.0) -> Message:
        message = self._wait(lambda: self._responses.get(seq), f"the response to request {seq}", timeout)
        if not message.get("success"):
            raise DAPError(f"{message.get('command')} failed: {message.get('message')} {message.get('body')}")
        return message

    def request(self, command: str, arguments: Message | None = None, timeout: float = 10.0) -> Message:
        return self.response(self.send(command, arguments), timeout)

    def event(self, name: str, timeout: float = 10.0, **match: Any) -> Message:
        """The first event called ``name`` whose body has ``match``; it is consumed."""

        def find() -> Message | None:
            for index, event in enumerate(self._events):
                body = event.get("body") or {}
                if event.get("event") == name and all(body.get(k) == v for k, v in match.items()):
                    return self._events.pop(index)
            return None

        return self._wait(find, f"a {name!r} event {match or ''}", timeout)

    def has_event(self, name: str) -> bool:
        """Whether an event called ``name`` has arrived (without consuming it)."""
        with self._cond:
            return any(event.get("event") == name for event in self._events)

    def close(self) -> None:
        with suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        self._sock.close()
        self._reader.join(timeout=5)

    # -- what VS Code does ------------------------------------------------------------------------

    def attach(
        self, breakpoints: dict[str, list[int]] | None = None, timeout: float = 15.0, **attach_args: Any
    ) -> dict[str, list[Message]]:
        """initialize, attach (answered only after configurationDone), setBreakpoints, configurationDone.

        Returns the adapter's verdict on each breakpoint, by file.
        """
        self.request(
            "initialize",
            {
                "clientID": "score-shim-tests",
                "adapterID": "debugpy",
                "pathFormat": "path",
                "linesStartAt1": True,
                "columnsStartAt1": True,
                "supportsRunInTerminalRequest": False,
            },
            timeout=timeout,
        )
        attach_seq = self.send("attach", {"justMyCode": True, **attach_args})
        self.event("initialized", timeout=timeout)
        verdicts: dict[str, list[Message]] = {}
        for path, lines in (breakpoints or {}).items():
            answer = self.request(
                "setBreakpoints",
                {"source": {"path": path}, "breakpoints": [{"line": line} for line in lines]},
                timeout=timeout,
            )
            verdicts[path] = answer["body"]["breakpoints"]
        self.request("configurationDone", timeout=timeout)
        self.response(attach_seq, timeout=timeout)
        return verdicts

    def top_frame(self, thread_id: int, timeout: float = 10.0) -> Message:
        answer = self.request("stackTrace", {"threadId": thread_id, "levels": 1}, timeout=timeout)
        frames = answer["body"]["stackFrames"]
        if not frames:
            raise DAPError(f"thread {thread_id} has no frames")
        return dict(frames[0])

    def evaluate(self, expression: str, frame_id: int, timeout: float = 10.0) -> str:
        body = self.request(
            "evaluate", {"expression": expression, "frameId": frame_id, "context": "repl"}, timeout=timeout
        )["body"]
        return str(body["result"])

    def disconnect(self, timeout: float = 10.0) -> None:
        """Leave the process running, as VS Code's "Disconnect" does for an attached session."""
        with suppress(DAPError, OSError):
            self.request("disconnect", {"terminateDebuggee": False, "restart": False}, timeout=timeout)


@contextmanager
def attached(host: str, port: int, **kwargs: Any) -> Iterator[tuple[DAPClient, dict[str, list[Message]]]]:
    client = DAPClient.connect(host, port)
    try:
        verdicts = client.attach(**kwargs)
        yield client, verdicts
        client.disconnect()
    finally:
        client.close()
