"""Failures grouped by kind, and the runs that timed out, bounded (`MAX_GROUPS`, `MAX_SAMPLES`)."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from ..bounds import MAX_GROUPS, MAX_RECENT_IDS, MAX_SAMPLES
from ..tracebacks import error_place


@dataclass
class Group:
    """Failures of one kind (stage, exception type, place), with a few samples."""

    stage: str | None  # import, init, run; None when nothing told it
    type: str
    place: str | None
    count: int = 0
    message: str | None = None
    diagnosis: str | None = None
    cause: dict[str, Any] | None = None  # the chain's first exception, when it is not the one named
    request_ids: list[str] = field(default_factory=list)
    first: str | None = None
    last: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"stage": self.stage, "type": self.type, "place": self.place, "count": self.count}
        out["message"] = self.message
        if self.cause:
            out["cause"] = self.cause
        if self.diagnosis:
            out["diagnosis"] = self.diagnosis
        out["sample_request_id"] = self.request_ids[0] if self.request_ids else None
        out["request_ids"] = self.request_ids
        out["first"], out["last"] = self.first, self.last
        return out


class Failures:
    """Failure groups, and the recent requests the shim told failed (the server's lines repeat them)."""

    def __init__(self) -> None:
        self.groups: dict[tuple[str | None, str, str | None], Group] = {}
        self.dropped = 0
        self._failed_ids: OrderedDict[str, bool] = OrderedDict()

    def add(
        self,
        stage: str | None,
        error: dict[str, Any] | None,
        request_id: str | None,
        timestamp: Any,
        diagnosis: str | None,
    ) -> None:
        kind = str(error.get("type", "unknown")) if error else "unknown"
        place = error_place(error)
        key = (stage, kind, place)
        group = self.groups.get(key)
        if group is None:
            if len(self.groups) >= MAX_GROUPS:
                self.dropped += 1
                return
            message = str(error.get("message", ""))[:500] if error else None
            group = self.groups[key] = Group(stage, kind, place, message=message, diagnosis=diagnosis)
            cause = error.get("cause") if error else None
            group.cause = cause if isinstance(cause, dict) else None
            group.first = str(timestamp) if timestamp else None
        group.count += 1
        if timestamp:
            group.last = str(timestamp)
        if request_id and len(group.request_ids) < MAX_SAMPLES:
            group.request_ids.append(request_id)

    def remember_failed(self, request_id: str) -> None:
        """``shim.run.failed`` told this request (with the user's stack): the server's traceback is not counted."""
        self._failed_ids[request_id] = True
        if len(self._failed_ids) > MAX_RECENT_IDS:
            self._failed_ids.popitem(last=False)

    def told(self, request_id: str) -> bool:
        return request_id in self._failed_ids

    def as_list(self) -> list[dict[str, Any]]:
        groups = sorted(self.groups.values(), key=lambda g: (-g.count, g.stage or "", g.type))
        return [group.as_dict() for group in groups]


class Timeouts:
    """Runs that took too long, with a few samples."""

    def __init__(self) -> None:
        self.count = 0
        self.samples: list[dict[str, Any]] = []

    def add(
        self, replica: str, pid: int | None, request_id: str | None, timestamp: Any, duration: float | None
    ) -> None:
        self.count += 1
        if len(self.samples) < MAX_SAMPLES:
            self.samples.append(
                {
                    "request_id": request_id,
                    "replica": replica,
                    "pid": pid,
                    "timestamp": timestamp,
                    "duration_ms": duration,
                }
            )

    def as_dict(self) -> dict[str, Any]:
        return {"count": self.count, "samples": self.samples}
