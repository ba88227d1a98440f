"""``python -m benchmarks``: every figure of the shim's cost, side by side with the bare server, with targets.

The wrapper's in-process cost, the server's throughput wrapped/bare (1 and 2 workers), the model probe,
``score-shim logs`` lines/s, what the cross-process lock adds to a line written to a pipe (lines.py),
``import shim`` in a fresh interpreter (imports.py) and what a listening debug port costs a run() loop
(debugger.py, also runnable alone as ``python -m benchmarks.debugger``). About a minute on 2 cores;
``--quick`` about 15 s.

Prints one table and writes the full figures (every round) as JSON. The exit code is 0 when the
benchmark ran, whether or not a target was met: timings on a shared machine are too noisy to fail a
build on, and ``--quick`` exists to prove that the benchmark still runs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib.metadata import version
from pathlib import Path
from typing import Any

from . import debugger, imports, lines, logs, overhead, probe, throughput

DEFAULT_JSON = Path(__file__).resolve().parent / "results" / "latest.json"

#: Targets: what the wrapper may add to a call, and how much server throughput it may cost.
MAX_ADDED_US = 15.0
MIN_RATIO = 0.97


@dataclass(frozen=True)
class Figure:
    """One line of the table: a measured value and, when it has one, the target it is held to."""

    name: str
    value: float
    unit: str
    target: str
    met: bool | None  # None: reported, not held to a target

    def row(self) -> tuple[str, str, str, str]:
        verdict = "-" if self.met is None else ("met" if self.met else "MISSED")
        digits = {"us/call": 2, "req/s": 0, "lines/s": 0, "ms": 1, "x": 2}.get(self.unit, 3)
        return self.name, f"{self.value:,.{digits}f} {self.unit}".rstrip(), self.target, verdict


def _figures(results: dict[str, Any]) -> list[Figure]:
    ok, failed = results["overhead"]["ok"], results["overhead"]["failed"]
    in_request = results["overhead"]["ok_in_request"]
    figures = [
        Figure("run() ok: bare", ok["bare_us_per_call"], "us/call", "", None),
        Figure(
            "run() ok: added by wrap_run",
            ok["added_us_per_call"],
            "us/call",
            f"<= {MAX_ADDED_US:g} us",
            ok["added_us_per_call"] <= MAX_ADDED_US,
        ),
        # What a served request pays: the request-id and input-size lookups go through Flask's proxies.
        Figure(
            "run() ok in a Flask request: added",
            in_request["added_us_per_call"],
            "us/call",
            f"<= {MAX_ADDED_US:g} us",
            in_request["added_us_per_call"] <= MAX_ADDED_US,
        ),
        Figure("run() raises: bare", failed["bare_us_per_call"], "us/call", "", None),
        # Reported, not held to the target: a failing call renders its whole traceback into the line,
        # which is the point of the shim, and failures are the rare path.
        Figure("run() raises: added by wrap_run", failed["added_us_per_call"], "us/call", "report only", None),
    ]
    for run in results["throughput"]:
        label = f"server {run['workers']}w/{run['client_threads']}c"
        figures += [
            Figure(f"{label}: bare", run["bare_rps"], "req/s", "", None),
            Figure(f"{label}: wrapped", run["wrapped_rps"], "req/s", "", None),
            Figure(f"{label}: ratio wrapped/bare", run["ratio"], "", f">= {MIN_RATIO:g}", run["ratio"] >= MIN_RATIO),
        ]
    if "probe" in results:  # the model probe before init(): start-up time, bounded by entries and time
        found = results["probe"]
        for key, label in (("small", "3 files"), ("large", f"{found['files']:,} files")):
            worst = found[key]["max_ms"]
            figures.append(
                Figure(
                    f"model probe, {label} (worst)",
                    worst,
                    "ms",
                    f"<= {found['target_ms']:g} ms",
                    worst <= found["target_ms"],
                )
            )
    if "logs" in results:  # score-shim logs: lines/s through the reader, the shim's JSON lines held to a target
        read = results["logs"]
        target = logs.TARGET_JSON_LPS
        json_lps, text_lps = read["json"]["lines_per_s"], read["text"]["lines_per_s"]
        figures += [
            Figure("logs: shim JSON lines", json_lps, "lines/s", f">= {target:,}", json_lps >= target),
            Figure("logs: server text lines", text_lps, "lines/s", "", None),
            Figure("logs: older images' and platform lines", read["field"]["lines_per_s"], "lines/s", "", None),
        ]
    if "lines" in results:  # a line to a pipe, with and without the lock that keeps processes' lines whole
        added = results["lines"]["added_us_per_line"]
        name = "line written to a pipe: added by the cross-process lock"
        figures.append(Figure(name, added, "us/line", "report only", None))
    if "imports" in results:  # import shim in a fresh interpreter
        found = results["imports"]
        figures += [
            Figure(
                "import shim (fresh interpreter)",
                found["import_ms"],
                "ms",
                f"<= {found['target_ms']:g} ms",
                found["import_ms"] <= found["target_ms"],
            ),
            Figure("import shim + first log line", found["import_and_first_line_ms"], "ms", "report only", None),
            Figure("python -c pass (for scale)", found["interpreter_startup_ms"], "ms", "", None),
        ]
    if "debugger" in results:  # a pure-Python run() loop in fresh interpreters: no debugpy, imported, listening
        found = results["debugger"]
        base = found["none"]["us_per_call"]
        figures.append(Figure("run() loop: no debugpy (shim default)", base, "us/call", "", None))
        for mode, label in (("import", "debugpy imported"), ("listen", "debug port listening")):
            value = found[mode]["us_per_call"]
            figures += [
                Figure(f"run() loop: {label}", value, "us/call", "", None),
                Figure(f"run() loop: {label}, ratio to none", value / base, "x", "report only", None),
            ]
        figures.append(Figure("debugpy.listen() itself", found["listen"]["listen_s"] * 1000, "ms", "", None))
    return figures


def _table(figures: list[Figure]) -> str:
    rows = [("figure", "value", "target", "verdict"), *(figure.row() for figure in figures)]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    # The value column is right-aligned, so that the numbers line up.
    lines = [f"{n:<{widths[0]}}  {v:>{widths[1]}}  {t:<{widths[2]}}  {m}".rstrip() for n, v, t, m in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def _say(message: str) -> None:
    # Progress to stderr, so that stdout holds only the table.
    print(f"benchmarks: {message}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds and calls (a CI smoke run)")
    parser.add_argument(
        "--json",
        type=Path,
        default=DEFAULT_JSON,
        metavar="PATH",
        help=f"where to write the figures (default: {DEFAULT_JSON})",
    )
    args = parser.parse_args(argv)

    rounds = 3 if args.quick else 7
    calls, failing_calls = (5_000, 500) if args.quick else (20_000, 2_000)
    requests = 100 if args.quick else 300
    started = time.monotonic()

    _say(f"in-process overhead: {rounds} rounds x {calls:,} calls (raising: {failing_calls:,})")
    results: dict[str, Any] = {"overhead": overhead.measure(rounds, calls, failing_calls), "throughput": []}
    for workers, threads in ((1, 1), (2, 2)):
        _say(
            f"server throughput, {workers} worker(s), {threads} client thread(s): "
            f"{rounds} rounds x {requests} requests each side"
        )
        results["throughput"].append(throughput.measure(workers, threads, rounds, requests))
    _say(f"model probe: {rounds} rounds on 3 files and on {probe.FILES:,} files (creating them takes a while)")
    results["probe"] = probe.measure(rounds)
    log_lines = 100_000 if args.quick else 400_000
    _say(f"score-shim logs: {rounds} rounds over {log_lines:,} lines each: the shim's JSON, server text, field")
    results["logs"] = logs.measure(rounds, log_lines)
    pipe_lines = 5_000 if args.quick else 20_000
    _say(f"lines to a pipe: {rounds} rounds x {pipe_lines:,} lines, with and without the cross-process lock")
    results["lines"] = lines.measure(rounds, pipe_lines)
    import_runs = 5 if args.quick else 15
    _say(f"import shim: {import_runs} fresh interpreters")
    results["imports"] = imports.measure(import_runs)
    loop_calls = 200 if args.quick else 2_000
    _say(f"debug port: a run() loop, {rounds} rounds x {loop_calls:,} calls, without and with debugpy listening")
    results["debugger"] = {mode: debugger.measure(mode, loop_calls, rounds) for mode in debugger.MODES}

    figures = _figures(results)
    results["figures"] = [
        {"name": f.name, "value": f.value, "unit": f.unit, "target": f.target, "met": f.met} for f in figures
    ]
    results["meta"] = {
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "quick": args.quick,
        "seconds": round(time.monotonic() - started, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "structlog": version("structlog"),
        "azureml_inference_server_http": version("azureml-inference-server-http"),
        "gunicorn": version("gunicorn"),
    }
    print(_table(figures))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    _say(f"done in {results['meta']['seconds']} s; figures written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
