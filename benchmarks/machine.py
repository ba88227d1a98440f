"""What the figures were measured on: a table without its machine cannot be compared with another."""

from __future__ import annotations

import os
import platform
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from .imports import startup_ms

PACKAGES = ("azureml-inference-server-http", "gunicorn", "flask", "structlog", "debugpy")


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (Linux), else what `platform` knows."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


def describe() -> dict[str, Any]:
    """CPU, Python, the packages the figures depend on, the time (UTC) and the interpreter's start-up."""
    return {
        "when_utc": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu_model(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "packages": {package: _version(package) for package in PACKAGES},
        "python_c_pass_ms": round(sorted(startup_ms() for _ in range(5))[2], 1),
    }


def sentence(machine: dict[str, Any]) -> str:
    """One line for the table's foot: enough to tell whether two tables came from comparable machines."""
    packages = machine["packages"]
    return (
        f"{machine['when_utc']}; {machine['cpu']} x {machine['cpus']}; {machine['implementation']} "
        f"{machine['python']} ({machine['platform']}); azureml-inference-server-http "
        f"{packages['azureml-inference-server-http']}, gunicorn {packages['gunicorn']}, "
        f"flask {packages['flask']}, structlog {packages['structlog']}; "
        f"`python -c pass` {machine['python_c_pass_ms']} ms (median of 5)."
    )
