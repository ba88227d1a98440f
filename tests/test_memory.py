"""Memory: the container's limit is read the way a worker sees it, and the shim warns before the OOM kill.

The limit comes from a real cgroup: the test creates one (the machine's cgroup v1 memory controller, as
root), moves the served worker into it, and waits for the warning.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from shim.runtime import memory as _memory
from tests._server import running_server

pytestmark = pytest.mark.server

CGROUP_V1 = Path("/sys/fs/cgroup/memory")
LIMIT = 1 << 30  # 1 GiB: far above what the worker uses, so nothing is ever killed


@pytest.fixture
def memory_cgroup() -> Iterator[Path]:
    folder = CGROUP_V1 / f"score-shim-test-{os.getpid()}"
    try:
        folder.mkdir(exist_ok=True)
        (folder / "memory.limit_in_bytes").write_text(str(LIMIT))
    except OSError as error:
        pytest.fail(f"cannot create a memory cgroup at {folder} (the test needs root and cgroup v1): {error}")
    yield folder
    deadline = time.monotonic() + 10
    while True:
        try:
            folder.rmdir()
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_snapshot_outside_a_limit() -> None:
    snapshot = _memory.snapshot()
    assert snapshot["rss_bytes"] and snapshot["rss_bytes"] > 1_000_000
    assert snapshot["peak_rss_bytes"] and snapshot["peak_rss_bytes"] >= snapshot["rss_bytes"] // 2


def test_high_memory_is_warned_with_the_limit_the_worker_is_under(
    memory_cgroup: Path, scripts: Path, log_dir: Path
) -> None:
    env = {"SCORE_SHIM_MEMORY_WARN_PERCENT": "2"}
    with running_server(scripts / "plain.py", log_dir, env=env) as server:
        worker = server.wait_for_event("shim.init.ok")["pid"]
        (memory_cgroup / "cgroup.procs").write_text(str(worker))
        with server.client() as client:
            assert client.post("/score", content=b"{}").status_code == 200  # starts the worker's watchdog
        event = server.wait_for_event("shim.memory.high", timeout=15)
    assert event["pid"] == worker
    assert event["limit_bytes"] == LIMIT
    assert event["rss_bytes"] >= 0.02 * LIMIT and event["percent"] >= 2
    assert "SIGKILL" in event["diagnosis"]
