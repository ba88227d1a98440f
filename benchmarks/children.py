"""A long-lived child process that answers one JSON line per command, every wait bounded.

The served-path benchmark keeps one process per side (the server's app is a module-level singleton) and
alternates rounds between them from the parent; this is the parent's end of that conversation. A child that
dies or stalls fails the benchmark with its last words (the tail of its stderr), never hangs it.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent


class ChildFailed(RuntimeError):
    """The child crashed, stalled or answered nonsense: the benchmark did not run."""


def tail(path: Path, chars: int = 3000) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")[-chars:] or "<empty>"
    except OSError:
        return "<none>"


class Child:
    """``python -m MODULE ARGS`` in ``cwd`` with ``env``; stderr to ``stderr_path``. ``log_path``: a file the
    child writes its log to, whose tail a failure shows too."""

    def __init__(
        self, name: str, module: str, args: list[str], env: Mapping[str, str], cwd: Path, log_path: Path | None = None
    ) -> None:
        self.name = name
        self.stderr_path = cwd / f"{name}.stderr"
        self.log_path = log_path
        environment = dict(env)
        # The benchmarks package is found from any working directory, installed or not.
        environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), environment.get("PYTHONPATH")]))
        with self.stderr_path.open("wb") as stderr:
            self.process = subprocess.Popen(
                [sys.executable, "-m", module, *args],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=stderr,
                cwd=cwd,
                env=environment,
                bufsize=0,
            )
        self._buffer = b""

    def read(self, timeout_s: float) -> dict[str, Any]:
        """The next line the child writes, as JSON; `ChildFailed` if none comes within ``timeout_s``."""
        assert self.process.stdout is not None
        deadline = time.monotonic() + timeout_s
        fd = self.process.stdout.fileno()
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise self.failed(f"no answer within {timeout_s:.0f} s")
            readable, _, _ = select.select([fd], [], [], remaining)
            if not readable:
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                raise self.failed(f"exited with code {self.process.wait(timeout=5)}")
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        try:
            answer: dict[str, Any] = json.loads(line)
        except ValueError:
            raise self.failed(f"answered {line[:200]!r}") from None
        if "error" in answer:
            raise self.failed(str(answer["error"]))
        return answer

    def ask(self, command: Mapping[str, Any], timeout_s: float) -> dict[str, Any]:
        """Send one command and wait (bounded) for its answer."""
        assert self.process.stdin is not None
        try:
            self.process.stdin.write((json.dumps(command) + "\n").encode())
        except OSError as error:
            raise self.failed(f"cannot be written to ({error})") from None
        return self.read(timeout_s)

    def failed(self, what: str) -> ChildFailed:
        said = f"the {self.name} child {what}; its stderr ends:\n{tail(self.stderr_path)}"
        if self.log_path is not None:
            said += f"\nits log ends:\n{tail(self.log_path)}"
        return ChildFailed(said)

    def stop(self, grace_s: float = 10.0) -> None:
        """Ask it to quit, then kill it if it does not; always reaps it."""
        stdin = self.process.stdin
        if stdin is not None:
            with contextlib.suppress(OSError):
                if self.process.poll() is None:
                    stdin.write(b'{"do": "quit"}\n')
                stdin.close()
        if self.process.poll() is None:
            try:
                self.process.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=grace_s)
        if self.process.stdout is not None:
            self.process.stdout.close()
