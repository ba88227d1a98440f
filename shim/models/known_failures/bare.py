"""Bare lines: a known failure's message pasted without the exception's type, told from the message alone.

``score-shim logs`` reads such a line as a failure of that type, so that the families can explain it.
"""

from __future__ import annotations

import re

#: Messages that name a known failure on their own, with the exception that carries them.
_BARE = (
    (re.compile(r"Model (?:\S+ )?not found in cache\b"), "ModelNotFoundException"),
    (re.compile(r"No such artifact: '"), "MlflowException"),
    (re.compile(r'Could not find an "MLmodel" configuration file'), "MlflowException"),
    (re.compile(r"numpy\.dtype size changed, may indicate binary incompatibility"), "ValueError"),
    (re.compile(r"Descriptors cannot (?:not )?be created directly"), "TypeError"),
    (re.compile(r"\[Errno 2\] No such file or directory: '"), "FileNotFoundError"),
    (re.compile(r"NO_SUCHFILE : Load model from "), "onnxruntime.NoSuchFile"),  # onnxruntime's InferenceSession
    (re.compile(r"SavedModel file does not exist at: "), "OSError"),  # TensorFlow's load_model
)


_BARE_FIRST = frozenset("MNCnD[S")


def bare_failure(line: str) -> tuple[str, str] | None:
    """``(type, message)`` when a line without an exception type is a known failure's message."""
    text = line.strip()
    if text[:1] not in _BARE_FIRST:  # most lines: one look
        return None
    if text.startswith("Message: "):  # azureml-core's exceptions put the message on a line of its own
        text = text[len("Message: ") :]
    if len(text) > 2000:
        return None
    for pattern, kind in _BARE:
        if pattern.match(text):
            return kind, text
    return None
