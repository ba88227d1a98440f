"""``python -m benchmarks.debugger``: what an open debug port costs a run() loop, with no client attached.

Why the shim imports debugpy only when ``SCORE_SHIM_DEBUG_PORT`` is set: once ``debugpy.listen()`` has run,
pydevd's tracing stays installed, and on some Python versions (3.11 measured here) pure-Python code runs
several times slower even when nobody is attached. Each variant runs in a fresh interpreter, so one does not
leak into the next:

- ``no debugpy``: the shim's default, nothing of debugpy loaded;
- ``debugpy imported``: the module loaded, no port (what a careless import would cost);
- ``listening``: ``debugpy.listen`` on a free loopback port, no client.

Prints a table and writes ``benchmarks/results/debugger-<python version>.json``. Timings on a shared machine
are noisy: the figure of interest is the ratio, and the exit code is 0 whenever the benchmark ran.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results" / f"debugger-{sys.version_info[0]}.{sys.version_info[1]}.json"

_CHILD = r"""
import json, os, socket, sys, time
os.environ["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
mode, calls, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
listen_s = None
if mode != "none":
    import debugpy
if mode == "listen":
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]
    started = time.perf_counter()
    debugpy.listen(("127.0.0.1", port))
    listen_s = time.perf_counter() - started

def scale(value):
    return value * 0.5

def run(raw_data):                      # a typical pure-Python run(): parse, loop, call helpers, build a dict
    data = json.loads(raw_data)
    total = 0.0
    for row in data["data"]:
        for value in row:
            total += scale(value)
    return {"total": total, "rows": len(data["data"])}

body = json.dumps({"data": [[float(i + j) for j in range(8)] for i in range(16)]})
times = []
for _ in range(rounds):
    started = time.perf_counter()
    for _ in range(calls):
        run(body)
    times.append((time.perf_counter() - started) / calls * 1e6)
print(json.dumps({"us_per_call": sorted(times)[len(times) // 2], "rounds": times, "listen_s": listen_s}))
"""

MODES = {"none": "no debugpy", "import": "debugpy imported", "listen": "listening, no client"}


def measure(mode: str, calls: int, rounds: int) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-c", _CHILD, mode, str(calls), str(rounds)],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.debugger", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a few calls only: proves the benchmark runs")
    args = parser.parse_args(argv)
    calls, rounds = (200, 3) if args.quick else (3000, 7)
    results = {mode: measure(mode, calls, rounds) for mode in MODES}
    base = results["none"]["us_per_call"]
    print(f"run() loop, median of {rounds} rounds x {calls} calls, Python {platform.python_version()}")
    for mode, label in MODES.items():
        value = results[mode]["us_per_call"]
        print(f"  {label:<22} {value:9.2f} us/call   x{value / base:5.2f}")
    print(f"  debugpy.listen() itself: {results['listen']['listen_s']:.3f} s (spawns the adapter process)")
    payload = {"python": platform.python_version(), "calls": calls, "results": results}
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(payload, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
