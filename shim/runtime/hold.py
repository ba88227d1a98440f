"""Hold mode: a failed ``init()`` keeps the worker up instead of crash-looping the container.

Opt-in, ``SCORE_SHIM_ON_INIT_FAILURE=hold``; the default stays "exit", so that Azure's health model (a
container whose init fails never becomes ready) is unchanged. When held:

- the server's health route ``/`` keeps answering, so the container stays up and a user can
  ``kubectl exec`` into it, read its files, or attach a debugger;
- ``/score`` answers 503 with the request id (and, in debug mode, the error and the diagnosis);
- a request with the header ``x-score-shim-retry-init: 1`` runs ``init()`` again in that worker: after
  the model was copied in place, say. On success the worker serves from then on.

The retry runs the user's ``init()`` on a client's request, so it is the operator's choice, never the
client's: only in debug mode (``SCORE_SHIM_DEBUG=1``) or with ``SCORE_SHIM_RETRY_INIT=1``; otherwise the
header is ignored (logged once per worker). Even then an ``init()`` may load a model of gigabytes, so a
worker runs one retry at a time (a concurrent one is refused at once, not queued behind it) and at most one
per ``SCORE_SHIM_RETRY_INIT_INTERVAL`` seconds, counted from the end of the previous one; a refused retry
answers the 503 with ``Retry-After`` and logs ``shim.init.retry_refused``.

A script that could not even be imported is held too, but cannot be retried in place: the server has
already analysed the placeholder ``run``; the answer says to fix the script and restart.
"""

from __future__ import annotations

import math
import sys
import threading
from time import monotonic, perf_counter

from ..settings import RETRY_INIT_INTERVAL_DEFAULT
from ..stream import context, processors, redaction
from ..stream.configure import get_logger, report_internal_error
from . import echo, events

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: `typing` is not imported by a worker's start (issue 17, import time)
    from collections.abc import Callable
    from typing import Any

log = get_logger("shim")

RETRY_HEADER = "x-score-shim-retry-init"

#: Set at start-up from SCORE_SHIM_ON_INIT_FAILURE.
enabled = False
#: Set at start-up: whether the header may re-run init() (SCORE_SHIM_DEBUG or SCORE_SHIM_RETRY_INIT), and
#: the least time between the end of one retry and the start of the next (SCORE_SHIM_RETRY_INIT_INTERVAL).
retry_allowed = False
retry_interval_s = RETRY_INIT_INTERVAL_DEFAULT

#: The error that holds this worker, or None when it serves normally (read on the hot path).
error: BaseException | None = None
_diagnosis: str | None = None
_retry: Callable[[], Any] | None = None
_lock = threading.Lock()  # held while a retry runs; never waited for
_next_retry_at = 0.0  # monotonic(): no retry before this
_ignored_logged = False


def hold(failure: BaseException, retry: Callable[[], Any] | None) -> bool:
    """Hold the worker on ``failure`` if hold mode is on; False means: let it stop the server.

    Never raises: a failure of the shim here must not replace the user's exception.
    """
    global error
    if not enabled or not isinstance(failure, (Exception, SystemExit)):
        return False
    error = failure  # first: whatever else fails below, the worker is held
    try:
        _hold(failure, retry)
    except Exception as internal:
        report_internal_error("_hold.hold", internal)
    return True


def _hold(failure: BaseException, retry: Callable[[], Any] | None) -> None:
    global error, _diagnosis, _retry
    error, _diagnosis, _retry = failure, _diagnosis_of(failure), retry
    log.warning(
        "shim.init.held",
        error_type=processors.describe_exception(failure)["type"],
        diagnosis=(
            "SCORE_SHIM_ON_INIT_FAILURE=hold: this worker stays up after the failure above; / answers, /score "
            "answers 503. " + _retry_advice(retry is not None)
        ),
    )


def _retry_advice(retryable: bool) -> str:
    if not retryable:
        return "The script could not be imported: fix it and restart the container."
    if not retry_allowed:
        return (
            "Fix the cause and restart the container. To run init() again in place instead (a request with the "
            f"header '{RETRY_HEADER}: 1'), set SCORE_SHIM_RETRY_INIT=1 (or SCORE_SHIM_DEBUG=1) where you deploy."
        )
    return (
        f"Fix the cause, then send a request with the header '{RETRY_HEADER}: 1' to run init() again "
        f"(one retry at a time, at most one every {retry_interval_s:g} s)."
    )


def _diagnosis_of(failure: BaseException) -> str | None:
    try:
        from ..models.diagnosis import event_fields  # here: failures only, not on `import shim` (import time)

        diagnosis = event_fields(failure).get("diagnosis")
        return diagnosis if isinstance(diagnosis, str) else None
    except Exception:
        return None


