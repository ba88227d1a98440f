"""From one run's results (the dict written as JSON) to the rows of the table, each with its target and verdict.

A verdict is ``met`` or ``MISSED`` for a figure held to a target (`benchmarks.targets`), ``-`` for one that is
reported only, ``n/a`` where the run could not measure what the figure claims (say, the shim ignored the
setting an equal-volume comparison needs), and ``not run`` where its benchmark failed or was skipped: a
row is never silently missing. Pure: the tests build it from a hand-made dict.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import targets

MET, MISSED, REPORTED, NOT_APPLICABLE, NOT_RUN = "met", "MISSED", "-", "n/a", "not run"

_DIGITS = {"µs": 2, "req/s": 0, "lines/s": 0, "ms": 1, "MB": 1, "s": 2, "x": 3}


@dataclass(frozen=True)
class Figure:
    """One row: a measured value (None when not measured), its unit, the target in words and the verdict."""

    name: str
    value: float | None
    unit: str
    target: str = ""
    verdict: str = REPORTED

    def shown_value(self) -> str:
        if self.value is None:
            return "-"
        digits = _DIGITS.get(self.unit, 3)
        number = f"{self.value:,.{digits}f}"
        return f"x{number}" if self.unit == "x" else f"{number} {self.unit}"


def judged(name: str, value: float, unit: str, limit: float, at_most: bool = True) -> Figure:
    """A figure held to ``<= limit`` (or ``>= limit``)."""
    compare: Callable[[float, float], bool] = operator.le if at_most else operator.ge
    target = f"{'<=' if at_most else '>='} {limit:,g} {'' if unit == 'x' else unit}".rstrip()
    return Figure(name, value, unit, target, MET if compare(value, limit) else MISSED)


def missed_targets(figures: list[Figure]) -> list[Figure]:
    return [figure for figure in figures if figure.verdict == MISSED]


def not_run(section: str, why: str) -> Figure:
    return Figure(f"{section}: {why}", None, "", "", NOT_RUN)


def _served(found: dict[str, Any]) -> list[Figure]:
    ok, fail = found["ok"]["cpu_us"], found["fail"]["cpu_us"]
    return [
        Figure("served, run() returns: bare, CPU per request", ok["bare"], "µs"),
        Figure("served, run() returns: wrapped (shim started)", ok["wrapped"], "µs"),
        judged("served, run() returns: added by the shim", ok["added"], "µs", targets.SERVED_ADDED_US),
        Figure("served, run() raises: added (report only)", fail["added"], "µs"),
    ]


def _wrap_run(found: dict[str, Any]) -> list[Figure]:
    return [Figure("wrap_run alone, no server (not the served path): added", found["cpu_us"]["added"], "µs")]


def _throughput(run: dict[str, Any]) -> list[Figure]:
    label = f"server {run['workers']}w/{run['client_threads']}c"
    equal = f"{label}: equal-volume ratio, folding off/bare"
    keep = "needs SCORE_SHIM_ACCESS_LINES=keep"
    return [
        Figure(f"{label}: bare", run["rps"]["bare"], "req/s"),
        judged(f"{label}: net ratio wrapped/bare", run["net_ratio"], "x", targets.THROUGHPUT_NET_RATIO, False),
        Figure(equal, run["equal_volume_ratio"], "x")
        if run["log"]["keep_honoured"]
        else Figure(equal, None, "x", f"{keep} (not honoured)", NOT_APPLICABLE),
    ]


def _imports(found: dict[str, Any]) -> list[Figure]:
    limit = found["target_ms"]
    return [
        judged("import shim, fresh interpreter", found["import_shim"]["median_ms"], "ms", limit),
        judged("drop-in entry, as the server loads it", found["entry"]["median_ms"], "ms", limit),
        Figure("import shim + first log line", found["import_and_first_line"]["median_ms"], "ms"),
    ]


def _logs_memory(found: dict[str, Any]) -> list[Figure]:
    size = f"{found['megabytes'] / 1000:.1f} GB" if found["megabytes"] >= 1000 else f"{found['megabytes']:.0f} MB"
    baseline = f"{found['baseline_bytes'] / 1e6:.1f} MB log: {found['baseline_peak_rss_mb']:.1f}"
    return [
        Figure(f"score-shim logs, {size} log from disk", found["lines_per_s"], "lines/s"),
        Figure(f"score-shim logs, {size} log: peak RSS ({baseline})", found["peak_rss_mb"], "MB"),
    ]


def _logs(found: dict[str, Any]) -> list[Figure]:
    limit = found.get("target_json_lines_per_s", targets.LOGS_JSON_LINES_PER_S)
    return [
        judged("logs reader, in process: shim JSON lines", found["json"]["lines_per_s"], "lines/s", limit, False),
        Figure("logs reader, in process: server text lines", found["text"]["lines_per_s"], "lines/s"),
        Figure("logs reader, in process: older images', platform", found["field"]["lines_per_s"], "lines/s"),
    ]


def _lines(found: dict[str, Any]) -> list[Figure]:
    return [Figure("line to a pipe: added by the cross-process lock", found["added_us_per_line"], "µs")]


def _probe(found: dict[str, Any]) -> list[Figure]:
    name = f"model probe before init(), {found['files']:,} files, worst round"
    return [judged(name, found["large"]["max_ms"], "ms", found["target_ms"])]


def _debugger(found: dict[str, Any]) -> list[Figure]:
    no_client = found["no_client_ratio"]
    return [
        judged("debug port, no client: run() loop / no port", no_client, "x", targets.DEBUG_NO_CLIENT_RATIO),
        Figure("debug port, after attach and detach: / no port", found["after_detach_ratio"], "x"),
        Figure("debug port: attach to debugpy started", found["attach_start_s"], "s"),
    ]


#: Section name in the results -> its rows, in the table's order.
SECTIONS: dict[str, Callable[[Any], list[Figure]]] = {
    "served": _served,
    "wrap_run": _wrap_run,
    "throughput_1w": _throughput,
    "throughput_2w": _throughput,
    "imports": _imports,
    "logs_memory": _logs_memory,
    "logs": _logs,
    "lines": _lines,
    "probe": _probe,
    "debugger": _debugger,
}


def figures(results: dict[str, Any]) -> list[Figure]:
    """Every row, in the table's order; a section that did not run is one ``not run`` row saying why."""
    rows: list[Figure] = []
    status = results.get("sections", {})
    for section, rows_of in SECTIONS.items():
        state = status.get(section, {})
        if section in results and not state.get("error"):
            rows += rows_of(results[section])
        elif state:
            rows.append(not_run(section, state.get("error") or state.get("skipped") or "not run"))
    return rows
