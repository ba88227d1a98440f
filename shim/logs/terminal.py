"""What ``score-shim logs`` prints for a person is safe for their terminal.

The lines it reads came from anywhere: a request body a script logged, a header, an exception message. A
pasted log may hold escape sequences that clear the screen or set the window title, or text that draws a
fake line. Everything read from the logs is escaped the way the shim's console format escapes it
(`shim.stream.console.escape`) before it is printed; the styles ``render`` adds itself stay. ``--json``
needs none of this: ``json.dumps`` escapes control characters.
"""

from __future__ import annotations

from typing import Any

from ..stream.console import escape
from . import story_text


def safe(value: Any) -> Any:
    """``value`` (the summary, as data) with every string in it escaped, keys included."""
    if isinstance(value, str):
        return escape(value)
    if isinstance(value, dict):
        return {safe(key): safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [safe(item) for item in value]
    return value


def story_line(source: str, line: str, several: bool, *, readable: bool = False) -> str:
    """One line of a request's story as printed: its file's name when several were read, then the line;
    ``readable`` (a terminal): a JSON line as short text lines (`shim.logs.story_text`)."""
    texts = story_text.readable(line) if readable else [line]
    return "\n".join(escape(f"{source}: {text}" if several else text) for text in texts)
