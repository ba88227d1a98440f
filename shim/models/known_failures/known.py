"""What every family of known failures shares: the answer (`Known`), the words both diagnoses use, and what
a traceback's frames' files tell (which installed package a file is of, whether the frames were unpickling).

Text only, like the families themselves: the frames are file names, never read.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, NamedTuple

#: What ``Model.get_model_path`` does, in the words both diagnoses use.
GET_MODEL_PATH_LOOKS = "it looks only in $AML_APP_ROOT/azureml-models and ./<name>"
REGISTERED_FOLDER = "a registered folder keeps its folder name under AZUREML_MODEL_DIR"
CONDA_PIP = "the environment's conda file (dependencies → pip)"


class Known(NamedTuple):
    """A known failure: its kind, the cause and the fix in plain words, and what was read, as data."""

    kind: str
    text: str
    facts: dict[str, Any]


def short_type(kind: str) -> str:
    """``azureml.exceptions._azureml_exception.ModelNotFoundException`` → ``ModelNotFoundException``."""
    return kind.rpartition(".")[2].strip().rstrip(":")


# -- the frames' files --------------------------------------------------------------------------------------

_PACKAGE_RE = re.compile(r"[/\\](?:site|dist)-packages[/\\]([A-Za-z_][\w]*)")
_LOADERS = ("pickle.py", "numpy_pickle.py", "numpy_pickle_utils.py", "_pickle.py", "cloudpickle.py")


def in_loader(files: Sequence[str]) -> bool:
    """Whether the frames were unpickling: the standard library's pickle, joblib's or cloudpickle's loaders."""
    return any(base_name(f) in _LOADERS or "/joblib/" in f.replace("\\", "/") for f in files)


def package_of(path: str) -> str | None:
    """The import name of the installed package a file belongs to (``.../site-packages/pandas/x.py`` → pandas)."""
    match = _PACKAGE_RE.search(path)
    return match.group(1) if match else None


def base_name(path: str) -> str:
    """A file's name, whether the traceback came from Linux or Windows."""
    return path.replace("\\", "/").rpartition("/")[2]


def innermost_package(files: Sequence[str], skip: tuple[str, ...] = ()) -> str | None:
    """The installed package nearest the failure (the last frame's), ``skip`` aside: the one to blame or pin."""
    for path in reversed(files):
        package = package_of(path)
        if package is not None and package not in skip:
            return package
    return None
