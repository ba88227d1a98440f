"""A record to what its logger's messages mean; the time and host it tells, whatever it is."""

from __future__ import annotations

from ..bounds import MAX_WORKERS
from ..record import Record, ShimEvent
from ..tally.totals import Tally
from .gunicorn import count_access, on_gunicorn_message
from .noise import NOISE_PREFIXES, on_noise
from .old_images import SUPERVISORS, on_old_image_line
from .platform import on_platform_text
from .server import on_server_message
from .shim_events import on_shim_event


def on_json_item(tally: Tally, item: Record | ShimEvent) -> None:
    """What a JSON line holds: its time and its host are noted, then it means what its event or logger says."""
    tally.timeline.note(item.timestamp if isinstance(item.timestamp, str) else None)
    hosts = item.source.hosts
    if item.host is not None and item.pid is not None and len(hosts) < MAX_WORKERS:
        hosts[(item.stream, item.pid)] = item.host  # text lines of the same worker name no host: they get this one
    if isinstance(item, Record):
        on_record(tally, item)
    else:
        on_shim_event(tally, item)


def on_text_record(tally: Tally, record: Record) -> None:
    """A text record, complete: its time, the host a JSON line named for its pid, then what it means."""
    tally.text_records += 1
    tally.timeline.note(record.timestamp)
    hosts = record.source.hosts
    if hosts and record.pid is not None:
        record.host = hosts.get((record.stream, record.pid))
    on_record(tally, record)


def on_record(tally: Tally, record: Record) -> None:
    """What a record means: by the logger that wrote it (none for a bare line: any of them may have)."""
    logger = record.logger
    message = record.text() if record.lines else record.message
    if logger == "gunicorn.access":
        count_access(record.source, message, record.http)
        return
    if logger in SUPERVISORS:  # runit, supervisord: the older images' services ending
        on_old_image_line(tally, record, message)
        return
    if not logger:  # a line no reader knew: maybe what Kubernetes, the Azure CLI or a build said
        on_platform_text(tally, record, message)
    server = not logger or logger.startswith(("azmlinfsrv", "root"))
    if server and (
        (message.startswith(NOISE_PREFIXES) and on_noise(tally, record, message))
        or on_server_message(tally, record, message)
    ):
        return
    if not logger or logger.startswith("gunicorn"):
        on_gunicorn_message(tally, record, message)
    elif logger == "root" and len(message) == 3 and message.isdigit():
        record.source.saw_server = True  # old servers: "... | root | INFO | 200"
        record.source.server[int(message)] += 1
