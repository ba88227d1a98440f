"""Which file a failed model load had open, read from the traceback's frames, and what that file really is.

``joblib.load(path)`` on a Git LFS pointer raises ``KeyError: 118``, on a ``.DS_Store`` ``KeyError: 0``:
neither names the file. The frames' local variables do (``filename`` in joblib's own frame, ``path`` or a
folder and a name in the user's loop). Reading them is bounded and never raises: only ``str``,
``pathlib`` paths and open files' ``name`` are looked at (no ``repr`` of anything), a few dozen per frame,
and only files' first bytes are read.
"""

from __future__ import annotations

import io
import linecache
import os
import pathlib
import re
from collections.abc import Callable, Iterator
from types import FrameType, TracebackType
from typing import Any

HEAD_BYTES = 512
MAX_LOCALS = 64
MAX_PATHS = 200
MAX_PATH_CHARS = 4096
#: How much of a model file is searched for the scikit-learn version it was saved with.
VERSION_SCAN_BYTES = 8 << 20

#: The first bytes of files a model loader reads: pickles (protocol 2+), joblib's compressors, zip (torch).
_MODEL_HEADS = (b"\x80", b"\x78", b"\x1f\x8b", b"BZh", b"\xfd7zXZ", b"\x5d\x00", b"\x04\x22\x4d\x18", b"PK\x03\x04")
#: The first bytes of protocol 0/1 pickles, which are text.
_OLD_PICKLE_FIRST = b"(c]})NIFSVLldtgp."
_VERSION = re.compile(rb"_sklearn_version.{0,12}?(\d+\.\d+(?:\.\d+)?(?:(?:\.|)(?:post|dev|rc|a|b)\d+)?)", re.DOTALL)


def head(path: str, size: int = HEAD_BYTES) -> bytes | None:
    try:
        with open(path, "rb") as file:
            return file.read(size)
    except (OSError, ValueError):
        return None


def frames(tb: TracebackType | None) -> list[tuple[FrameType, int]]:
    out: list[tuple[FrameType, int]] = []
    while tb is not None and len(out) < 1000:
        out.append((tb.tb_frame, tb.tb_lineno))
        tb = tb.tb_next
    return out


def _as_path(value: Any) -> str | None:
    if isinstance(value, str):
        text = value
    elif isinstance(value, pathlib.PurePath):
        text = str(value)
    elif isinstance(value, io.IOBase):  # an open file: its name
        name = getattr(value, "name", None)
        text = name if isinstance(name, str) else ""
    else:
        return None
    return text if 0 < len(text) <= MAX_PATH_CHARS and "\0" not in text else None


def frame_paths(frame: FrameType) -> list[str]:
    """Existing files the frame's locals name: a path, an open file, or a folder and a name in it."""
    try:
        items = list(frame.f_locals.items())[:MAX_LOCALS]
    except Exception:
        return []
    files: list[str] = []
    folders: list[str] = []
    names: list[str] = []
    for _, value in items:
        text = _as_path(value)
        if text is None:
            continue
        try:
            if os.path.isfile(text):
                files.append(text)
            elif os.path.isdir(text):
                folders.append(text)
            elif os.sep not in text and len(text) < 256:
                names.append(text)
        except (OSError, ValueError):
            continue
    for folder in folders[:8]:
        for name in names[:16]:
            joined = os.path.join(folder, name)
            if os.path.isfile(joined):
                files.append(joined)
    return list(dict.fromkeys(files))


def failed_files(error: BaseException, accept: Callable[[str, bytes], bool]) -> Iterator[tuple[str, int]]:
    """Files named by the traceback's frames, innermost frame first, whose first bytes ``accept`` takes; with
    the frame's index in the traceback."""
    seen = 0
    listed = frames(error.__traceback__)
    for index in range(len(listed) - 1, -1, -1):
        for path in frame_paths(listed[index][0]):
            seen += 1
            if seen > MAX_PATHS:
                return
            first = head(path)
            if first is not None and accept(path, first):
                yield os.path.abspath(path), index


def not_a_model(path: str, first: bytes) -> str | None:
    """What a file is when it is plainly not a model file (``macOS Finder metadata``, ``text``, ``empty``)."""
    name = os.path.basename(path)
    if not first:
        return "empty"
    if name == ".DS_Store" or first[4:8] == b"Bud1":
        return "macOS Finder metadata"
    if name in ("Thumbs.db", "desktop.ini"):
        return "Windows Explorer metadata"
    if first.startswith(_MODEL_HEADS) or first.startswith(b"version https://"):
        return None
    if b"\0" not in first and first[:1] not in _OLD_PICKLE_FIRST:
        try:
            first.decode("utf-8")
        except UnicodeDecodeError:
            return None
        return "text"
    return None


def loop_line(frame: FrameType, lineno: int) -> int | None:
    """The line of the ``for`` loop that encloses ``lineno`` in the frame's function, if any."""
    try:
        filename, start = frame.f_code.co_filename, frame.f_code.co_firstlineno
        line = linecache.getline(filename, lineno)
        indent = len(line) - len(line.lstrip())
        for number in range(lineno - 1, max(start, lineno - 200) - 1, -1):
            text = linecache.getline(filename, number)
            stripped = text.lstrip()
            if not stripped or stripped.startswith("#"):
                continue
            depth = len(text) - len(stripped)
            if depth < indent:
                if re.match(r"(async\s+)?for\b", stripped):
                    return number
                if stripped.startswith(("def ", "async def ", "class ")):
                    return None
                indent = depth
    except Exception:
        return None
    return None


def saved_sklearn_version(path: str) -> str | None:
    """The ``_sklearn_version`` a plain (uncompressed) pickle carries, read from its first bytes."""
    try:
        with open(path, "rb") as file:
            found = _VERSION.search(file.read(VERSION_SCAN_BYTES))
    except (OSError, ValueError):
        return None
    return found[1].decode("ascii") if found else None
