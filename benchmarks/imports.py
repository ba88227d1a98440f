"""Start-up in fresh interpreters: ``import shim``, and the drop-in entry as the server loads it.

Each run is a new interpreter, so nothing is cached in ``sys.modules``; the time is taken around the import
only (the interpreter's own start-up is the same with or without the shim). Figures, medians of several runs,
the variants alternating run by run so that load hits all alike:

- ``import shim``: what a score.py that wraps its own functions pays before ``init()`` (target 30 ms);
- the drop-in entry: ``score_wrappers/entry.py`` loaded the way the server loads its entry script
  (``spec_from_file_location("entry_module", ...)``), after the server's own modules (flask, its config) are
  imported, as they are in a worker at that moment; this includes loading the user's (trivial) score.py and
  starting the shim (target 30 ms);
- ``import shim`` and a first log line: structlog is imported on the first line the shim logs, not by
  ``import shim``; a served script pays this once at start (reported);
- ``python -c pass`` beside them: the interpreter's start-up, for scale.

One more run under ``-X importtime`` lists the modules whose own import time is largest, for the JSON.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from . import targets

CHILD_TIMEOUT_S = 60.0

_IMPORT = "import time; t = time.perf_counter(); import shim; print((time.perf_counter() - t) * 1000)"
_FIRST_LINE = (
    "import io, time; t = time.perf_counter(); import shim; "
    "shim.configure_logging(stream=io.StringIO()); shim.get_logger('bench').info('bench.line'); "
    "print((time.perf_counter() - t) * 1000)"
)
_ENTRY = """\
import importlib.util, os, sys, time
import azureml_inference_server_http.server.user_script  # the server's modules, loaded before its entry script
t = time.perf_counter()
spec = importlib.util.spec_from_file_location("entry_module", os.environ["AZUREML_ENTRY_SCRIPT"])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
elapsed = (time.perf_counter() - t) * 1000
assert callable(module.run) and callable(module.init)
print(elapsed)
"""
_LOADED = (
    "import sys, shim; print(sorted(m for m in ('structlog', 'asyncio', 'debugpy', 'click', 'flask', "
    "'dataclasses', 'inspect', 'typing') if m in sys.modules))"
)


def _child_ms(code: str, env: Mapping[str, str] | None = None) -> float:
    """Milliseconds the child printed last (its stdout may carry other lines first)."""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=CHILD_TIMEOUT_S, check=False, env=env
    )
    if result.returncode != 0:
        raise RuntimeError(f"a fresh interpreter failed ({result.returncode}):\n{result.stderr[-2000:]}")
    return float(result.stdout.strip().splitlines()[-1])


def startup_ms() -> float:
    """``python -c pass``, wall clock: the interpreter's own start-up, for scale."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True, timeout=CHILD_TIMEOUT_S)
    return (time.perf_counter() - started) * 1000


def _entry_environment(workdir: Path) -> dict[str, str]:
    """A worker's environment with the drop-in entry as the server's entry script (from `serve`'s own code)."""
    from shim.cli.serve import ServeOptions, server_environment

    script = workdir / "score.py"
    script.write_text("def init():\n    pass\n\n\ndef run(raw_data):\n    return raw_data\n", encoding="utf-8")
    (workdir / "model").mkdir(exist_ok=True)
    options = ServeOptions(script=script, model_dir=workdir / "model", env={"AML_APP_ROOT": str(workdir)})
    return server_environment(options)


def _importtime_top(count: int = 12) -> dict[str, list[dict[str, Any]]]:
    """The modules with the largest cumulative and own import times under ``-X importtime``."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import shim"],
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT_S,
        check=True,
    )
    rows: list[dict[str, Any]] = []
    for line in result.stderr.splitlines():
        # "import time:      1437 |      79367 |   shim.runtime.wrap"
        parts = line.split("|")
        if len(parts) != 3 or not line.startswith("import time:"):
            continue
        own, cumulative = parts[0].split(":")[-1].strip(), parts[1].strip()
        if not own.isdigit():
            continue  # the header line
        rows.append({"module": parts[2].strip(), "own_ms": int(own) / 1000, "cumulative_ms": int(cumulative) / 1000})
    by_cumulative = sorted(rows, key=lambda row: row["cumulative_ms"], reverse=True)[:count]
    by_own = sorted(rows, key=lambda row: row["own_ms"], reverse=True)[:count]
    return {"by_cumulative": by_cumulative, "by_own": by_own}


def _summary(values: list[float]) -> dict[str, Any]:
    return {"median_ms": round(statistics.median(values), 2), "per_run_ms": [round(value, 2) for value in values]}


def measure(runs: int) -> dict[str, Any]:
    """Medians over ``runs`` fresh interpreters per variant, the variants alternating."""
    found: dict[str, list[float]] = {"import": [], "entry": [], "first_line": [], "startup": []}
    with tempfile.TemporaryDirectory(prefix="score-shim-imports-") as tmp:
        env = _entry_environment(Path(tmp))
        for _ in range(runs):
            found["import"].append(_child_ms(_IMPORT))
            found["entry"].append(_child_ms(_ENTRY, env))
            found["first_line"].append(_child_ms(_FIRST_LINE))
            found["startup"].append(startup_ms())
    loaded = subprocess.run(
        [sys.executable, "-c", _LOADED], capture_output=True, text=True, timeout=CHILD_TIMEOUT_S, check=True
    ).stdout.strip()
    return {
        "runs": runs,
        "target_ms": targets.IMPORT_MS,
        "import_shim": _summary(found["import"]),
        "entry": _summary(found["entry"]),
        "import_and_first_line": _summary(found["first_line"]),
        "interpreter_startup": _summary(found["startup"]),
        "modules_loaded_by_import_shim": loaded,
        "importtime_top": _importtime_top(),
    }
