"""What a run measures, and how much of it: the full run (a few minutes on 2 cores, the 1 GB log most of it)
or ``--quick`` (a smoke run for CI, well under a minute: fewer rounds, a 20 MB log, a 5,000-file probe).

Each section is one benchmark module called with its sizes; they run in this order (the timing-sensitive
in-process ones first, the disk-heavy 1 GB log last) and each is bounded in rounds and in time by its module.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Section:
    """One benchmark: its name in the results, a few words for the progress line, and how to run it."""

    name: str
    what: str
    module: str
    call: Callable[[Any], dict[str, Any]]

    def run(self) -> dict[str, Any]:
        # The module is imported only now, so that one broken by an edit elsewhere fails its own section
        # (recorded, the exit code 1) while the others still run.
        return self.call(importlib.import_module(f"{__package__}.{self.module}"))


@dataclass(frozen=True)
class Sizes:
    """Rounds and volumes of one kind of run."""

    served_rounds: int = 81
    served_fail_rounds: int = 21
    seconds_per_round: float = 0.06
    micro_rounds: int = 9
    wrap_run_calls: int = 20_000
    import_runs: int = 15
    server_rounds: int = 11
    server_requests: int = 200
    pipe_rounds: int = 7
    pipe_lines: int = 20_000
    reader_rounds: int = 3
    reader_lines: int = 200_000
    probe_rounds: int = 7
    probe_files: int = 100_000
    log_bytes: int = 1_000_000_000


FULL = Sizes()
QUICK = Sizes(
    served_rounds=9,
    served_fail_rounds=5,
    seconds_per_round=0.03,
    micro_rounds=3,
    wrap_run_calls=2_000,
    import_runs=3,
    server_rounds=3,
    server_requests=60,
    pipe_rounds=3,
    pipe_lines=3_000,
    reader_rounds=2,
    reader_lines=50_000,
    probe_rounds=3,
    probe_files=5_000,
    log_bytes=20_000_000,
)


def sections(quick: bool) -> list[Section]:
    """The benchmarks of one run, sized for ``quick`` or not."""
    z = QUICK if quick else FULL
    return [
        Section(
            "served",
            f"served path in process, {z.served_rounds} alternating rounds each side",
            "served",
            lambda m: m.measure(z.served_rounds, z.seconds_per_round, z.served_fail_rounds),
        ),
        Section(
            "wrap_run",
            "wrap_run alone (not the served path)",
            "overhead",
            lambda m: m.measure(z.micro_rounds, z.wrap_run_calls),
        ),
        Section(
            "imports",
            f"import shim and the drop-in entry, {z.import_runs} fresh interpreters each",
            "imports",
            lambda m: m.measure(z.import_runs),
        ),
        Section(
            "throughput_1w",
            "server throughput, 1 worker, 1 client: bare, wrapped, folding off",
            "throughput",
            lambda m: m.measure(1, 1, z.server_rounds, z.server_requests),
        ),
        Section(
            "throughput_2w",
            "server throughput, 2 workers, 2 clients: bare, wrapped, folding off",
            "throughput",
            lambda m: m.measure(2, 2, z.server_rounds, z.server_requests),
        ),
        Section("debugger", "debug port: no client, after attach", "debugger", lambda m: _debugger(m, quick)),
        Section(
            "lines",
            "lines to a pipe, with and without the lock",
            "lines",
            lambda m: m.measure(z.pipe_rounds, z.pipe_lines),
        ),
        Section(
            "logs",
            "logs reader in process, three kinds of log",
            "logs",
            lambda m: m.measure(z.reader_rounds, z.reader_lines),
        ),
        Section(
            "probe",
            f"model probe, {z.probe_files:,} files",
            "probe",
            lambda m: m.measure(z.probe_rounds, z.probe_files),
        ),
        Section(
            "logs_memory",
            f"score-shim logs on a {z.log_bytes / 1e6:,.0f} MB log",
            "logs_memory",
            lambda m: m.measure(z.log_bytes),
        ),
    ]


class Skipped(Exception):
    """Raised by a section that cannot run here, for a reason that is not a failure of the benchmark (it is
    shown as ``not run`` and does not fail the run)."""


def _debugger(module: Any, quick: bool) -> dict[str, Any]:
    """``benchmarks.debugger.compare(quick)`` (issue 17, part 2): at least ``no_client_ratio``,
    ``after_detach_ratio`` and ``attach_start_s``."""
    found: dict[str, Any] = module.compare(quick)
    return found
