"""The user's script behind score-shim's own entry: a bundle's ``score_shim_entry.py`` or a one-line file.

A deployment that has adopted the shim names ``score_shim_entry.py`` (``score-shim bundle``) or a one-line
``shim_entry.py`` (``from score_wrappers.entry import init, run``) as its scoring script. What the rehearsal
must check is the script behind it: the one ``SCORE_SHIM_ENTRY_SCRIPT`` names (the deployment's variable
wins, as in the container), else the one the bundle's ``BUNDLE.json`` records. Its imports are what the
environment must have; the shim's own modules come with the bundle, or with the score-shim package.
"""

from __future__ import annotations

import json
from pathlib import Path

from .needs import Need

BUNDLE_FOLDER = "_score_shim"  # shim.cli.bundle.FOLDER: the CLI may import deploy, not the other way round
MANIFEST = "BUNDLE.json"
#: What a bundle holds, so what the environment need not have.
BUNDLED_MODULES = frozenset({"shim", "score_wrappers", "structlog", "typing_extensions"})
_ENTRY_IMPORT = "score_wrappers.entry"


def is_shim_entry(entry: Path) -> bool:
    try:
        return _ENTRY_IMPORT in entry.read_text(encoding="utf-8", errors="replace")[:20_000]
    except OSError:
        return False


def is_bundled(code: Path) -> bool:
    return (code / BUNDLE_FOLDER / MANIFEST).is_file()


def script_behind(entry: Path, code: Path, variables: dict[str, str]) -> Path | None:
    """The user's script that ``entry`` runs through the shim, or None when ``entry`` is not the shim's."""
    if not is_shim_entry(entry):
        return None
    named = variables.get("SCORE_SHIM_ENTRY_SCRIPT") or _recorded(code)
    if not named:
        return None
    for base in (entry.parent, code):  # AML_APP_ROOT, then the code folder (the loader's own order)
        candidate = (base / named).resolve()
        if candidate.is_file() and candidate.is_relative_to(code):
            return candidate
    return None


def _recorded(code: Path) -> str | None:
    try:
        value = json.loads((code / BUNDLE_FOLDER / MANIFEST).read_text(encoding="utf-8")).get("scoring_script")
    except (OSError, ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def shims_needs(needs: list[Need], entry_shown: str, bundled: bool) -> list[Need]:
    """The entry's imports of the shim replaced: nothing when bundled, else the score-shim package."""
    kept = [need for need in needs if (need.module or "").partition(".")[0] not in BUNDLED_MODULES]
    if bundled or len(kept) == len(needs):
        return kept
    return [*kept, Need(None, entry_shown, distribution="score-shim")]
