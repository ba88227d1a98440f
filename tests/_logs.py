"""Run `score-shim logs` as a user runs it (``python -m shim logs FILE``), in a process of its own.

The readers' tests go through the real command, not the summary functions, so that what they check is what a
user sees: the console script's output, its exit code, and nothing on stderr but its own messages.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any


def write(folder: Path, name: str, text: str) -> Path:
    """``text`` as the file ``folder/name`` (the folder made when missing): a log as the user saved it."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def run_logs(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """The command's process, whatever its exit code: for the tests of usage errors."""
    return subprocess.run(
        [sys.executable, "-m", "shim", "logs", *map(str, args)], capture_output=True, text=True, timeout=60, cwd=cwd
    )


def logs_text(path: Path, *args: str, in_folder: bool = False) -> str:
    """The command's report on ``path``; it must succeed with no traceback of its own.

    ``in_folder`` runs it where the file is, on the file's bare name: the replica is then named by that name
    alone, the same whichever temporary folder the test ran in.
    """
    target, cwd = (path.name, path.parent) if in_folder else (str(path), None)
    done = run_logs(target, *args, cwd=cwd)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return done.stdout


def logs_json(path: Path, *args: str, in_folder: bool = False) -> dict[str, Any]:
    """The command's ``--json`` report on ``path``."""
    data: dict[str, Any] = json.loads(logs_text(path, *args, "--json", in_folder=in_folder))
    return data


def pasted(folder: Path, text: str, name: str = "pasted.log") -> tuple[str, dict[str, Any]]:
    """What a user pasted, saved as a file: the command's report on it, as text and as JSON."""
    path = write(folder, name, text)
    return logs_text(path), logs_json(path)
