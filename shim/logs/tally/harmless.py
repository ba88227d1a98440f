"""Lines that look like failures and are not: the server's known start-up noise, counted by kind."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..bounds import MAX_GROUPS


@dataclass
class Noise:
    """One kind of noise: what the server says, why it is harmless, how often, and the detail it gave first."""

    what: str
    why: str
    count: int = 0
    detail: str | None = None
    first: str | None = None


class Harmless:
    """Known noise by kind (a handful of kinds, bounded all the same)."""

    def __init__(self) -> None:
        self.kinds: dict[str, Noise] = {}

    def add(self, kind: str, what: str, why: str, timestamp: Any, *, count: bool = True) -> Noise | None:
        noise = self.kinds.get(kind)
        if noise is None:
            if len(self.kinds) >= MAX_GROUPS:
                return None
            noise = self.kinds[kind] = Noise(what, why, first=str(timestamp) if timestamp else None)
        if count:
            noise.count += 1
        return noise

    def as_list(self) -> list[dict[str, Any]]:
        return [
            {"kind": kind, "what": n.what, "why": n.why, "count": max(n.count, 1), "detail": n.detail, "first": n.first}
            for kind, n in self.kinds.items()
        ]
