"""Start the real server (bare or with the shim) on 127.0.0.1 and read what it logged."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from shim.cli.serve import LOOPBACK, ServeOptions, start, stop, wait_until_healthy

STARTUP_SECONDS = 60.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def parse_lines(text: str) -> tuple[list[dict[str, Any]], list[str]]:
    """JSON objects, and the lines that are not JSON objects (the server's text, tracebacks)."""
    events, other = [], []
    for line in text.splitlines():
        try:
            value = json.loads(line)
        except ValueError:
            other.append(line)
            continue
        if isinstance(value, dict):
            events.append(value)
        else:
            other.append(line)
    return events, other


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30)

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def events(self, event: str | None = None, **match: Any) -> list[dict[str, Any]]:
        found, _ = parse_lines(self.log_text())
        return [
            e
            for e in found
            if (event is None or e.get("event") == event) and all(e.get(k) == v for k, v in match.items())
        ]

    def wait_for_event(self, event: str, timeout: float = 10.0, **match: Any) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            found = self.events(event, **match)
            if found:
                return found[-1]
            if time.monotonic() > deadline:
                raise AssertionError(f"no {event} {match} in the log:\n{self.log_text()[-4000:]}")
            time.sleep(0.05)

    def stop(self) -> int:
        return stop(self.process, grace=20)


def wait_for(predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


@contextmanager
def running_server(
    script: Path,
    log_dir: Path,
    *,
    shim: bool = True,
    model_dir: Path | None = None,
    workers: int = 1,
    env: Mapping[str, str] | None = None,
    expect_healthy: bool = True,
) -> Iterator[Server]:
    """The real server for ``script``; stopped (and the whole process group killed) on exit."""
    port = free_port()
    log_path = log_dir / f"{script.stem}-{'shim' if shim else 'bare'}-{port}.log"
    base_env = {"SCORE_SHIM_LOG_FORMAT": "json", "AML_APP_ROOT": str(script.parent)}
    base_env.update(env or {})
    options = ServeOptions(script=script, model_dir=model_dir, port=port, workers=workers, shim=shim, env=base_env)
    with log_path.open("wb") as log:
        process = start(options, stdout=log, stderr=subprocess.STDOUT, cwd=str(script.parent))
    server = Server(process, port, log_path)
    try:
        if expect_healthy and not wait_until_healthy(process, port, STARTUP_SECONDS):
            raise AssertionError(f"server did not start (exit {process.poll()}):\n{server.log_text()[-4000:]}")
        yield server
    finally:
        server.stop()
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, 9)
