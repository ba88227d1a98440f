"""Hold mode: a failed ``init()`` keeps the worker up instead of crash-looping the container.

Opt-in, ``SCORE_SHIM_ON_INIT_FAILURE=hold``; the default stays "exit", so that Azure's health model (a
container whose init fails never becomes ready) is unchanged. When held:

- the server's health route ``/`` keeps answering, so the container stays up and a user can
  ``kubectl exec`` into it, read its files, or attach a debugger;
- ``/score`` answers 503 with the request id (and, in debug mode, the error and the diagnosis);
- a request with the header ``x-score-shim-retry-init: 1`` runs ``init()`` again in that worker: after
  the model was copied in place, say. On success the worker serves from then on.

A script that could not even be imported is held too, but cannot be retried in place: the server has
already analysed the placeholder ``run``; the answer says to fix the script and restart.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable
from time import perf_counter
from typing import Any

from ..stream import context, processors, redaction
from ..stream.configure import get_logger, report_internal_error
from . import echo, events

log = get_logger("shim")

RETRY_HEADER = "x-score-shim-retry-init"

#: Set at start-up from SCORE_SHIM_ON_INIT_FAILURE.
enabled = False

#: The error that holds this worker, or None when it serves normally (read on the hot path).
error: BaseException | None = None
_diagnosis: str | None = None
_retry: Callable[[], Any] | None = None
_lock = threading.Lock()


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
            "answers 503. "
            + (
                f"Fix the cause, then send a request with the header '{RETRY_HEADER}: 1' to run init() again."
                if retry
                else "The script could not be imported: fix it and restart the container."
            )
        ),
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
    global error
    flask = sys.modules.get("flask")
    state = context.current()
    if _retry is not None and state is not None and state[0].headers.get(RETRY_HEADER, "").lower() in ("1", "true"):
        with _lock:
            if error is None:
                return None
            started = perf_counter()
            try:
                _retry()
            except BaseException as failure:
                events.init_failed(failure, started, retry=True)
                error = failure
            else:
                events.init_ok(started)
                log.info("shim.init.released")
                error = None
                return None
    if flask is None:
        return None
    return flask.Response(_body(), status=503, mimetype="application/json")


def _body() -> str:
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
    return redaction.redact(json.dumps(body, default=repr))


def placeholder_run(raw_data: str) -> Any:
    """``run`` for a script that could not be imported: answers every request with the 503."""
    return answer()


def placeholder_init() -> None:
    """``init`` for a script that could not be imported: nothing to do, the worker is held already."""
