"""End-to-end requests/s through the real server (azmlinfsrv's gunicorn app on 127.0.0.1), three ways at once.

- ``bare``: the echo score.py as the server's entry script;
- ``wrapped``: the same script through the shim's drop-in entry, as shipped (the server's two access lines
  per successful request folded into the shim's one ``shim.run.ok``);
- ``wrapped_keep``: the same with ``SCORE_SHIM_ACCESS_LINES=keep``, folding off: the server's lines are
  written as well as the shim's, so this server writes at least what the bare one writes.

Two ratios against ``bare`` come out: the **net** ratio (``wrapped``: what a user sees, the saving of the
folded lines included) and the **equal-volume** ratio (``wrapped_keep``: the shim's own cost, with no credit
for writing less). Whether the keep setting was honoured is checked from the servers' logs (line counts), not
assumed: a shim that ignores it would make the equal-volume figure a copy of the net one.

All three servers run at once and the client switches between them every ``batch`` requests, the order
rotating each batch, so that whatever else the machine does hits all alike; the median of the per-round
ratios is reported. (Alternating whole rounds of 300 requests was not enough on a shared 2-CPU machine:
per-round ratios ranged from 0.45 to 1.4.) The servers log to files, as a container's stdout would be
collected. The server answers ``Connection: close``, so every request opens a TCP connection, as a client
without keep-alive behind Azure ML's proxy would.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from shim.cli.serve import LOOPBACK, ServeOptions, start, stop, wait_until_healthy

from . import rounds as r
from . import targets
from .children import tail

SCORE_PY = """\
import json


def init():
    pass


def run(raw_data):
    return json.loads(raw_data)
