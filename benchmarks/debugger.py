"""``python -m benchmarks.debugger``: what a debug port costs a pure-Python run() loop, before and after a client.

Once ``debugpy.listen()`` has run, pydevd's tracing stays installed, and pure-Python code on Python 3.11 runs
several times slower even when nobody is attached. So the shim holds the port itself and starts debugpy only
when a client connects (`shim.runtime.debug_relay`). This measures what that leaves, in three long-lived
child processes (`benchmarks.debugger_child`; fresh interpreters, because a started debugpy cannot be
unloaded), each starting the shim as a worker does:

- ``no_port``: no debug port (the default);
- ``no_client``: ``SCORE_SHIM_DEBUG_PORT`` set, ``debugger.start()`` run, no client ever connected;
- ``after_detach``: the same, after a real DAP client connected, attached (initialize, attach,
  configurationDone, as VS Code does) and disconnected: debugpy runs behind the port from then on.

The parent tells each child in turn to run one round of the loop, the order rotating each round
(`benchmarks.rounds`), and reports the median of the per-round ratios to ``no_port``: a burst of load on a
shared machine moves one round, which the median shrugs off. A round is timed twice: by the CPU time of the
thread that runs the loop (what tracing costs it, blind to the waits for a core on a loaded machine: the
judged figure) and by the wall clock (reported beside it). Target: ``no_client`` within 5 % of ``no_port``
(`benchmarks.targets.DEBUG_NO_CLIENT_RATIO`); ``after_detach`` is reported. Before timing, each side's state
is checked (debugpy loaded or not, a tracer installed or not), so that a side that is not what it claims
fails the benchmark instead of flattering it.

Prints a table with the target and the verdict and writes ``benchmarks/results/debugger-<python>.json``.
The exit code is 0 whenever the benchmark ran, as for ``python -m benchmarks``: timings on a shared machine
are too noisy to fail a build on. Every child, socket and wait is bounded in time.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import rounds as arithmetic
from . import targets
from .children import Child, ChildFailed

RESULTS = Path(__file__).resolve().parent / "results" / f"debugger-{sys.version_info[0]}.{sys.version_info[1]}.json"

SIDES = ("no_port", "no_client", "after_detach")
LABELS = {
    "no_port": "no debug port",
    "no_client": "port configured, no client",
    "after_detach": "after a client attached and detached",
}
#: (rounds, calls per round): a full run takes about half a minute; --quick proves the benchmark still runs.
FULL = (21, 2000)
QUICK = (3, 200)
START_TIMEOUT_S = 60.0
ROUND_TIMEOUT_S = 120.0
DAP_TIMEOUT_S = 30.0
#: What each side must be before it is timed: (debugpy loaded, a tracer installed, debugpy started behind the port).
EXPECTED_STATE = {
    "no_port": (False, False, False),
    "no_client": (False, False, False),
    "after_detach": (True, True, True),
}


def compare(quick: bool) -> dict[str, Any]:
    """The three sides in alternating rounds; the ratios to ``no_port``, what starting debugpy took, every round.

    ``no_client_ratio`` and ``after_detach_ratio`` are by CPU time; ``wall`` has the same by the wall clock.
    """
    count, calls = QUICK if quick else FULL
    with tempfile.TemporaryDirectory(prefix="score-shim-debugger-") as tmp, _sides(Path(tmp)) as sides:
        client_initialize_s = _attach_and_detach(sides["after_detach"])
        states = {name: _checked_state(side) for name, side in sides.items()}
        for side in sides.values():  # one warm-up round each, not kept
            side.child.ask({"do": "round", "calls": calls}, ROUND_TIMEOUT_S)
        cpu: dict[str, list[float]] = {name: [] for name in SIDES}
        wall: dict[str, list[float]] = {name: [] for name in SIDES}
        for index in range(count):
            for name in arithmetic.rotated(SIDES, index):
                answer = sides[name].child.ask({"do": "round", "calls": calls}, ROUND_TIMEOUT_S)
                cpu[name].append(float(answer["cpu_us_per_call"]))
                wall[name].append(float(answer["wall_us_per_call"]))
        _checked_state(sides["no_client"])  # still nothing of debugpy after all the rounds
        started = _event(sides["after_detach"], "shim.debugger.started")
    by_cpu, by_wall = _ratios(cpu), _ratios(wall)
    return {
        "python": platform.python_version(),
        "calls": calls,
        "no_client_ratio": by_cpu["no_client_ratio"],
        "after_detach_ratio": by_cpu["after_detach_ratio"],
        "attach_start_s": round(float(states["after_detach"]["attach_start_s"]), 3),
        "debugpy_start_s": started.get("took_s"),
        "client_initialize_s": round(client_initialize_s, 3),
        "us_per_call": {name: round(statistics.median(values), 3) for name, values in cpu.items()},
        "wall": {**by_wall, "us_per_call": {name: round(statistics.median(v), 3) for name, v in wall.items()}},
        "target_no_client_ratio": targets.DEBUG_NO_CLIENT_RATIO,
        "met": by_cpu["no_client_ratio"] <= targets.DEBUG_NO_CLIENT_RATIO,
        "states": states,
        "rounds": {
            "count": count,
            **{f"{name}_cpu_us": [round(value, 3) for value in values] for name, values in cpu.items()},
            **{f"{name}_wall_us": [round(value, 3) for value in values] for name, values in wall.items()},
            "no_client_ratio": arithmetic.spread(arithmetic.ratios(cpu["no_client"], cpu["no_port"]), 4),
            "after_detach_ratio": arithmetic.spread(arithmetic.ratios(cpu["after_detach"], cpu["no_port"]), 4),
            "wall_no_client_ratio": arithmetic.spread(arithmetic.ratios(wall["no_client"], wall["no_port"]), 4),
        },
    }


def _ratios(per_round: dict[str, list[float]]) -> dict[str, float]:
    """The median of the per-round ratios of each side with a port to ``no_port``."""
    return {
        f"{name}_ratio": round(statistics.median(arithmetic.ratios(per_round[name], per_round["no_port"])), 4)
        for name in ("no_client", "after_detach")
    }


# -- the children ---------------------------------------------------------------------------------


@dataclass
class _Side:
    """One child, the file its shim logs to, and its debug port (None: no port)."""

    name: str
    child: Child
    log_path: Path
    debug_port: int | None


@contextlib.contextmanager
def _sides(workdir: Path) -> Iterator[dict[str, _Side]]:
    """The three children, started and ready; always stopped (and reaped) on the way out."""
    base = {key: value for key, value in os.environ.items() if not key.startswith("SCORE_SHIM_")}
    base.update(SCORE_SHIM_LOG_FORMAT="json", TMPDIR=str(workdir), PYTHONDONTWRITEBYTECODE="1")
    sides: dict[str, _Side] = {}
    try:
        for name in SIDES:
            env = dict(base)
            port = None if name == "no_port" else _free_port()
            if port is not None:
                env["SCORE_SHIM_DEBUG_PORT"] = str(port)
            log_path = workdir / f"{name}.log"
            child = Child(name, "benchmarks.debugger_child", [str(log_path)], env, workdir)
            sides[name] = _Side(name, child, log_path, port)
        for side in sides.values():
            side.child.read(START_TIMEOUT_S)  # {"ready": true, ...}
            if side.debug_port is not None:
                _event(side, "shim.debugger.listening")
        yield sides
    finally:
        for side in sides.values():
            side.child.stop()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _checked_state(side: _Side) -> dict[str, Any]:
    """The side's state, which must be what its name says (else the benchmark fails: it would mislead)."""
    state = side.child.ask({"do": "state"}, START_TIMEOUT_S)
    found = (state["debugpy_loaded"], state["traced"], state["relay_started"])
    if found != EXPECTED_STATE[side.name]:
        raise side.child.failed(
            f"is not what the {side.name!r} side must be: (debugpy loaded, traced, started behind the port) = "
            f"{found}, expected {EXPECTED_STATE[side.name]}; its log ends:\n{_log_text(side)[-3000:]}"
        )
    return state