def answer() -> Any | None:
    """The 503 for a held worker, or None when a retried ``init()`` succeeded and the run may go on.

    Never raises into the server: a failure of the shim's own code still answers a plain 503.
    """
    try:
        return _answer()
    except Exception as internal:
        report_internal_error("_hold.answer", internal)
        flask = sys.modules.get("flask")
        return flask.Response('{"message": "held"}', status=503, mimetype="application/json") if flask else None


def _answer() -> Any | None:
    flask = sys.modules.get("flask")
    state = context.current()
    refusal: dict[str, Any] | None = None
    retry = _retry
    if retry is not None and state is not None and state[0].headers.get(RETRY_HEADER, "").lower() in ("1", "true"):
        if not retry_allowed:
            _note_ignored()
        else:
            refusal = _retry_init(retry)
            if error is None:
                return None
    if flask is None:
        return None
    if refusal is None:
        return flask.Response(_body(), status=503, mimetype="application/json")
    response = flask.Response(_with_refusal(_body(), refusal), status=503, mimetype="application/json")
    if "retry_after_s" in refusal:
        response.headers["Retry-After"] = str(math.ceil(refusal["retry_after_s"]))
    return response


def _retry_init(retry: Callable[[], Any]) -> dict[str, Any] | None:
    """Run ``init()`` again unless one runs already or ran too recently: then the refusal, for the answer."""
    global error, _next_retry_at
    if not _lock.acquire(blocking=False):
        return _refuse("busy", "another request is running init() again in this worker right now; try again after it")
    try:
        if error is None:  # a retry that ended while this request waited to be served released the worker
            return None
        wait_s = _next_retry_at - monotonic()
        if wait_s > 0:
            return _refuse(
                "interval",
                f"init() was retried less than SCORE_SHIM_RETRY_INIT_INTERVAL={retry_interval_s:g} s ago; the next "
                f"retry is allowed in {wait_s:.1f} s",
                retry_after_s=round(wait_s, 3),
            )
        started = perf_counter()
        try:
            retry()
        except BaseException as failure:
            events.init_failed(failure, started, retry=True)
            error = failure
        else:
            events.init_ok(started)
            log.info("shim.init.released")
            error = None
        finally:
            _next_retry_at = monotonic() + retry_interval_s
        return None
    finally:
        _lock.release()


def _refuse(reason: str, message: str, **details: Any) -> dict[str, Any]:
    refusal = {"refused": reason, "message": message, **details}
    log.warning("shim.init.retry_refused", reason=reason, diagnosis=message, **details)
    return refusal


def _note_ignored() -> None:
    """Once per worker: a client asked for a retry that the operator has not allowed."""
    global _ignored_logged
    if _ignored_logged:
        return
    _ignored_logged = True
    log.warning(
        "shim.init.retry_ignored",
        diagnosis=(
            f"a request asked to run init() again (header '{RETRY_HEADER}'), but retries are off, so it was "
            "answered as any other request to a held worker. To allow them, set SCORE_SHIM_RETRY_INIT=1 (or "
            "SCORE_SHIM_DEBUG=1, never in production) and restart. Logged once per worker."
        ),
    )


def _with_refusal(body: str, refusal: dict[str, Any]) -> str:
    """The held answer's body, with why the retry was refused and when the next one is allowed."""
    import json  # here, not at the top: json is not imported by a worker's start (issue 17, import time)

    try:
        document = json.loads(body)
        document["retry_init"] = refusal
        return json.dumps(document)
    except Exception:
        return body


def _body() -> str:
    import json  # here, not at the top: json is not imported by a worker's start (issue 17, import time)

    ids = context.current_ids() or {}
    body: dict[str, Any] = {
        "message": (
            "The scoring script failed to start (init() or its import raised); this worker is held for "
            "debugging (SCORE_SHIM_ON_INIT_FAILURE=hold). The shim.init.failed log line has the details."
        ),
        "request_id": ids.get("request_id"),
    }
    if echo.enabled and error is not None:
        described = processors.describe_exception(error)
        body["error"] = {"type": described["type"], "message": described["message"]}
        if _diagnosis:
            body["diagnosis"] = _diagnosis
    # Masked before it is encoded: masking the encoded text could break its JSON.
    return json.dumps(redaction.mask(body), default=processors.masked_repr)


def placeholder_run(raw_data: str) -> Any:
    """``run`` for a script that could not be imported: answers every request with the 503."""
    return answer()


def placeholder_init() -> None:
    """``init`` for a script that could not be imported: nothing to do, the worker is held already."""
