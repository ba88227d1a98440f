"""What the older images' process supervisors say (runit, supervisord): the scoring server's exit, explained.

In the images of 2018-2022 a container whose ``init()`` failed ends with runit's ``gunicorn/finish 3 0`` and
``Exit code 3 is not normal. Killing image.`` (supervisord's ``exited: gunicorn (exit status 3; not
expected)`` in the first ones), often with nothing else that says so: the exit is noted in
`shim.logs.tally.explained` with what its code means (`shim.logs.meaning.exit_codes`), and the worker whose
``init()`` was under way is marked failed. When no traceback told the failure, the exit is counted as one, so
that a container that died in ``init()`` never reads "Failures: none".

The IoT Edge server of the same images stops at once in every container (``iot-server/finish 1 0``, ``Exit
code 1 is normal. Not restarting iot-server.``): users take it for the error, so it is noted as harmless.
"""

from __future__ import annotations

import re

from ..readers.runit import RUNIT
from ..readers.supervisord import SUPERVISORD
from ..record import Record
from ..tally.totals import Tally
from .exit_codes import explain_exit_code

_FINISH_RE = re.compile(r"([\w.-]+)/finish (-?\d+) (-?\d+)")
_VERDICT_RE = re.compile(r"Exit code (-?\d+) is (not )?normal\.")
_EXITED_RE = re.compile(r"exited: ([\w.-]+) \(exit status (\d+); (not )?expected\)")
#: The loggers of the records this module reads.
SUPERVISORS = (RUNIT, SUPERVISORD)
#: The scoring server's process, as runit and supervisord name it.
_SERVER = "gunicorn"
_IOT_SERVERS = ("iot-server", "iot")
_IOT_WHAT = "the IoT Edge server's exit (iot-server/finish 1 0)"
_IOT_WHY = (
    "the image's IoT Edge server stops at once when no IoT Edge hub is configured (EdgeHubConnectionString is "
    "not set), in every container; scoring does not use it"
)


def on_old_image_line(tally: Tally, record: Record, message: str) -> None:
    """A runit or supervisord record: a service's exit, or the container giving up."""
    if record.logger == SUPERVISORD:
        exited = _EXITED_RE.match(message)
        if exited:
            _on_exit(tally, record, exited.group(1), int(exited.group(2)), message)
        return
    finish = _FINISH_RE.match(message)
    if finish:
        _on_exit(tally, record, finish.group(1), int(finish.group(2)), message)
        return
    verdict = _VERDICT_RE.match(message)
    if verdict is None:
        return
    code = int(verdict.group(1))
    if not verdict.group(2):  # "Exit code 1 is normal. Not restarting iot-server."
        if "iot-server" in message:
            tally.harmless.add("iot-server-exit", _IOT_WHAT, _IOT_WHY, record.timestamp, count=False)
        return
    if tally.workers.exit_told.pop(record.stream, None) != code:  # the finish line before it told this exit
        _server_exited(tally, record, code, message, None)


def _on_exit(tally: Tally, record: Record, service: str, code: int, message: str) -> None:
    if service in _IOT_SERVERS:
        if code == 1:
            tally.harmless.add("iot-server-exit", _IOT_WHAT, _IOT_WHY, record.timestamp)
        return
    if service == _SERVER and code != 0:
        _server_exited(tally, record, code, message, service)
        told = tally.workers.exit_told
        if len(told) < 64:  # one entry per stream, dropped by the verdict line that follows
            told[record.stream] = code


def _server_exited(tally: Tally, record: Record, code: int, evidence: str, service: str | None) -> None:
    """The scoring server (or the container) exited with ``code``: explained, and the workers told."""
    explanation = explain_exit_code(code)
    if explanation is not None:
        details = {"exit code": str(code)} | ({"service": service} if service else {})
        tally.explained.add(f"exit-code-{code}", explanation, evidence, record.timestamp, details)
    ended = f"exited with code {code}"
    workers = [worker for worker in tally.workers.recent(record.stream) if not worker.exit_seen]
    for worker in workers:  # each container's exit applies to its own workers, not to those before a restart
        worker.exit_seen = True
        if worker.ended is None:
            worker.ended = ended
    if code != 3 or any(worker.init == "failed" for worker in workers):
        return  # the code says nothing of init(), or a traceback told the failure already
    under_way = [worker for worker in workers if worker.init in ("unknown", "booted", "started")]
    if not under_way:  # the paste holds the exit alone
        alone = tally.workers.get(record.stream, None, None, record.timestamp, fresh=True)
        under_way = [alone] if alone is not None else []
    for worker in under_way:
        worker.exit_seen = True
        if not worker.from_shim:
            worker.init, worker.ended = "failed", ended
    error = {
        "type": "exit code 3",
        "message": "the server exited with code 3 (init() failed, or score.py failed to import); "
        "its traceback is not in these lines",
    }
    tally.failures.add("init", error, None, record.timestamp, None)
