"""The process's memory and the container's limit: the facts behind "died with <Signals.SIGKILL: 9>".

A worker killed by the kernel's OOM killer leaves no Python traceback; the last RSS and the limit in the
log are what tells the story. Linux only (``/proc`` and cgroups); elsewhere every figure is None.
"""

from __future__ import annotations

import os
import resource
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

# A string, and pathlib imported where it is used: pathlib loads urllib.parse and ipaddress, a few ms of
# `import shim` (benchmarks/imports.py) for a function that runs once per sample.
_CGROUP_ROOT = "/sys/fs/cgroup"
# cgroup v1 reports "no limit" as a huge number near 2**63.
_NO_LIMIT_ABOVE = 1 << 60


_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def rss_bytes() -> int | None:
    """Resident set size now (``/proc/self/statm``)."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE_SIZE
    except (OSError, ValueError, IndexError):
        return None


def peak_rss_bytes() -> int | None:
    """The process's high-water mark (``ru_maxrss``, kilobytes on Linux)."""
    try:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    except (OSError, ValueError):
        return None


def _limit_files() -> list[Path]:
    """The memory-limit files of this process's cgroup and of every cgroup above it.

    Inside a container with its own cgroup namespace the process's cgroup is the root; on a host, or on
    Kubernetes with cgroup v1, it is a nested path read from ``/proc/self/cgroup``. The effective limit
    is the smallest on the way up.
    """
    from pathlib import Path

    root = Path(_CGROUP_ROOT)
    files: list[Path] = []
    try:
        entries = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        entries = []
    for entry in entries:
        hierarchy, controllers, path = [*entry.split(":", 2), "", ""][:3]
        if hierarchy == "0" and controllers == "":  # cgroup v2
            base, name = root, "memory.max"
        elif "memory" in controllers.split(","):  # cgroup v1
            base, name = root / "memory", "memory.limit_in_bytes"
        else:
            continue
        folder = Path(path)
        while True:
            files.append(base / str(folder).lstrip("/") / name)
            if folder == folder.parent:
                break
            folder = folder.parent
    return files


#: A limit to assume besides the cgroup's (``SCORE_SHIM_MEMORY_LIMIT_MB``): the instance a rehearsal stands
#: for (``check --deployment`` on a laptop has no cgroup limit, its Standard_DS3_v2 has 14 GiB).
assumed_limit_bytes: int | None = None


def limit_bytes() -> int | None:
    """The container's memory limit, or None when there is none (or it cannot be read).

    The smaller of the cgroup's limit and `assumed_limit_bytes`: the first one reached is the one that kills.
    """
    limits = [] if assumed_limit_bytes is None else [assumed_limit_bytes]
    for path in _limit_files():
        try:
            text = path.read_text().strip()
            value = int(text)
        except (OSError, ValueError):
            continue  # missing, unreadable, or "max" (no limit at this level)
        if value < _NO_LIMIT_ABOVE:
            limits.append(value)
    return min(limits) if limits else None


def snapshot() -> dict[str, int | None]:
    return {"rss_bytes": rss_bytes(), "peak_rss_bytes": peak_rss_bytes(), "limit_bytes": limit_bytes()}
