"""``import shim`` in a fresh interpreter: what a score.py that wraps its functions pays before ``init()``.

Each run is a new interpreter, so nothing is cached in ``sys.modules``; the time is taken around the
``import`` statement only (the interpreter's own start-up is the same with or without the shim). Three
figures, medians of several runs:

- ``import shim``: the statement itself (target 50 ms, aim 30);
- ``import shim`` and a first log line: structlog is imported on the first line the shim logs, not by
  ``import shim`` (it loads asyncio through ``structlog.stdlib``); a served script pays this once at start;
- ``python -c pass`` beside them: the interpreter's start-up, for scale.

One more run under ``-X importtime`` lists the modules whose own import time is largest, for the JSON.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from typing import Any

TARGET_MS = 50.0

_IMPORT = "import time; t = time.perf_counter(); import shim; print((time.perf_counter() - t) * 1000)"
_FIRST_LINE = (
    "import io, time; t = time.perf_counter(); import shim; "
    "shim.configure_logging(stream=io.StringIO()); shim.get_logger('bench').info('bench.line'); "
    "print((time.perf_counter() - t) * 1000)"
)


def _child_ms(code: str) -> float:
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    return float(result.stdout.strip().splitlines()[-1])


def _startup_ms() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True, timeout=60)
    return (time.perf_counter() - started) * 1000


def _importtime_top(count: int = 12) -> dict[str, list[dict[str, Any]]]:
    """The modules with the largest cumulative and own import times under ``-X importtime``."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import shim"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    rows = []
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


def measure(runs: int) -> dict[str, Any]:
    """Medians over ``runs`` fresh interpreters, alternating the variants so that load hits both alike."""
    imports, first_lines, startups = [], [], []
    for _ in range(runs):
        imports.append(_child_ms(_IMPORT))
        first_lines.append(_child_ms(_FIRST_LINE))
        startups.append(_startup_ms())
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, shim; print(sorted(m for m in ('structlog', 'asyncio', 'debugpy', "
            "'click', 'flask') if m in sys.modules))",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.strip()
    return {
        "runs": runs,
        "target_ms": TARGET_MS,
        "import_ms": round(statistics.median(imports), 2),
        "import_ms_per_run": [round(value, 2) for value in imports],
        "import_and_first_line_ms": round(statistics.median(first_lines), 2),
        "import_and_first_line_ms_per_run": [round(value, 2) for value in first_lines],
        "interpreter_startup_ms": round(statistics.median(startups), 2),
        "heavy_modules_loaded_by_import": loaded,
        "importtime_top": _importtime_top(),
    }
