"""The process's memory and the container's limit: the facts behind "died with <Signals.SIGKILL: 9>".

A worker killed by the kernel's OOM killer leaves no Python traceback; the last RSS and the limit in the
log are what tells the story. Linux only (``/proc`` and cgroups); elsewhere every figure is None.
"""

from __future__ import annotations

import os
import resource

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: `typing` is not imported by a worker's start (issue 17, import time)
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
    """The memory-limit files of this process's cgroup and of every cgroup above it (`limit_files`)."""
    from pathlib import Path

    try:
        membership = Path("/proc/self/cgroup").read_text()
    except OSError:
        membership = ""
    return limit_files(membership, Path(_CGROUP_ROOT))


def limit_files(membership: str, root: Path) -> list[Path]:
    """The limit files that ``membership`` (``/proc/self/cgroup``'s text) names under ``root``, innermost first.

    Inside a container with its own cgroup namespace the process's cgroup is the root; on a host, or on
    Kubernetes with cgroup v1, it is a nested path. The effective limit is the smallest on the way up.
    cgroup v2 (one ``0::/path`` line) keeps ``memory.max`` in the unified tree; v1, ``memory.limit_in_bytes``
    in the memory controller's own tree. A machine may list both (hybrid): both are read.
    """
    files: list[Path] = []
    for entry in membership.splitlines():
        hierarchy, controllers, path = [*entry.split(":", 2), "", ""][:3]
        if hierarchy == "0" and controllers == "":  # cgroup v2
            base, name = root, "memory.max"
        elif "memory" in controllers.split(","):  # cgroup v1
            base, name = root / "memory", "memory.limit_in_bytes"
        else:
            continue
        folder = os.path.normpath(path or "/")
        while True:
            files.append(base / folder.lstrip("/") / name)
            if folder == "/":
                break
            folder = os.path.dirname(folder)
    return files


#: A limit to assume besides the cgroup's (``SCORE_SHIM_MEMORY_LIMIT_MB``): the instance a rehearsal stands
#: for (``check --deployment`` on a laptop has no cgroup limit, its Standard_DS3_v2 has 14 GiB).
assumed_limit_bytes: int | None = None


def limit_bytes() -> int | None:
    """The container's memory limit, or None when there is none (or it cannot be read).

    The smaller of the cgroup's limit and `assumed_limit_bytes`: the first one reached is the one that kills.
    """
    limit = smallest_limit(_limit_files())
    if assumed_limit_bytes is not None:
        limit = assumed_limit_bytes if limit is None else min(limit, assumed_limit_bytes)
    return limit


def smallest_limit(files: list[Path]) -> int | None:
    """The smallest limit the files hold; None when none holds one ("max", missing, unreadable, v1's "none")."""
    limits = []
    for path in files:
        try:
            value = int(path.read_text().strip())
        except (OSError, ValueError):
            continue  # missing, unreadable, or "max" (no limit at this level)
        if value < _NO_LIMIT_ABOVE:
            limits.append(value)
    return min(limits) if limits else None


def snapshot() -> dict[str, int | None]:
    """RSS now, its peak and the limit. The peak is never below the RSS now: ``ru_maxrss`` is the kernel's
    high-water mark, updated lazily (when pages are unmapped), so it can lag behind ``statm`` just after the
    memory grew; the kernel's own ``VmHWM`` takes the larger of the two the same way."""
    rss, peak = rss_bytes(), peak_rss_bytes()
    if rss is not None and peak is not None:
        peak = max(peak, rss)
    return {"rss_bytes": rss, "peak_rss_bytes": peak, "limit_bytes": limit_bytes()}