def _log_text(side: _Side) -> str:
    try:
        return side.log_path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "<none>"


def _event(side: _Side, event: str, timeout_s: float = DAP_TIMEOUT_S) -> dict[str, Any]:
    """The first ``event`` line in the side's log, waiting for it (bounded)."""
    deadline = time.monotonic() + timeout_s
    while True:
        for line in _log_text(side).splitlines():
            with contextlib.suppress(ValueError):
                found = json.loads(line)
                if isinstance(found, dict) and found.get("event") == event:
                    return found
        if time.monotonic() > deadline:
            raise side.child.failed(
                f"logged no {event} within {timeout_s:.0f} s; its log ends:\n{_log_text(side)[-3000:]}"
            )
        time.sleep(0.05)


# -- a real client: what VS Code does to attach, then detach ----------------------------------------


def _attach_and_detach(side: _Side) -> float:
    """initialize, attach, configurationDone, disconnect through the side's port; seconds until the adapter
    answered initialize (the client's view of debugpy starting behind the port)."""
    port = side.debug_port
    assert port is not None
    deadline = time.monotonic() + DAP_TIMEOUT_S
    connected = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=DAP_TIMEOUT_S) as sock:
        dap = _Dap(sock, deadline)
        initialize = dap.send(
            "initialize",
            {"clientID": "score-shim-benchmark", "adapterID": "debugpy", "pathFormat": "path", "linesStartAt1": True},
        )
        dap.response(initialize)
        initialize_s = time.monotonic() - connected
        attach = dap.send("attach", {"justMyCode": True})
        dap.wait(lambda m: m.get("type") == "event" and m.get("event") == "initialized", "the initialized event")
        dap.response(dap.send("configurationDone"))
        dap.response(attach)
        dap.response(dap.send("disconnect", {"terminateDebuggee": False, "restart": False}))
    _event(side, "shim.debugger.detached")
    return initialize_s


