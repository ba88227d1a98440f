"""A JSON line through orjson where it is installed: byte for byte what the standard library's encoder writes.

The shim's lines are ``json.JSONEncoder(default=masked_repr, allow_nan=False)``'s (`processors.render_json`):
``\\uXXXX`` escapes for all but ASCII (``ensure_ascii``), the separators ``", "`` and ``": "``, the keys in the
dict's order. orjson (the optional extra ``score-shim[fast]``, https://github.com/ijl/orjson) encodes several
times faster but writes otherwise: UTF-8, no spaces, ``null`` for NaN and the infinities, ``1e-7`` where Python
writes ``1e-07``, DEL unescaped, enums, UUIDs, datetimes and dataclasses as values where json hands them to
``default``, and no int past 64 bits. So it is used only where its bytes are provably the standard library's:

- every value is plain (`_separators`): ``str``, ``int``, ``bool``, ``None``, a ``float`` that both write
  alike (zero, or finite and at least 1e-4 in size), a ``dict``, a ``list`` or a ``tuple``, nested at most
  `MAX_DEPTH` deep; anything else, subclasses included, is the standard library's (and so goes to ``default``);
  a key that is no ``str`` makes orjson raise;
- orjson's bytes are ASCII and hold no DEL and no backslash (no escape at all: every ``"`` opens or closes a
  string); json's space is put after every ``,`` and every ``":`` (``bytes.replace``, in C), and the line grows
  by exactly the structure's separators and keys: then no ``,`` and no ``":`` was inside a string (a string with
  a comma, or one that starts with a colon, would have grown it more), and the bytes are json's;
- orjson did not raise (an int past 64 bits, a lone surrogate).

Where a check fails, `encode` returns None and the caller encodes with the standard library: the line is never
a byte different (tests/test_fast_json.py renders hostile and odd events both ways and compares them).

What it buys, measured (issue 17): on the line every request writes, the checks cost about what orjson saves;
it is no faster than the standard library's C encoder built once (`processors._line_encoder`), in a loop or on
the served path (``scripts/profile_request.py`` against ``--no-orjson``).
"""

from __future__ import annotations

import importlib

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: `typing` is not imported by a worker's start (issue 17, import time)
    from collections.abc import Callable
    from typing import Any

#: Switched off by tests that render the standard library's way; orjson is used when this is on and installed.
enabled = True
#: Deeper values are left to the standard library (and its recursion guard).
MAX_DEPTH = 32
#: Floats smaller than this in size (but not zero) are written differently: json ``1e-05``, orjson ``0.00001``.
_SMALLEST_ALIKE = 1e-4
_INFINITY = float("inf")
_SCALARS = frozenset({str, int, bool, type(None)})

_dumps: Callable[[Any], bytes] | None = None
_looked_up = False


def _orjson_dumps() -> Callable[[Any], bytes] | None:
    """``orjson.dumps``, imported on the first line rendered (not by ``import shim``), or None without orjson."""
    global _dumps, _looked_up
    if not _looked_up:
        _looked_up = True
        try:
            _dumps = importlib.import_module("orjson").dumps  # by name: mypy need not find the optional extra
        except Exception:
            _dumps = None
    return _dumps


def _separators(value: Any, depth: int, counts: list[int]) -> bool:
    """Whether a ``dict``, ``list`` or ``tuple`` is plain, nested ones included; adds the commas it holds to
    ``counts[0]`` and its keys (one ``":`` each) to ``counts[1]``."""
    kind = type(value)
    if depth > MAX_DEPTH or not (kind is dict or kind is list or kind is tuple):
        return False
    if value:
        counts[0] += len(value) - 1
    if kind is dict:
        counts[1] += len(value)
        # A key that is no str makes orjson raise (json would write 1 as "1"): checked by orjson, not here.
        value = value.values()
    for item in value:
        item_kind = type(item)
        if item_kind in _SCALARS:
            continue
        if item_kind is float:
            if item == 0.0 or _SMALLEST_ALIKE <= abs(item) < _INFINITY:  # NaN fails both
                continue
            return False
        if not _separators(item, depth + 1, counts):
            return False
    return True


def encode(event: dict[str, Any]) -> str | None:
    """``event`` as the standard library's encoder writes it, through orjson; None where that cannot be had.
    Never raises: the caller then renders the line the standard library's way."""
    if not enabled:
        return None
    dumps = _dumps if _looked_up else _orjson_dumps()
    if dumps is None:
        return None
    try:
        counts = [0, 0]
        if not _separators(event, 0, counts):
            return None
        out = dumps(event)
    except Exception:  # orjson's own refusals (an int past 64 bits, a lone surrogate), or anything unforeseen
        return None
    if not out.isascii() or out.find(b"\\") >= 0 or out.find(b"\x7f") >= 0:
        return None
    spaced = out.replace(b",", b", ").replace(b'":', b'": ')
    # With no escape, every '"' opens or closes a string: a ',' or '":' beyond the structure's separators and keys
    # is in a string, and would have had a space put after it too.
    if len(spaced) != len(out) + counts[0] + counts[1]:
        return None
    return spaced.decode("ascii")
