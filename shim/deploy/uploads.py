"""What Azure ML uploads of a code or model folder: all of it, except what the folder's own ignore file excludes.

``az ml`` reads ``.amlignore`` in the uploaded folder's root, else ``.gitignore`` there, with git's pattern
rules, and leaves the matching files out of the upload (azure-ai-ml ``_utils/_asset_utils.py``:
``get_ignore_file``, ``IgnoreFile.is_file_excluded``). A ``.gitignore`` with ``*.pkl`` in the model folder
therefore deploys a model folder without its model. The matching is azure-ai-ml's own where it is
installed (``score-shim[aml]``); without it the rehearsal uploads everything and says so.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .findings import Finding

IGNORE_FILES = (".amlignore", ".gitignore")

#: Is this path (a file or a folder inside the uploaded folder) left out of the upload?
Excluded = Callable[[Path], bool]


def ignore_file(folder: Path) -> Path | None:
    """The ignore file ``az ml`` applies to ``folder``: its ``.amlignore``, else its ``.gitignore``."""
    for name in IGNORE_FILES:
        candidate = folder / name
        if candidate.is_file():
            return candidate
    return None


def excluded_by(folder: Path, shown: str) -> tuple[Excluded | None, list[Finding]]:
    """The test for what ``folder``'s ignore file leaves out (None when nothing is), and what to say."""
    found = ignore_file(folder) if folder.is_dir() else None
    if found is None:
        return None, []
    try:
        from azure.ai.ml._utils._asset_utils import get_ignore_file

        matcher = get_ignore_file(folder)
        test: Excluded = matcher.is_file_excluded
        test(folder / "probe")  # the private API still answers as it did; else the note below
    except Exception:
        return None, [
            Finding(
                "warning",
                "layout",
                f"{shown}/{found.name} leaves matching files out of the upload, but the rehearsal cannot apply it "
                "without azure-ai-ml (pip install azure-ai-ml): it lays out every file.",
            )
        ]
    return test, []


def left_out_finding(shown: str, ignore: str, left_out: list[str], *, limit: int = 5) -> Finding:
    listed = ", ".join(left_out[:limit]) + (f" and {len(left_out) - limit} more" if len(left_out) > limit else "")
    return Finding(
        "warning",
        "layout",
        f"{shown}/{ignore} leaves {len(left_out)} file(s) out of the upload, so the container will not have them: "
        f"{listed}. If one is needed, remove its pattern from {ignore}.",
    )
