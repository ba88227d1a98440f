from __future__ import annotations

import os
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).parent / "scripts"


@pytest.fixture(scope="session")
def scripts() -> Path:
    return SCRIPTS


@pytest.fixture(scope="module")
def log_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("logs")


def _can_make_memory_cgroups() -> bool:
    """Root, and a memory controller that takes child groups (v1's tree, or v2's with memory delegated)."""
    if os.geteuid() != 0:
        return False
    root = Path("/sys/fs/cgroup")
    if (root / "memory" / "memory.limit_in_bytes").exists():
        return True
    try:
        return "memory" in (root / "cgroup.subtree_control").read_text().split()
    except OSError:
        return False


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``cgroup`` tests need root: skipped where they cannot run, except in CI, where they must (and fail)."""
    if os.environ.get("CI") or _can_make_memory_cgroups():
        return
    skip = pytest.mark.skip(reason="needs root and a memory cgroup it can create; CI runs it")
    for item in items:
        if "cgroup" in item.keywords:
            item.add_marker(skip)
