"""What importing the shim costs a fresh interpreter: ``import shim`` and the drop-in entry (issue 17, part 4).

    .venv-test-3.11/bin/python scripts/profile_import.py              # medians of 15 fresh interpreters
    .venv-test-3.11/bin/python scripts/profile_import.py --runs 31 --top 15
    .venv-test-3.11/bin/python scripts/profile_import.py --tree /tmp/shim-before --tree .   # before / after

Each figure is the median of ``--runs`` fresh interpreters, run in turn (and tree after tree, when several are
given) so that the machine's load hits them alike:

- ``python -c pass``: the interpreter's own start-up, for scale (timed from outside, like the two others);
- ``import shim``: a fresh interpreter that imports the shim, timed from outside (``python -c "import shim"``),
  and the import statement alone, timed inside;
- the drop-in entry: what the server does with ``score_wrappers/entry.py`` (``SCORE_SHIM_ENTRY_SCRIPT`` pointing at
  a trivial score.py): import it, which starts the shim, reads the settings, imports the user's script and wraps
  ``init`` and ``run``; timed from outside, and the import alone inside.

The trees' modules are compiled first (``compileall``, as ``pip install`` does): with ``PYTHONDONTWRITEBYTECODE``
set, an uncompiled tree would be compiled again by every interpreter. Then one run under ``-X importtime`` of
each statement: the modules with the largest cumulative times.
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCORE_PY = "def init():\n    pass\n\n\ndef run(raw_data):\n    return raw_data\n"
TIMED = "import time; t = time.perf_counter(); {statement}; print((time.perf_counter() - t) * 1000)"
STATEMENTS = {
    "import shim": "import shim",
    "drop-in entry": "import score_wrappers.entry",
}


def _env(tree: Path, app_root: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("SCORE_SHIM_", "AZUREML_"))}
    env.update(
        {
            "PYTHONPATH": str(tree),
            "AML_APP_ROOT": str(app_root),
            "SCORE_SHIM_ENTRY_SCRIPT": str(app_root / "score.py"),
            "SCORE_SHIM_LOG_FORMAT": "json",
        }
    )
    return env


def _outside_ms(argv: list[str], env: dict[str, str], cwd: Path) -> float:
    started = time.perf_counter()
    # No timeout: with one, subprocess polls the child with sleeps of up to 50 ms, which would be timed too.
    subprocess.run(argv, env=env, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
    return (time.perf_counter() - started) * 1000


def _inside_ms(statement: str, env: dict[str, str], cwd: Path) -> float:
    code = TIMED.format(statement=statement)
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=cwd, check=True, capture_output=True, text=True, timeout=60
    )
    return float(result.stdout.strip().splitlines()[-1])


def _importtime(statement: str, env: dict[str, str], cwd: Path, top: int) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", statement],
        env=env,
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    rows = []
    for line in result.stderr.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[0].split(":")[-1].strip().isdigit():
            rows.append((int(parts[1]), int(parts[0].split(":")[-1]), parts[2].rstrip()))
    rows.sort(reverse=True)
    return [
        f"  {cumulative / 1000:7.1f} ms cumulative {own / 1000:6.1f} own {name}" for cumulative, own, name in rows[:top]
    ]


def measure(runs: int, trees: list[Path], top: int) -> str:
    for tree in trees:
        for package in ("shim", "score_wrappers"):
            compileall.compile_dir(str(tree / package), quiet=1)
    with tempfile.TemporaryDirectory() as folder:
        app_root = Path(folder)
        (app_root / "score.py").write_text(SCORE_PY, encoding="utf-8")
        figures: dict[Path, dict[str, list[float]]] = {tree: {} for tree in trees}
        for _ in range(runs):
            for tree in trees:
                _one_round(figures[tree], _env(tree, app_root), app_root)
        lines = [f"Python {sys.version.split()[0]}, medians of {runs} fresh interpreters (ms), quartiles in brackets"]
        for tree in trees:
            lines.append(f"shim from {tree}:")
            for name, values in figures[tree].items():
                low, _, high = statistics.quantiles(values, n=4)
                lines.append(f"  {name:40} {statistics.median(values):6.1f}   ({low:.1f} .. {high:.1f})")
        for tree in trees if top else ():
            for name, statement in STATEMENTS.items():
                lines.append(f"-X importtime, {name}, shim from {tree}: the largest cumulative times")
                lines += _importtime(statement, _env(tree, app_root), app_root, top)
    return "\n".join(lines)


def _one_round(figures: dict[str, list[float]], env: dict[str, str], app_root: Path) -> None:
    figures.setdefault("python -c pass", []).append(_outside_ms([sys.executable, "-c", "pass"], env, app_root))
    for name, statement in STATEMENTS.items():
        fresh = _outside_ms([sys.executable, "-c", statement], env, app_root)
        figures.setdefault(f"{name} (fresh interpreter)", []).append(fresh)
        figures.setdefault(f"{name} (the import alone)", []).append(_inside_ms(statement, env, app_root))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="fresh interpreters per figure (default 15)")
    parser.add_argument("--top", type=int, default=12, help="modules listed from -X importtime (default 12)")
    parser.add_argument("--tree", type=Path, action="append", help="a source tree whose shim is imported (repeatable)")
    args = parser.parse_args()
    print(measure(args.runs, [tree.resolve() for tree in args.tree or [ROOT]], args.top))


if __name__ == "__main__":
    main()
