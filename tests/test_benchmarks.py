"""The benchmark package's pure parts: the arithmetic of alternating rounds, the verdicts, the rendering.

Nothing here times anything or runs a benchmark (``python -m benchmarks --quick`` in CI does that): these
tests keep the figures' meaning from rotting, e.g. a median of differences quietly becoming a difference
of medians, or a failed benchmark disappearing from the table instead of showing as not run.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from benchmarks import figures, render, rounds
from benchmarks.__main__ import exit_code, run_sections
from benchmarks.logs_memory import copy_of
from benchmarks.plan import QUICK, Section, Skipped, sections
from benchmarks.throughput import served_per_round, volume

# -- rounds -------------------------------------------------------------------------------------------------


def test_rotation_lets_every_side_go_first_equally_often() -> None:
    orders = [rounds.rotated(["bare", "wrapped"], index) for index in range(4)]
    assert orders == [["bare", "wrapped"], ["wrapped", "bare"], ["bare", "wrapped"], ["wrapped", "bare"]]
    firsts = [rounds.rotated("abc", index)[0] for index in range(6)]
    assert sorted(firsts) == ["a", "a", "b", "b", "c", "c"]
    assert rounds.rotated([], 3) == []


def test_the_figure_is_the_median_of_per_round_differences_not_the_difference_of_medians() -> None:
    # One round disturbed on the bare side: the per-round differences shrug it off.
    bare = [100.0, 100.0, 400.0, 100.0, 100.0]
    wrapped = [104.0, 106.0, 105.0, 105.0, 105.0]
    found = rounds.compare(bare, wrapped)
    assert found["added"] == 5.0
    assert found["bare"] == 100.0 and found["wrapped"] == 105.0
    assert found["ratio"] == 1.05
    assert found["added_spread"]["min"] == -295.0 and found["added_spread"]["rounds"] == 5
    # Where the machine slowed both sides of one round and the wrapped side of another, the difference of
    # the medians (205 - 100) would be far off; the median of the differences is not.
    bare, wrapped = [100.0, 200.0, 100.0], [103.0, 205.0, 300.0]
    assert rounds.compare(bare, wrapped)["added"] == 5.0


def test_rounds_must_pair_up() -> None:
    with pytest.raises(ValueError, match="rounds differ"):
        rounds.differences([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="zero"):
        rounds.ratios([1.0], [0.0])
    with pytest.raises(ValueError, match="no rounds"):
        rounds.spread([])


def test_spread_of_one_round() -> None:
    assert rounds.spread([2.5]) == {"median": 2.5, "q1": 2.5, "q3": 2.5, "min": 2.5, "max": 2.5, "rounds": 1}


@pytest.mark.parametrize(
    ("seconds_per_call", "expected"),
    [(250e-6, 1000), (1e-9, 20_000), (1.0, 50), (0.0, 20_000)],
)
def test_calibration_sizes_a_round_within_bounds(seconds_per_call: float, expected: int) -> None:
    assert rounds.calibrate(0.25, seconds_per_call, 50, 20_000) == expected


# -- throughput and the big log: the bookkeeping --------------------------------------------------------------


def test_requests_served_per_round_are_whole_batches_split_evenly() -> None:
    assert served_per_round(300, 20, 1) == 300
    assert served_per_round(300, 20, 3) == 15 * 18
    assert served_per_round(10, 20, 2) == 20  # at least one batch


def test_keep_is_honoured_only_when_the_keep_server_writes_the_bare_volume() -> None:
    folded = volume({"bare": 2000, "wrapped": 1000, "wrapped_keep": 1000}, 1000)
    assert not folded["keep_honoured"]
    assert folded["lines_per_request"] == {"bare": 2.0, "wrapped": 1.0, "wrapped_keep": 1.0}
    assert volume({"bare": 2000, "wrapped": 1000, "wrapped_keep": 3000}, 1000)["keep_honoured"]


def test_every_copy_of_the_log_block_has_request_ids_of_its_own() -> None:
    block = b'{"event": "shim.run.ok", "request_id": "2b1c00000001-5d3e"}\n'
    assert copy_of(block, 0) != copy_of(block, 1)
    assert b'"request_id": "0001' in copy_of(block, 1)
    assert copy_of(block, 7).count(b"\n") == 1


# -- verdicts -----------------------------------------------------------------------------------------------


def _spread(value: float) -> dict[str, Any]:
    return {"median": value}


def results_of_a_run() -> dict[str, Any]:
    """A hand-made results dict shaped as the modules return them (only the keys the rows read)."""
    run = {
        "workers": 1,
        "client_threads": 1,
        "rps": {"bare": 900.0, "wrapped": 880.0, "wrapped_keep": 850.0},
        "net_ratio": 0.978,
        "equal_volume_ratio": 0.944,
        "log": {"keep_honoured": True},
    }
    return {
        "served": {
            "ok": {"cpu_us": {"bare": 210.0, "wrapped": 224.5, "added": 14.5}},
            "fail": {"cpu_us": {"added": 120.0}},
        },
        "wrap_run": {"cpu_us": {"added": 9.0}},
        "throughput_1w": run,
        "throughput_2w": {**copy.deepcopy(run), "workers": 2, "client_threads": 2, "log": {"keep_honoured": False}},
        "imports": {
            "target_ms": 30.0,
            "import_shim": {"median_ms": 29.0},
            "entry": {"median_ms": 31.0},
            "import_and_first_line": {"median_ms": 110.0},
        },
        "logs_memory": {
            "megabytes": 1000.2,
            "lines_per_s": 150_000,
            "peak_rss_mb": 21.5,
            "baseline_bytes": 888_286,
            "baseline_peak_rss_mb": 20.2,
        },
        "logs": {
            "json": {"lines_per_s": 410_000},
            "text": {"lines_per_s": 150_000},
            "field": {"lines_per_s": 130_000},
        },
        "lines": {"added_us_per_line": 2.7},
        "probe": {"files": 100_000, "large": {"max_ms": 33.0}, "target_ms": 100.0},
        "sections": {"debugger": {"skipped": "benchmarks.debugger.compare() does not exist yet"}},
        "meta": {
            "quick": False,
            "seconds": 212.4,
            "machine": {
                "when_utc": "2026-12-03 16:00 UTC",
                "cpu": "AMD EPYC",
                "cpus": 2,
                "implementation": "CPython",
                "python": "3.11.7",
                "platform": "Linux-x86_64",
                "packages": {
                    "azureml-inference-server-http": "1.5.1",
                    "gunicorn": "27.0.1",
                    "flask": "3.1.3",
                    "structlog": "26.1.0",
                },
                "python_c_pass_ms": 15.8,
            },
        },
    }


def _by_name(rows: list[figures.Figure]) -> dict[str, figures.Figure]:
    return {row.name: row for row in rows}


def test_verdicts_follow_the_targets() -> None:
    rows = _by_name(figures.figures(results_of_a_run()))
    assert rows["served, run() returns: added by the shim"].verdict == figures.MISSED  # 14.5 > 5
    assert rows["served, run() returns: added by the shim"].target == "<= 5 µs"
    assert rows["server 1w/1c: net ratio wrapped/bare"].verdict == figures.MET  # 0.978 >= 0.97
    assert rows["server 1w/1c: net ratio wrapped/bare"].target == ">= 0.97"
    assert rows["import shim, fresh interpreter"].verdict == figures.MET
    assert rows["drop-in entry, as the server loads it"].verdict == figures.MISSED
    assert rows["logs reader, in process: shim JSON lines"].verdict == figures.MET
    assert rows["model probe before init(), 100,000 files, worst round"].verdict == figures.MET
    assert rows["served, run() raises: added (report only)"].verdict == figures.REPORTED


def test_a_limit_met_exactly_is_met() -> None:
    assert figures.judged("x", 5.0, "µs", 5.0).verdict == figures.MET
    assert figures.judged("x", 0.97, "x", 0.97, at_most=False).verdict == figures.MET
    assert figures.judged("x", 5.01, "µs", 5.0).verdict == figures.MISSED


def test_an_equal_volume_ratio_the_shim_could_not_give_is_not_applicable_not_a_copy_of_the_net_one() -> None:
    rows = _by_name(figures.figures(results_of_a_run()))
    honoured = rows["server 1w/1c: equal-volume ratio, folding off/bare"]
    assert honoured.value == 0.944 and honoured.verdict == figures.REPORTED
    ignored = rows["server 2w/2c: equal-volume ratio, folding off/bare"]
    assert ignored.value is None and ignored.verdict == figures.NOT_APPLICABLE
    assert "SCORE_SHIM_ACCESS_LINES=keep" in ignored.target


def test_a_failed_or_skipped_benchmark_is_a_row_that_says_so() -> None:
    results = results_of_a_run()
    del results["served"]
    results["sections"]["served"] = {"error": "FAILED: ChildFailed: the wrapped child exited with code 3"}
    rows = figures.figures(results)
    not_run = [row for row in rows if row.verdict == figures.NOT_RUN]
    assert [row.name for row in not_run] == [
        "served: FAILED: ChildFailed: the wrapped child exited with code 3",
        "debugger: benchmarks.debugger.compare() does not exist yet",
    ]
    assert not any(row.name.startswith("served, ") for row in rows)


def test_the_debug_port_rows_read_debugger_compare() -> None:
    results = results_of_a_run()
    results["debugger"] = {"no_client_ratio": 1.02, "after_detach_ratio": 2.4, "attach_start_s": 0.61}
    results["sections"] = {}
    rows = _by_name(figures.figures(results))
    assert rows["debug port, no client: run() loop / no port"].verdict == figures.MET
    assert rows["debug port, after attach and detach: / no port"].verdict == figures.REPORTED
    assert rows["debug port: attach to debugpy started"].shown_value() == "0.61 s"


# -- rendering ----------------------------------------------------------------------------------------------


def test_markdown_has_every_row_with_target_and_verdict_and_the_machine() -> None:
    results = results_of_a_run()
    rows = figures.figures(results)
    text = render.markdown(rows, results)
    lines = text.splitlines()
    assert lines[0] == "| figure | value | target | verdict |"
    assert lines[1] == "| --- | ---: | --- | --- |"
    table = [line for line in lines if line.startswith("| ")]
    assert len(table) == 2 + len(rows)
    assert "| served, run() returns: added by the shim | 14.50 µs | <= 5 µs | MISSED |" in lines
    assert "| server 1w/1c: net ratio wrapped/bare | x0.978 | >= 0.97 | met |" in lines
    assert "| score-shim logs, 1.0 GB log from disk | 150,000 lines/s |  | - |" in lines
    footer = lines[-1]
    for fact in ("2026-12-03 16:00 UTC", "AMD EPYC x 2", "CPython 3.11.7", "1.5.1", "gunicorn 27.0.1"):
        assert fact in footer
    assert "structlog 26.1.0" in footer and "`python -c pass` 15.8 ms" in footer
    assert footer.startswith("`python -m benchmarks`, 212 s")


def test_markdown_cells_cannot_break_the_table() -> None:
    rows = [figures.Figure("a | b", 1.0, "ms")]
    assert "| a \\| b | 1.0 ms |  | - |" in render.markdown_table(rows)


def test_the_quick_run_says_so() -> None:
    results = results_of_a_run()
    results["meta"]["quick"] = True
    assert "--quick" in render.footer(results)


def test_text_table_lines_up() -> None:
    rows = figures.figures(results_of_a_run())
    lines = render.text_table(rows).splitlines()
    assert lines[0].startswith("figure") and set(lines[1]) <= {"-", " "}
    assert len(lines) == 2 + len(rows)


# -- the run: exit codes and failures -------------------------------------------------------------------------


def _raise(error: Exception) -> Any:
    raise error


def test_a_failing_section_is_recorded_and_the_others_still_run() -> None:
    ran: list[str] = []

    def third(module: Any) -> dict[str, Any]:
        ran.append(module.__name__)
        return {"value": 1}

    plan = [
        Section("a", "first", "rounds", lambda m: _raise(RuntimeError("the child crashed\nmore"))),
        Section("b", "second", "rounds", lambda m: _raise(Skipped("not written yet"))),
        Section("c", "third", "rounds", third),
    ]
    results: dict[str, Any] = {}
    run_sections(plan, results)
    assert results["sections"]["a"]["error"] == "FAILED: RuntimeError: the child crashed"
    assert "Traceback" in results["sections"]["a"]["traceback"]
    assert results["sections"]["b"] == {"skipped": "not written yet"}
    assert results["c"] == {"value": 1} and ran == ["benchmarks.rounds"]


def test_exit_code_fails_on_a_benchmark_that_did_not_run_and_on_a_miss_only_when_asked() -> None:
    missed = [figures.judged("x", 9.0, "µs", 5.0)]
    met = [figures.judged("x", 1.0, "µs", 5.0)]
    ok: dict[str, Any] = {"sections": {"a": {"seconds": 1.0}, "b": {"skipped": "later"}}}
    broken: dict[str, Any] = {"sections": {"a": {"error": "FAILED: ..."}}}
    assert exit_code(ok, missed, fail_on_miss=False) == 0
    assert exit_code(ok, missed, fail_on_miss=True) == 3
    assert exit_code(ok, met, fail_on_miss=True) == 0
    assert exit_code(broken, met, fail_on_miss=False) == 1


def test_the_quick_run_is_small() -> None:
    # Bounds, not timings: the quick run must stay a smoke run (CI), whatever the full one grows to.
    assert QUICK.log_bytes <= 50_000_000 and QUICK.probe_files <= 10_000
    assert QUICK.served_rounds * QUICK.seconds_per_round * 2 <= 2.0
    names = [section.name for section in sections(quick=True)]
    assert len(names) == len(set(names))
    assert set(names) == set(figures.SECTIONS)
