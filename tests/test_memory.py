"""Memory: the container's limit is read the way a worker sees it, and the shim warns before the OOM kill.

Two groups. The limit files are found and read from real folders laid out as cgroup v1 and v2 trees (the
common case today is v2's ``memory.max``), which runs anywhere. The served worker's warning needs a real
cgroup with a limit: the test creates one (root, and the memory controller of v1, or of v2 where it is
enabled for child groups), moves the worker into it, and waits for the warning; it is marked ``cgroup``,
skipped where the machine cannot host it, and required in CI (``CI`` set), where it must run.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from shim.runtime import memory as _memory
from tests._server import running_server

CGROUP_ROOT = Path("/sys/fs/cgroup")
LIMIT = 1 << 30  # 1 GiB: far above what the worker uses, so nothing is ever killed
GIB = 1 << 30


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n")
    return root


def test_cgroup_v2_limit_is_the_smallest_memory_max_on_the_way_up(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "memory.max": "max",
            "kubepods.slice/memory.max": str(4 * GIB),
            "kubepods.slice/pod-1.slice/cri-2.scope/memory.max": str(GIB),
        },
    )
    files = _memory.limit_files("0::/kubepods.slice/pod-1.slice/cri-2.scope\n", root)
    assert files[0] == root / "kubepods.slice/pod-1.slice/cri-2.scope/memory.max"
    assert files[-1] == root / "memory.max"
    assert _memory.smallest_limit(files) == GIB


def test_cgroup_v2_inside_a_container_reads_the_root_and_max_means_none(tmp_path: Path) -> None:
    # A container with its own cgroup namespace sees itself at "/": its limit is the root's memory.max.
    root = _tree(tmp_path, {"memory.max": str(2 * GIB)})
    assert _memory.smallest_limit(_memory.limit_files("0::/\n", root)) == 2 * GIB
    (root / "memory.max").write_text("max\n")
    assert _memory.smallest_limit(_memory.limit_files("0::/\n", root)) is None


def test_cgroup_v1_and_hybrid_machines(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "memory/memory.limit_in_bytes": str(9223372036854771712),  # v1's "no limit"
            "memory/docker/abc/memory.limit_in_bytes": str(3 * GIB),
        },
    )
    hybrid = "12:memory:/docker/abc\n11:cpu,cpuacct:/docker/abc\n0::/docker/abc\n"  # v2 tree without memory
    assert _memory.smallest_limit(_memory.limit_files(hybrid, root)) == 3 * GIB
    assert _memory.smallest_limit(_memory.limit_files("1:cpu:/\n", root)) is None  # no memory controller


def test_snapshot_outside_a_limit() -> None:
    snapshot = _memory.snapshot()
    assert snapshot["rss_bytes"] and snapshot["rss_bytes"] > 1_000_000
    assert snapshot["peak_rss_bytes"] and snapshot["peak_rss_bytes"] >= snapshot["rss_bytes"]  # never below now


def _new_memory_cgroup(name: str) -> Path:
    """A child cgroup with a memory limit of `LIMIT`: v1's memory controller, else v2's; OSError if neither."""
    v1 = CGROUP_ROOT / "memory"
    if (v1 / "memory.limit_in_bytes").exists():
        folder, limit_file = v1 / name, "memory.limit_in_bytes"
    elif "memory" in (CGROUP_ROOT / "cgroup.subtree_control").read_text().split():
        folder, limit_file = CGROUP_ROOT / name, "memory.max"
    else:
        raise OSError("neither cgroup v1's memory controller nor v2's with memory enabled for child groups")
    folder.mkdir(exist_ok=True)
    (folder / limit_file).write_text(str(LIMIT))
    return folder


@pytest.fixture
def memory_cgroup() -> Iterator[Path]:
    try:
        folder = _new_memory_cgroup(f"score-shim-test-{os.getpid()}")
    except OSError as error:
        pytest.fail(f"cannot create a memory cgroup under {CGROUP_ROOT} (the test needs root): {error}")
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


@pytest.mark.cgroup
@pytest.mark.server
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