class _Dap:
    """The least of a DAP client: ``Content-Length`` framed JSON over TCP, every read bounded by ``deadline``."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self._sock = sock
        self._deadline = deadline
        self._buffer = b""
        self._seq = 0
        self._seen: list[dict[str, Any]] = []

    def send(self, command: str, arguments: dict[str, Any] | None = None) -> int:
        self._seq += 1
        message: dict[str, Any] = {"seq": self._seq, "type": "request", "command": command}
        if arguments is not None:
            message["arguments"] = arguments
        body = json.dumps(message).encode()
        self._sock.sendall(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        return self._seq

    def response(self, seq: int) -> dict[str, Any]:
        found = self.wait(lambda m: m.get("type") == "response" and m.get("request_seq") == seq, f"response {seq}")
        if not found.get("success"):
            raise RuntimeError(f"the adapter refused {found.get('command')}: {found.get('message')}")
        return found

    def wait(self, matches: Callable[[dict[str, Any]], bool], what: str) -> dict[str, Any]:
        for message in self._seen:
            if matches(message):
                return message
        while True:
            message = self._next(what)
            self._seen.append(message)
            if matches(message):
                return message

    def _next(self, what: str) -> dict[str, Any]:
        while b"\r\n\r\n" not in self._buffer:
            self._fill(what)
        header, _, rest = self._buffer.partition(b"\r\n\r\n")
        length = next(
            int(line.split(b":", 1)[1]) for line in header.split(b"\r\n") if line.lower().startswith(b"content-length:")
        )
        self._buffer = rest
        while len(self._buffer) < length:
            self._fill(what)
        body, self._buffer = self._buffer[:length], self._buffer[length:]
        message: dict[str, Any] = json.loads(body)
        return message

    def _fill(self, what: str) -> None:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"waiting for {what}: no answer from the debug port in time")
        self._sock.settimeout(remaining)
        chunk = self._sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"waiting for {what}: the debug port closed the connection")
        self._buffer += chunk


# -- the table ------------------------------------------------------------------------------------


def render(found: dict[str, Any]) -> str:
    """The table: each side's µs per call and ratio to no port, by CPU time and by the wall clock."""
    count, target = found["rounds"]["count"], found["target_no_client_ratio"]
    cpu, wall = found["us_per_call"], found["wall"]["us_per_call"]
    verdict = "met" if found["met"] else "MISSED"
    rows = [
        ("no_port", 1.0, 1.0, ""),
        ("no_client", found["no_client_ratio"], found["wall"]["no_client_ratio"], f"<= {target:.2f}: {verdict}"),
        ("after_detach", found["after_detach_ratio"], found["wall"]["after_detach_ratio"], "report only"),
    ]
    lines = [
        f"debug port: a pure-Python run() loop, Python {found['python']}, {count} alternating rounds x "
        f"{found['calls']} calls; median of per-round ratios to no port (CPU time of the loop's thread; wall clock)",
        f"  {'side':<38} {'cpu µs':>8} {'ratio':>7} {'wall µs':>8} {'ratio':>7}   target (cpu ratio)",
    ]
    for name, cpu_ratio, wall_ratio, judged in rows:
        row = f"  {LABELS[name]:<38} {cpu[name]:>8.2f} {cpu_ratio:>7.3f} {wall[name]:>8.2f} {wall_ratio:>7.3f}"
        lines.append(f"{row}   {judged}".rstrip())
    spread = found["rounds"]["no_client_ratio"]
    lines += [
        f"  no client, cpu ratio over the rounds: {spread['min']} .. {spread['max']} (q1 {spread['q1']}, "
        f"q3 {spread['q3']})",
        f"  debugpy started on the first attach in {found['attach_start_s']:.3f} s (connection -> ready; "
        f"debugpy itself {found['debugpy_start_s']} s); the client had its initialize answer after "
        f"{found['client_initialize_s']:.3f} s",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.debugger", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a few short rounds: proves the benchmark runs")
    args = parser.parse_args(argv)
    try:
        found = compare(args.quick)
    except (ChildFailed, OSError, RuntimeError) as error:
        print(f"the debugger benchmark did not run: {error}", file=sys.stderr)
        return 1
    print(render(found))
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(found, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
