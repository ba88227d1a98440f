"""What the shim knows about the request being scored, read from the server's Flask request.

The server puts the request ids on ``flask.g`` before ``run()`` is called (``x-request-id``, else a fresh
uuid4; ``x-ms-client-request-id``). Flask scopes ``g`` to one request, so nothing read here can leak from
one request into the next. flask is imported only by the server, never by the shim: outside the server
(``score-shim check``, unit tests) there is simply no request.
"""

from __future__ import annotations

import re
import sys

_CONTEXT_KEY = "_score_shim_context"

# W3C trace context: version-traceid-parentid-flags. Anything else is not carried, so that a caller cannot
# put arbitrary text into every line of its request.
_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$")


def current_ids() -> dict[str, str] | None:
    """``request_id``, ``client_request_id`` and ``traceparent`` of the current request, if any."""
    flask = sys.modules.get("flask")
    if flask is None:
        return None
    try:
        if not flask.has_request_context():
            return None
        g = flask.g
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
        traceparent = flask.request.headers.get("traceparent", "")
        if _TRACEPARENT.match(traceparent):
            ids["traceparent"] = traceparent
        setattr(g, _CONTEXT_KEY, ids)
        return ids
    except Exception:
        return None


def input_bytes() -> int | None:
    """The size of the request's input (the body, or the query string of a GET), never its content."""
    flask = sys.modules.get("flask")
    if flask is None:
        return None
    try:
        if not flask.has_request_context():
            return None
        request = flask.request
        if request.method == "GET":
            return len(request.query_string)
        length = request.content_length
        return int(length) if length is not None else len(request.get_data(cache=True))
    except Exception:
        return None
