"""Debug mode: answer a failing ``run()`` with the error itself, instead of the server's generic 500.

Only with ``SCORE_SHIM_DEBUG=1``. The answer is a response object with status 500, which the server
passes on as it would any response ``run()`` returns, adding ``x-ms-run-function-failed: True`` (it
marks every returned response >= 500 so). The body carries the exception's type and message, the frames
of the user's own code (file, line, function), and the request id; never frame locals, and every value
is masked by the redactor before the body is encoded (masking the encoded text could break its JSON).
The server's scoring timeout (``TimeoutError``) and exceptions that are not ``Exception``
(``SystemExit``, ``KeyboardInterrupt``) are never turned into an answer: they go on as they are.
"""

from __future__ import annotations

import sys

from ..stream import context, processors, redaction

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: `typing` is not imported by a worker's start (issue 17, import time)
    from typing import Any

#: Set at start-up from SCORE_SHIM_DEBUG.
enabled = False

MAX_MESSAGE_CHARS = 4000
MAX_FRAMES = 30


def answer_for(error: BaseException) -> Any | None:
    """The debug answer for ``error``, or None when it must be re-raised (off, a timeout, no Flask)."""
    if not enabled or isinstance(error, TimeoutError) or not isinstance(error, Exception):
        return None
    flask = sys.modules.get("flask")
    if flask is None:
        return None
    try:
        return flask.Response(body_for(error), status=500, mimetype="application/json")
    except Exception:
        return None


def body_for(error: BaseException) -> str:
    """The JSON text of the debug answer, secrets masked."""
    import json  # here, not at the top: json is not imported by a worker's start (issue 17, import time)

    described = processors.describe_exception(error)
    message = described["message"]
    if len(message) > MAX_MESSAGE_CHARS:
        message = message[:MAX_MESSAGE_CHARS] + f"... [{len(message) - MAX_MESSAGE_CHARS} characters cut]"
    frames = processors.user_frames(error.__traceback__)[-MAX_FRAMES:]
    ids = context.current_ids() or {}
    body = {
        "message": f"run() raised {described['type']}: {message}",
        "error": {"type": described["type"], "message": message, "frames": frames},
        "request_id": ids.get("request_id"),
        "debug": "SCORE_SHIM_DEBUG=1 echoes errors in responses; never use it in production.",
    }
    return json.dumps(redaction.mask(body), default=processors.masked_repr)
