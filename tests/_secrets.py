"""Helpers for the redaction tests: every form a secret can be written in, PEM keys, the strings of a line.

Written apart from `shim.stream.redaction` on purpose: the tests must not take the redactor's word for
what a secret looks like once encoded.
"""

from __future__ import annotations

import base64
import json
import random
import re
from typing import Any
from urllib.parse import quote, quote_plus


def forms(secret: str) -> set[str]:
    """The secret raw, repr'd (both quote styles, of the text and of its UTF-8 bytes), JSON-escaped (ASCII or
    not), URL-encoded (quote, quote_plus) and base64 (standard, URL-safe; padded or not)."""
    raw = secret.encode("utf-8")
    found = {
        secret,
        repr(secret)[1:-1],
        repr(secret + '"')[1:-2],  # the other quote style, when the secret holds a quote
        repr(raw)[2:-1],
        repr(raw + b'"')[2:-2],
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        quote(secret, safe=""),
        quote(secret),
        quote_plus(secret),
    }
    for encoded in (base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode()):
        found |= {encoded, encoded.rstrip("=")}
    return found


def pem(lines: int = 52, seed: int = 12, label: str = "RSA PRIVATE KEY") -> tuple[str, list[str]]:
    """A PEM block of ``lines`` base64 lines of 64 characters (52: about 3.3 KB), and those body lines."""
    rng = random.Random(seed)
    body = base64.b64encode(rng.randbytes(48 * lines)).decode()
    rows = [body[index : index + 64] for index in range(0, len(body), 64)]
    return f"-----BEGIN {label}-----\n" + "\n".join(rows) + f"\n-----END {label}-----", rows


def strings(value: Any) -> list[str]:
    """Every string of a parsed JSON value, keys included."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for key, item in value.items() for text in [key, *strings(item)]]
    if isinstance(value, list):
        return [text for item in value for text in strings(item)]
    return []


def digits_token(secret: str) -> re.Pattern[str]:
    """A digits-only secret as a whole token (the redactor's documented policy for such values)."""
    return re.compile(rf"(?<![\w.]){re.escape(secret)}(?![\w]|\.\d)")


def leaks(secret: str, texts: list[str]) -> list[str]:
    """The forms of ``secret`` found in ``texts`` (empty: no leak); a digits-only form counts as a whole token."""
    found = set()
    for form in forms(secret):
        if form.isascii() and form.isdigit():
            token = digits_token(form)
            found |= {form for text in texts if token.search(text)}
        else:
            found |= {form for text in texts if form in text}
    return sorted(found)
