"""Tracebacks as users paste them: quoted (``> ``), without their header, or flattened onto one line.

A frame line that continues no record opens one that reads as a traceback (its exception line then joins it);
a flattened traceback (JSON-escaped ``\\n``, or frames separated by spaces) opens a record of its own, which
`unflatten` turns back into lines when it is read. A lone exception line needs no reader: it is a bare record,
which `shim.logs.meaning.exceptions` recognises.
"""

from __future__ import annotations

import re

from ..frames import FRAME_RE
from ..record import Record
from ..tally.sources import Source
from .prefixes import Prefix

_QUOTE_RE = re.compile(r"(?:> ?)+")
_ESCAPE_RE = re.compile(r'\\([\\"nt/])')
_ESCAPES = {"n": "\n", "t": "\t"}
# The parts of a traceback flattened with spaces: headers, chain markers and frames each start a line.
_PARTS_RE = re.compile(
    r"\s*(Traceback \(most recent call last\):"
    r"|The above exception was the direct cause of the following exception:"
    r"|During handling of the above exception, another exception occurred:"
    r'|(?<!\S)File "[^"]+", line \d+, in \S+)\s*'
)
#: Where the exception line starts after a frame's source code (``... import lightgbm ModuleNotFoundError: ...``).
_TAIL_EXCEPTION_RE = re.compile(
    r"(?:^|\s)([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Timeout|Warning)(?::\s.*)?)$"
)


def read_quote_prefix(line: str) -> Prefix | None:
    """``> `` in front of each line (a quoted e-mail, an issue comment): stripped, the indentation after it kept."""
    if line[:1] != ">":
        return None
    match = _QUOTE_RE.match(line)
    return Prefix(None, None, match.end()) if match else None


def read_fragment_line(line: str, stream: str, source: Source) -> Record | None:
    """A frame opening a record (a traceback pasted without its header), or a flattened traceback."""
    if line[:1] in " \tF" and FRAME_RE.match(line):
        record = Record(source, stream, None, "", None, "", line)
        record.traceback = True  # the frame's source line and the exception line join it
        return record
    if is_flattened(line):
        record = Record(source, stream, None, "", None, "", line)
        record.traceback = False  # complete in itself: the lines after it are not its own
        return record
    return None


def is_flattened(text: str) -> bool:
    """Whether a traceback was flattened onto one line: JSON-escaped newlines, or frames between spaces."""
    return "File " in text and ", line " in text and "\n" not in text.rstrip("\n")


def unflatten(text: str) -> str:
    """A flattened traceback as the lines it was; any other text as it is."""
    if not is_flattened(text):
        return text
    if "\\n" in text:
        return _unescape(text.strip().strip('"'))
    return _split_parts(text)


def _unescape(text: str) -> str:
    return _ESCAPE_RE.sub(lambda match: _ESCAPES.get(match.group(1), match.group(1)), text).strip('"')


def _split_parts(text: str) -> str:
    """Frames separated by spaces: each header, marker and frame on a line, the exception after the last frame."""
    pieces = _PARTS_RE.split(text)
    lines = [pieces[0]] if pieces[0].strip() else []
    for index in range(1, len(pieces) - 1, 2):
        part, after = pieces[index], pieces[index + 1]
        is_frame = part.startswith("File ")
        lines.append(f"  {part}" if is_frame else part)
        last = index + 2 >= len(pieces) or not pieces[index + 2].startswith("File ")
        exception = _TAIL_EXCEPTION_RE.search(after) if last else None
        code = after[: exception.start(1)] if exception else after
        if code.strip():
            lines.append(f"    {code.strip()}" if is_frame else code.strip())
        if exception:
            lines.append(exception.group(1))
    return "\n".join(lines)
