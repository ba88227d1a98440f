"""What ``kubectl logs`` and ``docker logs`` put in front of each line: the pod's name, the time."""

from __future__ import annotations

import re
from typing import NamedTuple

# kubectl logs --prefix: "[pod/my-deployment-7d9c/inference-server] ..."
_KUBECTL_PREFIX_RE = re.compile(r"\[(pod/[^\]/]+)(?:/[^\]]*)?\] ")
# docker logs --timestamps / kubectl logs --timestamps: "2026-11-25T17:27:42.123456789Z ..."
# docker buildx / BuildKit's plain progress: "#12 3.482 PackagesNotFoundError: ..." (step, seconds into it)
_BUILDKIT_RE = re.compile(r"#\d+ \d+\.\d+ ")
_RFC3339_RE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d) ")


class Prefix(NamedTuple):
    """What a prefix says (the pod whose line it is, or when it was written) and where the line proper starts."""

    pod: str | None
    timestamp: str | None
    end: int


def read_kubectl_prefix(line: str) -> Prefix | None:
    """``kubectl logs --prefix``: the pod, so that each pod's lines (and tracebacks) stay apart."""
    if line[:5] != "[pod/":
        return None
    match = _KUBECTL_PREFIX_RE.match(line)
    return Prefix(match.group(1), None, match.end()) if match else None


def read_timestamp_prefix(line: str) -> Prefix | None:
    """``--timestamps`` (docker and kubectl): the time, which a text line without one of its own takes."""
    if not (len(line) > 20 and line[10:11] == "T" and line[4:5] == "-"):
        return None
    match = _RFC3339_RE.match(line)
    return Prefix(None, match.group(0)[:-1], match.end()) if match else None


def read_buildkit_prefix(line: str) -> Prefix | None:
    """BuildKit's ``#12 3.482 `` before each line of a build step: without it, conda's indented package list
    stays indented and joins its message (`shim.logs.meaning.build_logs` names the packages)."""
    if line[:1] != "#" or not line[1:2].isdigit():
        return None
    match = _BUILDKIT_RE.match(line)
    return Prefix(None, None, match.end()) if match else None
