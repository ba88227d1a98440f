"""What the shim knows about the request being scored, read from the server's Flask request.

The server puts the request ids on ``flask.g`` before ``run()`` is called (``x-request-id``, else a fresh
uuid4; ``x-ms-client-request-id``). Flask scopes ``g`` to one request, so nothing read here can leak from
one request into the next. flask is imported only by the server, never by the shim: outside the server
(``score-shim check``, unit tests) there is simply no request.
"""

from __future__ import annotations

import re
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: `typing` is not imported by a worker's start (issue 17, import time)
    from typing import Any

    State = tuple[Any, dict[str, Any]]

_CONTEXT_KEY = "_score_shim_context"

# W3C trace context: version-traceid-parentid-flags. Anything else is not carried, so that a caller cannot
# put arbitrary text into every line of its request.
_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$")

_context_vars: tuple[Any, Any] | None = None


def _flask_context_vars() -> tuple[Any, Any] | None:
    # Flask keeps the current request and app contexts in two ContextVars. Reading them directly costs
    # a fraction of going through the `flask.request` / `flask.g` proxies, several times per request.
    global _context_vars
    if _context_vars is None:
        flask_globals = sys.modules.get("flask.globals")
        request_var = getattr(flask_globals, "_cv_request", None)
        app_var = getattr(flask_globals, "_cv_app", None)
        if request_var is None or app_var is None:
            return None
        _context_vars = (request_var, app_var)
    return _context_vars


def current() -> State | None:
    """``(request, g)`` of the Flask request being served in this thread, or None.

    ``g`` comes as its attributes' dict (``flask.g.__dict__``, where ``g`` keeps them): reading and writing them
    there is a dict operation in C instead of a call of one of ``g``'s methods, several times per request.
    """
    context_vars = _context_vars or _flask_context_vars()
    try:
        if context_vars is not None:
            request_context = context_vars[0].get(None)
            if request_context is None:
                return None
            return request_context.request, context_vars[1].get().g.__dict__
        flask = sys.modules.get("flask")
        if flask is None or not flask.has_request_context():
            return None
        return flask.request._get_current_object(), vars(flask.g._get_current_object())
    except Exception:
        return None


def current_ids(state: State | None = None) -> dict[str, str] | None:
    """``request_id``, ``client_request_id`` and ``traceparent`` of the current request (``state``, when the caller
    has it at hand already), if any."""
    if state is None:
        state = current()
        if state is None:
            return None
    request, g = state
    try:
        ids: dict[str, str] | None = g.get(_CONTEXT_KEY)
        if ids is not None:
            return ids
        request_id = g.get("request_id")
        if not request_id:
            # The server has not read the headers yet: do not remember an empty context.
            return None
        ids = {"request_id": request_id}
        client_request_id = g.get("client_request_id")
        if client_request_id:
            ids["client_request_id"] = client_request_id
        # From the WSGI environ, where request.headers reads it (PEP 3333: HTTP_ and the name upper-cased),
        # without werkzeug's header lookup in Python: this runs for every request.
        traceparent = request.environ.get("HTTP_TRACEPARENT", "")
        if traceparent and _TRACEPARENT.match(traceparent):
            ids["traceparent"] = traceparent
        g[_CONTEXT_KEY] = ids
        return ids
    except Exception:
        return None


def input_bytes(request: Any = None) -> int | None:
    """The size of the request's input (the body, or the query string of a GET), never its content."""
    if request is None:
        state = current()
        if state is None:
            return None
        request = state[0]
    try:
        if request.method == "GET":
            return len(request.query_string)
        length = request.content_length
        return int(length) if length is not None else len(request.get_data(cache=True))
    except Exception:
        return None
