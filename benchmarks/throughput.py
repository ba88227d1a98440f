"""End-to-end requests/s through the real server (azmlinfsrv's gunicorn app), with and without the shim.

Both servers run at once on 127.0.0.1 with the same echo score.py, and rounds alternate between them, so
that whatever else the machine does hits both alike; the median of the per-round ratios is reported.
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
from typing import Any

from shim._serve import LOOPBACK, ServeOptions, start, stop, wait_until_healthy

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


def _round(pool: ThreadPoolExecutor, server: Server, requests: int, threads: int) -> float:
    """Requests/s for one round: ``requests`` split over ``threads`` sequential clients."""
    deadline = time.monotonic() + ROUND_TIMEOUT_S
    share = requests // threads
    start_ns = time.perf_counter_ns()
    futures = [pool.submit(_post, server.port, share, deadline) for _ in range(threads)]
    for future in futures:
        future.result()
    elapsed_s = (time.perf_counter_ns() - start_ns) / 1e9
    return share * threads / elapsed_s


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
    logs = []
    try:
        for name, shim in (("wrapped", True), ("bare", False)):
            port = _free_port()
            log_path = workdir / f"{name}-w{workers}.stdout.log"
            log = log_path.open("wb")
            logs.append(log)
            options = ServeOptions(
                script=script, port=port, workers=workers, shim=shim, env={"AML_APP_ROOT": str(workdir)}
            )
            process = start(options, stdout=log, stderr=subprocess.STDOUT, cwd=workdir)
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


def measure(workers: int = 1, threads: int = 1, rounds: int = 7, requests: int = 300) -> dict[str, Any]:
    """Requests/s of the wrapped and the bare server, and the median per-round ratio wrapped/bare."""
    rps: dict[str, list[float]] = {"wrapped": [], "bare": []}
    with tempfile.TemporaryDirectory(prefix="score-shim-bench-") as tmp:
        workdir = Path(tmp)
        with running_servers(workdir, workers) as (wrapped, bare), ThreadPoolExecutor(max_workers=threads) as pool:
            for server in (wrapped, bare):
                _round(pool, server, WARMUP_REQUESTS, threads)
            for index in range(rounds):
                order = (wrapped, bare) if index % 2 == 0 else (bare, wrapped)
                for server in order:
                    rps[server.name].append(_round(pool, server, requests, threads))
            servers = (wrapped, bare)
        # Read after the servers stopped: every line is flushed by then.
        log_stats = {server.name: _log_stats(server.log_path) for server in servers}
    ratios = [w / b for w, b in zip(rps["wrapped"], rps["bare"], strict=True)]
    return {
        "workers": workers,
        "client_threads": threads,
        "rounds": rounds,
        "requests_per_round": requests // threads * threads,
        "wrapped_rps": round(statistics.median(rps["wrapped"]), 1),
        "bare_rps": round(statistics.median(rps["bare"]), 1),
        "ratio": round(statistics.median(ratios), 4),
        "wrapped_rps_per_round": [round(value, 1) for value in rps["wrapped"]],
        "bare_rps_per_round": [round(value, 1) for value in rps["bare"]],
        "ratio_per_round": [round(value, 4) for value in ratios],
        "server_stdout": log_stats,
    }
