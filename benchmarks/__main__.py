"""``python -m benchmarks``: every figure of the shim's cost beside the bare server, in one run, with targets.

Prints one table (``--markdown``: as Markdown, for docs/costs.md) with the machine it ran on, and writes every
round as JSON. Progress goes to stderr, so that stdout holds only the table.

Exit codes: 0 when every benchmark ran, whether or not its target was met (timings on a shared machine are
too noisy to fail a build on; a missed target shows in the table); 1 when a benchmark failed to run (a child
crashed, a server did not start, the shim's logging failed): the figures would be wrong, and ``--quick`` in CI
exists to catch exactly that; 2 for a bad command line; 3 with ``--fail-on-miss`` when a target was missed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from . import figures as f
from . import machine, plan, render

DEFAULT_JSON = Path(__file__).resolve().parent / "results" / "latest.json"
FAILED, MISSED = 1, 3


def _say(message: str) -> None:
    print(f"benchmarks: {message}", file=sys.stderr, flush=True)


def _defaults_only() -> list[str]:
    """Drop the caller's ``SCORE_SHIM_*`` settings, so that every child measures the shim's defaults."""
    names = sorted(name for name in os.environ if name.startswith("SCORE_SHIM_"))
    for name in names:
        del os.environ[name]
    return names


def run_sections(sections: list[plan.Section], results: dict[str, Any]) -> None:
    """Each section in turn; one that fails is recorded (and said) and the others still run."""
    status: dict[str, Any] = results.setdefault("sections", {})
    for section in sections:
        _say(f"{section.name}: {section.what}")
        started = time.monotonic()
        try:
            results[section.name] = section.run()
            status[section.name] = {"seconds": round(time.monotonic() - started, 1)}
        except plan.Skipped as why:
            status[section.name] = {"skipped": str(why)}
            _say(f"{section.name}: skipped: {why}")
        except Exception as error:
            first_line = (str(error).strip().splitlines() or [""])[0][:160]
            status[section.name] = {
                "error": f"FAILED: {type(error).__name__}: {first_line}",
                "traceback": traceback.format_exc(),
            }
            _say(f"{section.name}: FAILED\n{traceback.format_exc()}")


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run (CI): fewer rounds, a 20 MB log")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown (docs/costs.md)")
    parser.add_argument(
        "--json",
        type=Path,
        default=DEFAULT_JSON,
        metavar="PATH",
        help=f"where to write every figure and round (default: {DEFAULT_JSON})",
    )
    parser.add_argument("--fail-on-miss", action="store_true", help="exit 3 when a target was missed")
    parser.add_argument("--only", metavar="SECTION[,SECTION]", help="run only these sections (by name)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    sections = plan.sections(args.quick)
    if args.only:
        wanted = set(args.only.split(","))
        unknown = wanted - {section.name for section in sections}
        if unknown:
            _say(f"unknown sections {sorted(unknown)}; known: {[section.name for section in sections]}")
            return 2
        sections = [section for section in sections if section.name in wanted]
    started = time.monotonic()
    results: dict[str, Any] = {"settings_ignored": _defaults_only()}
    _say("the machine")
    described = machine.describe()
    run_sections(sections, results)
    results["meta"] = {"quick": args.quick, "seconds": round(time.monotonic() - started, 1), "machine": described}
    rows = f.figures(results)
    results["figures"] = [vars(row) for row in rows]
    print(render.markdown(rows, results) if args.markdown else render.text(rows, results))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    _say(f"done in {results['meta']['seconds']} s; every round written to {args.json}")
    return exit_code(results, rows, args.fail_on_miss)


def exit_code(results: dict[str, Any], rows: list[f.Figure], fail_on_miss: bool) -> int:
    """1 when a benchmark failed to run; 3 when asked to fail on a missed target and one was; else 0.
    A skipped section (waiting for code not written yet) is neither."""
    if any("error" in state for state in results.get("sections", {}).values()):
        return FAILED
    return MISSED if fail_on_miss and f.missed_targets(rows) else 0


if __name__ == "__main__":
    sys.exit(main())