"""

BODY = b'{"data": [[1.0, 2.0, 3.0, 4.0]]}'
HEADERS = {"Content-Type": "application/json"}

#: The servers compared: name, whether the shim wraps the script, and its extra environment.
VARIANTS: tuple[tuple[str, bool, dict[str, str]], ...] = (
    ("bare", False, {}),
    ("wrapped", True, {}),
    ("wrapped_keep", True, {"SCORE_SHIM_ACCESS_LINES": "keep"}),
)

#: Bounds on every wait, so that a stuck server fails the benchmark instead of hanging CI.
HEALTH_TIMEOUT_S = 60.0
ROUND_TIMEOUT_S = 60.0
REQUEST_TIMEOUT_S = 10.0
WARMUP_REQUESTS = 60
STOP_GRACE_S = 10.0


@dataclass
class Server:
    """One running server and the file its stdout (its log stream) goes to."""

    name: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        port: int = probe.getsockname()[1]
        return port


def _post(port: int, count: int, deadline: float) -> None:
    """``count`` sequential POSTs to /score; raises on a non-200 answer or when the deadline passes."""
    connection = http.client.HTTPConnection(LOOPBACK, port, timeout=REQUEST_TIMEOUT_S)
    try:
        for _ in range(count):
            if time.monotonic() > deadline:
                raise TimeoutError(f"round on port {port} took longer than {ROUND_TIMEOUT_S:.0f} s")
            connection.request("POST", "/score", body=BODY, headers=HEADERS)
            response = connection.getresponse()
            payload = response.read()
            if response.status != 200:
                raise RuntimeError(f"POST /score on port {port} answered {response.status}: {payload[:200]!r}")
    finally:
        connection.close()


def _batch(pool: ThreadPoolExecutor, server: Server, count: int, threads: int, deadline: float) -> float:
    """Seconds for ``count`` requests split over ``threads`` sequential clients (one in flight each)."""
    share = count // threads
    start_ns = time.perf_counter_ns()
    futures = [pool.submit(_post, server.port, share, deadline) for _ in range(threads)]
    for future in futures:
        future.result()
    return (time.perf_counter_ns() - start_ns) / 1e9


def _round(
    pool: ThreadPoolExecutor, servers: Sequence[Server], requests: int, threads: int, batch: int
) -> dict[str, float]:
    """Requests/s of each server over one round of ``requests`` requests each.

    Within the round the servers take turns every ``batch`` requests, the first to go rotating, so that a
    burst of other load on the machine, which lasts longer than a batch, hits all alike.
    """
    deadline = time.monotonic() + ROUND_TIMEOUT_S
    elapsed = dict.fromkeys((server.name for server in servers), 0.0)
    for index in range(max(1, requests // batch)):
        for server in r.rotated(servers, index):
            elapsed[server.name] += _batch(pool, server, batch, threads, deadline)
    done = served_per_round(requests, batch, threads)
    return {name: done / seconds for name, seconds in elapsed.items()}


def served_per_round(requests: int, batch: int, threads: int) -> int:
    """Requests each server really gets in a round: whole batches, each split evenly over the threads."""
    return max(1, requests // batch) * (batch // threads * threads)


@contextlib.contextmanager
def running_servers(workdir: Path, workers: int) -> Iterator[list[Server]]:
    """The servers of `VARIANTS`, healthy; all stopped on the way out, whatever happened."""
    script = workdir / "score.py"
    script.write_text(SCORE_PY, encoding="utf-8")
    servers: list[Server] = []
    logs: list[BinaryIO] = []
    try:
        for name, shim, extra in VARIANTS:
            port = _free_port()
            log_path = workdir / f"{name}-w{workers}.stdout.log"
            logs.append(log_path.open("wb"))
            env = {"AML_APP_ROOT": str(workdir), **extra}
            options = ServeOptions(script=script, port=port, workers=workers, shim=shim, env=env)
            process = start(options, die_with_parent=True, stdout=logs[-1], stderr=subprocess.STDOUT, cwd=workdir)
            servers.append(Server(name, port, process, log_path))
        for server in servers:
            if not wait_until_healthy(server.process, server.port, HEALTH_TIMEOUT_S):
                raise RuntimeError(
                    f"the {server.name} server did not become healthy "
                    f"(exit code {server.process.poll()}):\n{tail(server.log_path)}"
                )
        yield servers
    finally:
        for server in servers:
            stop(server.process, grace=STOP_GRACE_S)
        for log in logs:
            log.close()


def _log_lines(path: Path) -> int:
    with path.open("rb") as log:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: log.read(1 << 20), b""))


def volume(lines: dict[str, int], requests: int) -> dict[str, Any]:
    """Log lines per request of each server, and whether the keep server wrote at least the bare one's
    volume (keep honoured; 90 % leaves room for the start-up lines, folding halves it)."""
    per_request = {name: round(count / requests, 3) for name, count in lines.items()}
    return {
        "lines": lines,
        "lines_per_request": per_request,
        "keep_honoured": lines["wrapped_keep"] >= 0.9 * lines["bare"],
    }


def measure(workers: int, threads: int, rounds: int = 7, requests: int = 300, batch: int = 20) -> dict[str, Any]:
    """Requests/s of the three servers, and the median per-round ratios net and equal-volume."""
    rps: dict[str, list[float]] = {name: [] for name, _, _ in VARIANTS}
    warmup_batch = WARMUP_REQUESTS // 3
    with tempfile.TemporaryDirectory(prefix="score-shim-bench-") as tmp:
        with running_servers(Path(tmp), workers) as servers, ThreadPoolExecutor(max_workers=threads) as pool:
            _round(pool, servers, WARMUP_REQUESTS, threads, warmup_batch)
            for index in range(rounds):
                for name, value in _round(pool, r.rotated(servers, index), requests, threads, batch).items():
                    rps[name].append(value)
        # Read after the servers stopped: every line is flushed by then.
        lines = {server.name: _log_lines(server.log_path) for server in servers}
    per_round = served_per_round(requests, batch, threads)
    served = served_per_round(WARMUP_REQUESTS, warmup_batch, threads) + rounds * per_round
    net, equal = r.compare(rps["bare"], rps["wrapped"], 1), r.compare(rps["bare"], rps["wrapped_keep"], 1)
    return {
        "workers": workers,
        "client_threads": threads,
        "rounds": rounds,
        "requests_per_round": per_round,
        "batch": batch,
        "rps": {name: round(r.spread(values)["median"], 1) for name, values in rps.items()},
        "net_ratio": net["ratio"],
        "equal_volume_ratio": equal["ratio"],
        "net": net,
        "equal_volume": equal,
        "log": volume(lines, served),
        "target_net_ratio": targets.THROUGHPUT_NET_RATIO,
    }
