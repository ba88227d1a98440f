"""The init-time model probe (`shim.models.probe.probe_models`) on a 100,000-file model folder.

The probe runs before every ``init()``, so its cost is start-up time. Its walk is bounded in entries
(5,000), depth and time (50 ms); this measures what that bound costs on a model folder of 100,000 files
made in a temporary directory (one folder: the walk is breadth first, so a tree of folders is cut at the
same count), beside a 3-file model. The worst round is reported, since start-up happens once.
Target: 100 ms, well under what anyone notices beside an ``init()`` that loads a model.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from shim.models.probe import probe_models

from . import targets

FILES = 100_000


def _make(root: Path, folders: int, per_folder: int) -> None:
    for i in range(folders):
        folder = root / f"part-{i:03d}" if folders > 1 else root
        folder.mkdir(parents=True, exist_ok=True)
        for j in range(per_folder):
            # Empty files: the probe stats each file it lists, and a size does not change that cost.
            os.close(os.open(folder / f"shard-{j:05d}.bin", os.O_CREAT | os.O_WRONLY, 0o644))


def _time(model_dir: Path, rounds: int) -> dict[str, Any]:
    env = {"AZUREML_MODEL_DIR": str(model_dir)}
    timings, report = [], {}
    for _ in range(rounds):
        started = time.perf_counter()
        report = probe_models(env)
        timings.append((time.perf_counter() - started) * 1000)
    walk = report.get("walk", {})
    return {
        "median_ms": round(statistics.median(timings), 3),
        "max_ms": round(max(timings), 3),
        "rounds_ms": [round(t, 3) for t in timings],
        "entries_seen": walk.get("entries_seen"),
        "cut": walk.get("cut"),
        "layout": report.get("layout"),
    }


def measure(rounds: int, files: int = FILES) -> dict[str, Any]:
    """Probe timings on a 3-file model folder and on one of ``files`` files (in one folder; 100,000 in a full
    run, fewer in a quick one, where making them would take most of its time)."""
    with tempfile.TemporaryDirectory(prefix="score-shim-probe-") as tmp:
        base = Path(tmp)
        small = base / "small" / "azureml-models" / "sk" / "1"
        _make(small / "model", 1, 3)
        large = base / "large" / "azureml-models" / "big" / "1"
        started = time.perf_counter()
        _make(large / "model", 1, files)
        made_s = time.perf_counter() - started
        return {
            "files": sum(len(names) for _, _, names in os.walk(large)),
            "create_seconds": round(made_s, 1),
            "small": _time(small, rounds),
            "large": _time(large, rounds),
            "target_ms": targets.PROBE_MS,
        }
