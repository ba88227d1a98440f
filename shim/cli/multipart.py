"""``check --form``: a ``multipart/form-data`` body built as ``curl -F`` builds it.

A ``@rawhttp`` run() that takes uploads reads ``request.files`` and ``request.form``; the only way to check it
is to send what a browser or ``curl -F 'image=@cat.png'`` sends. The encoding follows the HTML standard's
form-data rules (https://html.spec.whatwg.org/multipage/form-control-infrastructure.html#multipart-form-data):
CRLF line ends, ``"`` and line breaks in names percent-encoded, a boundary that occurs in no part.
"""

from __future__ import annotations

import mimetypes
import secrets
from collections.abc import Callable, Sequence
from pathlib import Path

#: A boundary is drawn again when it occurs in a part (bounded: 16 random bytes never really collide).
_BOUNDARY_TRIES = 8


class FormError(ValueError):
    """A ``--form`` field that cannot be sent; the message says which and what to write instead."""


def form_body(fields: Sequence[str], read_file: Callable[[str], bytes]) -> tuple[bytes, str, str]:
    """The body, its Content-Type (with the boundary) and a one-line description of the fields.

    ``fields`` are ``NAME=VALUE`` (a text field) or ``NAME=@FILE`` (a file, its name and type sent along);
    ``read_file`` reads a file's bytes and raises with a message of its own when it cannot.
    """
    parts = [_part(field, read_file) for field in fields]
    for _ in range(_BOUNDARY_TRIES):
        boundary = f"score-shim-{secrets.token_hex(16)}"
        marker = boundary.encode("ascii")
        if not any(marker in head or marker in data for head, data in parts):
            break
    else:  # pragma: no cover - would need a part that holds 8 random 128-bit strings
        raise FormError("--form: no boundary could be found that is in none of the parts.")
    body = b"".join(b"--" + marker + b"\r\n" + head + b"\r\n" + data + b"\r\n" for head, data in parts)
    body += b"--" + marker + b"--\r\n"
    described = ", ".join(_describe(field, len(data)) for field, (_, data) in zip(fields, parts, strict=True))
    return body, f"multipart/form-data; boundary={boundary}", described


def _part(field: str, read_file: Callable[[str], bytes]) -> tuple[bytes, bytes]:
    name, equals, value = field.partition("=")
    if not equals or not name:
        raise FormError(
            f"--form {field!r}: write NAME=VALUE for a text field or NAME=@FILE for a file "
            "(for example --form image=@cat.png), as curl -F does."
        )
    disposition = f'Content-Disposition: form-data; name="{_quoted(name)}"'
    if not value.startswith("@"):
        return f"{disposition}\r\n".encode(), value.encode("utf-8")
    path = value[1:]
    if not path:
        raise FormError(f"--form {field!r}: name a file after the @ (for example --form {name}=@cat.png).")
    data = read_file(path)
    filename = Path(path).name
    kind = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    head = f'{disposition}; filename="{_quoted(filename)}"\r\nContent-Type: {kind}\r\n'
    return head.encode("utf-8"), data


def _quoted(text: str) -> str:
    """A name inside the header's quotes: the HTML standard percent-encodes these three characters."""
    return text.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


def _describe(field: str, size: int) -> str:
    name, _, value = field.partition("=")
    return f"{name}=@{Path(value[1:]).name} ({size:,} bytes)" if value.startswith("@") else f"{name} ({size:,} bytes)"
