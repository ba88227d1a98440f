"""The real azureml-core in a virtual environment of its own, for the parity and hook tests.

Created under ``.cache/azureml-core-venv`` in the repository (git-ignored) on first use and reused while it
works: about 285 MB and 35-40 s to install here. The shim never imports azureml-core; only these tests
run it, in a separate process. structlog and click (the shim's own dependencies, a few hundred kB) are
installed beside it, so that the shim can run in the same process as azureml-core with
``PYTHONPATH`` pointing at the repository.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

VENV = Path(__file__).resolve().parent.parent / ".cache" / "azureml-core-venv"
PACKAGES = ("azureml-core", "structlog", "click")
_lock = threading.Lock()


def _python() -> Path:
    return VENV / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")


def _works() -> bool:
    if not _python().exists():
        return False
    probe = subprocess.run(
        [str(_python()), "-c", "import azureml.core.model, structlog, click"],
        capture_output=True,
        timeout=120,
        check=False,
    )
    return probe.returncode == 0


def azureml_core_python() -> str:
    """The venv's interpreter, creating the venv (or repairing it) when needed."""
    with _lock:
        if _works():
            return str(_python())
        VENV.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True, timeout=120)
        install = subprocess.run(
            [str(_python()), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *PACKAGES],
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        if install.returncode != 0 or not _works():
            raise RuntimeError(f"could not install {' '.join(PACKAGES)} into {VENV}:\n{install.stderr[-3000:]}")
        return str(_python())
