"""The workers of every replica and how their ``init()`` went, bounded (`MAX_WORKERS`)."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from itertools import islice
from typing import Any

from ..bounds import MAX_WORKERS

#: What the workers' table and ``--json`` say of an init() that started and was not seen to end.
NEVER_FINISHED = (
    "init() started and never finished in these lines (still running, hung, or killed: look for a SIGKILL/OOM "
    "or a probe failure)"
)
#: How many of the latest entries `Workers.recent` looks at: a replica's workers, and a few restarts.
_RECENT = 32


@dataclass
class Worker:
    """One worker process of one replica, and how its ``init()`` went."""

    replica: str
    pid: int | None
    init: str = "unknown"  # booted | started | ok | failed
    duration_ms: float | None = None
    phase: str | None = None
    error: dict[str, Any] | None = None
    diagnosis: str | None = None
    ended: str | None = None  # how gunicorn saw it end: exit code, signal, WORKER TIMEOUT
    first_seen: str | None = None
    from_shim: bool = False  # the shim's events decided; the server's lines only confirm
    awaiting_error: bool = False  # "User's init function failed": the traceback record comes next
    exit_seen: bool = False  # an old image's supervisor told the server's exit (runit, supervisord)

    @property
    def finished(self) -> bool:
        return self.init in ("ok", "failed") or self.ended is not None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"replica": self.replica, "pid": self.pid, "init": self.init}
        for key in ("duration_ms", "phase", "error", "diagnosis", "ended"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.init == "started":  # at the end of the input: nothing said init() ended
            out["init_finished"] = False
            ended = self.ended
            out["note"] = (
                NEVER_FINISHED if ended is None else f"init() did not finish: the worker ended first ({ended})"
            )
        return out


#: (stream, host, pid, generation): a worker entry; the generation tells restarts with the same pid apart.
WorkerKey = tuple[str, str | None, int | None, int]


def replica_name(stream: str, host: str | None) -> str:
    """How a replica is named: its host name, else the pod of a ``kubectl logs --prefix`` line, else the input."""
    if host:
        return host
    return stream.split("|", 1)[1] if "|" in stream else stream


class Workers:
    """Worker entries in the order they were first seen, at most `MAX_WORKERS` (the rest are counted)."""

    def __init__(self) -> None:
        self.entries: OrderedDict[WorkerKey, Worker] = OrderedDict()
        self.dropped = 0
        # The latest worker entry of a (stream, pid) and of a (stream, host, pid).
        self._latest_any: dict[tuple[str, int | None], WorkerKey] = {}
        self._latest: dict[tuple[str, str, int | None], WorkerKey] = {}
        # The exit code an old image's runit told by stream (``gunicorn/finish 3 0``), until its verdict line.
        self.exit_told: dict[str, int] = {}

    def get(
        self, stream: str, host: str | None, pid: int | None, timestamp: Any, *, fresh: bool = False
    ) -> Worker | None:
        """The worker ``pid`` of a replica; lines without a host name join the one that has it.

        ``fresh`` (a worker boots, init() starts): when the worker with that pid had finished (a container
        restarted and its new worker got the same pid, as in a crash loop), a new entry starts.
        """
        key = self._latest_any.get((stream, pid)) if host is None else self._latest.get((stream, host, pid))
        if key is None and host is not None:
            key = self._adopt(stream, host, pid)
        worker: Worker | None = self.entries.get(key) if key is not None else None
        if worker is not None and fresh and worker.finished:
            worker = None
        if worker is None:
            if len(self.entries) >= MAX_WORKERS:
                self.dropped += 1
                return None
            generation = key[3] + 1 if key is not None else 0
            key = (stream, host if host is not None else (key[1] if key else None), pid, generation)
            worker = self.entries[key] = Worker(
                replica_name(stream, key[1]), pid, first_seen=str(timestamp) if timestamp else None
            )
        assert key is not None
        self._latest_any[(stream, pid)] = key
        if key[1] is not None:
            self._latest[(stream, key[1], pid)] = key
        return worker

    def _adopt(self, stream: str, host: str, pid: int | None) -> WorkerKey | None:
        """The entry made from text lines before a JSON line named the host, now this host's."""
        anonymous = self._latest_any.get((stream, pid))
        if anonymous is None or anonymous[1] is not None or anonymous not in self.entries:
            return None
        adopted = self.entries.pop(anonymous)
        adopted.replica = host
        key = (stream, host, pid, anonymous[3])
        self.entries[key] = adopted
        return key

    def latest(self, stream: str, pid: int | None) -> Worker | None:
        """The latest entry of the worker ``pid`` in ``stream``, whatever its host; None if unknown."""
        key = self._latest_any.get((stream, pid))
        return self.entries.get(key) if key is not None else None

    def recent(self, stream: str) -> list[Worker]:
        """The latest workers of ``stream`` (any host), newest first: a few restarts' worth."""
        return [self.entries[key] for key in islice(reversed(self.entries), _RECENT) if key[0] == stream]

    def sole_pending(self, stream: str, host: str | None) -> Worker | None:
        """The one worker of ``stream`` (and ``host``) whose init() is under way, or whose init() failure's
        traceback is due; None when there is none or more than one.

        Old servers write no pid: their init() lines are this worker's when it is the only candidate.
        """
        found: Worker | None = None
        for key in islice(reversed(self.entries), _RECENT):
            worker = self.entries[key]
            if key[0] != stream or key[2] is None or (host is not None and key[1] not in (host, None)):
                continue
            if worker.awaiting_error or (worker.init in ("booted", "started") and worker.ended is None):
                if found is not None:
                    return None
                found = worker
        return found

    def pid_or_sole_pending(self, stream: str, host: str | None, pid: int | None) -> int | None:
        """``pid`` when the line names one, else the `sole_pending` worker's (None when there is not exactly one).

        Old servers' init() and traceback lines, and old images' gunicorn lines, name no pid: the readers of both
        give such a line to the worker whose start is under way, so they ask here, and decide alike.
        """
        if pid is not None:
            return pid
        worker = self.sole_pending(stream, host)
        return worker.pid if worker is not None else None

    def as_list(self) -> list[dict[str, Any]]:
        return [worker.as_dict() for worker in self.entries.values()]
