"""Request payloads in the log: off by default, truncated when asked for (``SCORE_SHIM_LOG_PAYLOADS=1``).

Payloads are the users' customers' data; they are never logged unless the deployment opts in, and then
masked, then cut to ``SCORE_SHIM_PAYLOAD_MAX_CHARS`` (in that order: a cut must never split a secret and
leave its head in the line).
"""

from __future__ import annotations

from ..stream import redaction

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: `typing` is not imported by a worker's start (issue 17, import time)
    from typing import Any

enabled = False
max_chars = 1000


def describe(args: tuple[Any, ...], kwargs: dict[str, Any] | None) -> str:
    """The input ``run()`` received, as text: the body itself for a str, the body of a raw request,
    the parsed arguments of an ``@input_schema`` run."""
    try:
        # The headers a run() may declare are not the payload (and hold the caller's credentials).
        kwargs = {key: value for key, value in (kwargs or {}).items() if key != "request_headers"}
        values = [*args, *kwargs.values()]
        if len(values) == 1 and isinstance(values[0], str):
            text = values[0]
        elif len(values) == 1 and hasattr(values[0], "get_data"):  # @rawhttp: the Flask request
            text = values[0].get_data(as_text=True, cache=True)
        else:
            text = repr(kwargs if kwargs else args)
    except Exception:
        text = "<payload could not be read>"
    text = redaction.redact(text)
    if len(text) > max_chars:
        text = f"{text[:max_chars]}... [{len(text) - max_chars} characters cut]"
    return redaction.Masked(text)
