"""End-to-end requests/s through the real server (azmlinfsrv's gunicorn app), with and without the shim.

Both servers run at once on 127.0.0.1 with the same echo score.py, and the client switches between them
every few requests, so that whatever else the machine does hits both alike; the median of the per-round
ratios is reported. (Alternating whole rounds of 300 requests was not enough on a shared 2-CPU machine:
per-round ratios ranged from 0.45 to 1.4.)

The servers log to files as they would in a container (never silenced): writing the log line is part of
what the shim costs. The server answers ``Connection: close``, so every request opens a TCP connection,
as a client without keep-alive behind Azure ML's proxy would.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from shim.cli.serve import LOOPBACK, ServeOptions, start, stop, wait_until_healthy

SCORE_PY = """\
import json


def init():
    pass


def run(raw_data):
    return json.loads(raw_data)
"""

BODY = b'{"data": [[1.0, 2.0, 3.0, 4.0]]}'
HEADERS = {"Content-Type": "application/json"}

#: Bounds on every wait, so that a stuck server fails the benchmark instead of hanging CI.
HEALTH_TIMEOUT_S = 60.0
ROUND_TIMEOUT_S = 60.0
REQUEST_TIMEOUT_S = 10.0
WARMUP_REQUESTS = 50
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
    pool: ThreadPoolExecutor, servers: tuple[Server, Server], requests: int, threads: int, batch: int
) -> dict[str, float]:
    """Requests/s of each server over one round of ``requests`` requests each.

    Within the round the two servers take turns every ``batch`` requests (the first to go alternates),
    so that a burst of other load on the machine, which lasts longer than a batch, hits both alike.
    """
    deadline = time.monotonic() + ROUND_TIMEOUT_S
    elapsed = dict.fromkeys((server.name for server in servers), 0.0)
    batches = max(1, requests // batch)
    for index in range(batches):
        for server in servers if index % 2 == 0 else servers[::-1]:
            elapsed[server.name] += _batch(pool, server, batch, threads, deadline)
    done = batches * (batch // threads * threads)
    return {name: done / seconds for name, seconds in elapsed.items()}


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "<no log>"


@contextlib.contextmanager
def running_servers(workdir: Path, workers: int) -> Iterator[tuple[Server, Server]]:
    """The wrapped and the bare server, healthy; both stopped on the way out, whatever happened."""
    script = workdir / "score.py"
    script.write_text(SCORE_PY, encoding="utf-8")
    servers: list[Server] = []
    logs: list[BinaryIO] = []
    try:
        for name, shim in (("wrapped", True), ("bare", False)):
            port = _free_port()
            log_path = workdir / f"{name}-w{workers}.stdout.log"
            logs.append(log_path.open("wb"))
            options = ServeOptions(
                script=script, port=port, workers=workers, shim=shim, env={"AML_APP_ROOT": str(workdir)}
            )
            process = start(options, stdout=logs[-1], stderr=subprocess.STDOUT, cwd=workdir)
            servers.append(Server(name, port, process, log_path))
        for server in servers:
            if not wait_until_healthy(server.process, server.port, HEALTH_TIMEOUT_S):
                raise RuntimeError(
                    f"the {server.name} server did not become healthy "
                    f"(exit code {server.process.poll()}):\n{_tail(server.log_path)}"
                )
        yield servers[0], servers[1]
    finally:
        for server in servers:
            stop(server.process, grace=STOP_GRACE_S)
        for log in logs:
            log.close()


def _log_stats(path: Path) -> dict[str, int]:
    data = path.read_bytes()
    return {"lines": data.count(b"\n"), "bytes": len(data)}


def measure(
    workers: int = 1, threads: int = 1, rounds: int = 7, requests: int = 300, batch: int = 20
) -> dict[str, Any]:
    """Requests/s of the wrapped and the bare server, and the median per-round ratio wrapped/bare."""
    rps: dict[str, list[float]] = {"wrapped": [], "bare": []}
    with tempfile.TemporaryDirectory(prefix="score-shim-bench-") as tmp:
        workdir = Path(tmp)
        with running_servers(workdir, workers) as (wrapped, bare), ThreadPoolExecutor(max_workers=threads) as pool:
            servers = (wrapped, bare)
            _round(pool, servers, WARMUP_REQUESTS, threads, WARMUP_REQUESTS)
            for index in range(rounds):
                result = _round(pool, servers if index % 2 == 0 else servers[::-1], requests, threads, batch)
                for name, value in result.items():
                    rps[name].append(value)
        # Read after the servers stopped: every line is flushed by then.
        log_stats = {server.name: _log_stats(server.log_path) for server in servers}
    ratios = [w / b for w, b in zip(rps["wrapped"], rps["bare"], strict=True)]
    return {
        "workers": workers,
        "client_threads": threads,
        "rounds": rounds,
        "requests_per_round": max(1, requests // batch) * (batch // threads * threads),
        "batch": batch,
        "wrapped_rps": round(statistics.median(rps["wrapped"]), 1),
        "bare_rps": round(statistics.median(rps["bare"]), 1),
        "ratio": round(statistics.median(ratios), 4),
        "wrapped_rps_per_round": [round(value, 1) for value in rps["wrapped"]],
        "bare_rps_per_round": [round(value, 1) for value in rps["bare"]],
        "ratio_per_round": [round(value, 4) for value in ratios],
        "server_stdout": log_stats,
    }
