"""The served path in process: µs per request through the server's own Flask app, bare against wrapped.

What a request served by the shim really pays: the drop-in entry (``score_wrappers/entry.py``) loaded by the
server as its entry script, the shim started (``ensure_started``: its stream, the stdlib bridge, Flask's
``request_finished`` signal and the folding filter connected), ``run()`` wrapped, the summary line written at
``call_on_close``, every log record through the shim's handler. Beside it, the same echo score.py loaded by
the bare server. Each side is the server's app created in its own long-lived process
(`benchmarks.served_child`), both logging to fd 1 on /dev/null, driven by WSGI calls (no sockets, no
gunicorn: its access line is in the throughput figures).

The parent alternates rounds between the two (the order flips every round), sizes a round from a warm-up
(about ``seconds_per_round``), and reports the median of the per-round differences, in the child's CPU time
per request (all of a request's work is on the child's CPU: no sockets, /dev/null) and, in the JSON, the
wall clock too. Failing requests (run() raises: a traceback rendered on both sides) are measured the same
way, reported only.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from shim.cli.serve import ServeOptions, server_environment

from . import rounds as r
from . import targets
from .children import Child, ChildFailed

#: The echo score.py: returns its input; a body starting with '{"fail"' makes it raise, for the failing path.
SCORE_PY = """\
def init():
    pass


def run(raw_data):
    if raw_data.startswith('{"fail"'):
        raise ValueError("benchmark: run() failed on purpose")
    return raw_data
"""

#: Bounds: a child's start-up (import, init()) and one round; a round is sized to far less.
START_TIMEOUT_S = 60.0
ROUND_TIMEOUT_S = 60.0
WARMUP_REQUESTS = 300
LEAST_REQUESTS, MOST_REQUESTS = 50, 20_000
#: Each round is timed on both: the child's CPU time (the figure: a shared machine's other load does not
#: inflate it) and the wall clock (in the JSON, as a check; it includes time spent preempted).
CLOCKS = ("cpu_us", "wall_us")


def _environment(workdir: Path, shim: bool) -> dict[str, str]:
    """What ``azmlinfsrv`` (or ``score-shim serve``) gives a worker, from the same code `serve` uses."""
    options = ServeOptions(
        script=workdir / "score.py",
        model_dir=workdir / "model",
        shim=shim,
        env={"AML_APP_ROOT": str(workdir)},
    )
    env = server_environment(options)
    for name in [name for name in env if name.startswith("SCORE_SHIM_") and name != "SCORE_SHIM_ENTRY_SCRIPT"]:
        del env[name]  # the shim's defaults, whatever the caller's shell has set
    return env


def _judge_start(side: str, ready: dict[str, Any]) -> dict[str, Any]:
    """Fail unless the side answered as expected and wrote the log it should; what its check request wrote."""
    log = ready["log_tail"]
    problems = []
    if ready["statuses"] != {"ok": "200", "fail": "500"}:
        problems.append(f"answered {ready['statuses']} to an ok and a failing request")
    if side == "wrapped":
        if not ready["shim_started"]:
            problems.append("the shim did not start (Flask's request_finished not connected)")
        if '"shim.run.ok"' not in log or '"shim.run.failed"' not in log:
            problems.append("no shim.run.ok / shim.run.failed line was written")
    elif ready["shim_loaded"] or "POST /score 200" not in log:
        problems.append("the bare server loaded the shim or did not log its access line")
    if problems:
        raise ChildFailed(f"the {side} server: {'; '.join(problems)}; its log ends:\n{log[-2000:]}")
    return {"start_s": ready["start_s"], "folded_access_line": side == "wrapped" and "POST /score 200" not in log}


@contextlib.contextmanager
def running_sides(workdir: Path) -> Iterator[dict[str, Child]]:
    """The bare and the wrapped app, each in its own process, checked; both stopped on the way out."""
    (workdir / "score.py").write_text(SCORE_PY, encoding="utf-8")
    (workdir / "model").mkdir()
    (workdir / "model" / "model.bin").write_bytes(b"\0" * 64)
    sides: dict[str, Child] = {}
    try:
        for side in ("bare", "wrapped"):
            check_log = workdir / f"{side}.check.log"
            env = _environment(workdir, shim=side == "wrapped")
            sides[side] = Child(side, "benchmarks.served_child", [str(check_log)], env, workdir, check_log)
        yield sides
    finally:
        for child in sides.values():
            child.stop()


def _alternate(sides: dict[str, Child], kind: str, rounds: int, requests: int) -> dict[str, dict[str, list[float]]]:
    """``rounds`` rounds of ``requests`` requests on each side, the order flipping every round: per clock
    (``cpu_us``, ``wall_us``), each side's µs per request, round by round."""
    found: dict[str, dict[str, list[float]]] = {clock: {name: [] for name in sides} for clock in CLOCKS}
    for index in range(rounds):
        for name in r.rotated(list(sides), index):
            answer = sides[name].ask({"do": kind, "requests": requests}, ROUND_TIMEOUT_S)
            if answer["unexpected"]:
                raise ChildFailed(f"the {name} server answered {answer['unexpected']} {kind} requests wrongly")
            for clock in CLOCKS:
                found[clock][name].append(answer[clock])
    return found


def _calibrated(sides: dict[str, Child], kind: str, seconds_per_round: float) -> int:
    """Requests per round, from a warm-up round on each side (its timings are dropped)."""
    warm = _alternate(sides, kind, 1, WARMUP_REQUESTS)["wall_us"]
    slowest_us = max(values[0] for values in warm.values())
    return r.calibrate(seconds_per_round, slowest_us / 1e6, LEAST_REQUESTS, MOST_REQUESTS)


def _counters(sides: dict[str, Child]) -> dict[str, Any]:
    counters = sides["wrapped"].ask({"do": "counters"}, ROUND_TIMEOUT_S)
    lost = {key: value for key, value in counters.items() if key.endswith(("failures", "errors", "lines")) and value}
    if lost:
        raise ChildFailed(f"the shim's logging failed during the benchmark ({lost}): the figures would be wrong")
    return counters


def measure(rounds: int, seconds_per_round: float, fail_rounds: int) -> dict[str, Any]:
    """µs per request bare and wrapped, and the median of the per-round differences, for ok and failing runs."""
    with tempfile.TemporaryDirectory(prefix="score-shim-served-") as tmp, running_sides(Path(tmp)) as sides:
        started = {name: _judge_start(name, child.read(START_TIMEOUT_S)) for name, child in sides.items()}
        out: dict[str, Any] = {"target_added_us": targets.SERVED_ADDED_US, "sides": started}
        for kind, count in (("ok", rounds), ("fail", fail_rounds)):
            requests = _calibrated(sides, kind, seconds_per_round)
            found = _alternate(sides, kind, count, requests)
            out[kind] = {"requests_per_round": requests}
            for clock, by_side in found.items():
                out[kind][clock] = r.compare(by_side["bare"], by_side["wrapped"])
        out["shim_counters"] = _counters(sides)
        return out
