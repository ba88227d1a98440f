"""The image build's failures: which packages conda or pip could not install, and where to fix them.

Why a module of its own: an ``ImageBuildFailure`` says only that the build failed; its build log (Docker's, from
the workspace's storage) says which package, and the fix is always in the environment's conda file. The lines
are conda's and pip's own, often behind Docker's colour codes (``[91m``) or a timestamp:

- conda: ``PackagesNotFoundError: The following packages are not available from current channels:`` or
  ``ResolvePackageNotFound:``, then the packages one a line (``  - scikit-learn==0.24.3``), which the record holds
  (they are indented); ``UnsatisfiableError`` for pins that conflict;
- pip: ``ERROR: Could not find a version that satisfies the requirement X==Y (from versions: ...)`` and
  ``ERROR: No matching distribution found for X==Y``; ``ERROR: Cannot install A and B because these package
  versions have conflicting dependencies.``, ``The conflict is caused by:`` and ``ERROR: ResolutionImpossible``.
"""

from __future__ import annotations

import re

from ..tally.explained import Explanation
from .notes import Notes

MARKERS = (  # literals: `shim.logs.meaning.platform` makes one search of them
    "PackagesNotFoundError",
    "ResolvePackageNotFound",
    "UnsatisfiableError",
    "Could not find a version",
    "No matching distribution",
    "ResolutionImpossible",
    "Cannot install ",
    "The conflict is caused by",
    "requires a different Python",
)

_BUILD = "#generic-image-build-failure"
_TRY = "try it locally before deploying: conda env create -f conda.yaml"

CONDA_NOT_FOUND = Explanation(
    "the image build failed: conda cannot find these packages",
    "the environment's conda file asks for packages, or versions, that none of its channels has (a wrong name, "
    "a version that does not exist for this Python or platform, or a channel missing)",
    "in the environment's conda file (conda.yaml): correct the name or version, add the channel that has it "
    f"(conda-forge) under channels, or move the package to its pip section; {_TRY}",
    _BUILD,
)
CONDA_CONFLICT = Explanation(
    "the image build failed: the conda file's pins conflict",
    "conda found no set of versions that satisfies every pin of the environment's conda file together",
    f"loosen or change the pins conda names in the conda file (pin the versions the model was trained with); {_TRY}",
    _BUILD,
)
PIP_NOT_FOUND = Explanation(
    "the image build failed: pip finds no such version",
    "pip found no release of the package that matches the version asked for, for the image's Python version and "
    "platform (or the name is wrong, or a private package is not on the index)",
    "in the pip section of the environment's conda file (or its requirements.txt): correct the name, or pin a "
    "version that exists for the environment's Python (pip index versions NAME lists them); " + _TRY,
    _BUILD,
)
PIP_CONFLICT = Explanation(
    "the image build failed: pip's requirements conflict (ResolutionImpossible)",
    "two or more requirements of the environment need versions of the same package that cannot go together",
    "in the pip section of the environment's conda file, loosen or change the pins that 'the conflict is caused "
    f"by' names (pin the versions the model was trained with); {_TRY}",
    _BUILD,
)

PIP_PYTHON = Explanation(
    "the environment's set-up failed: a package needs another Python version",
    "pip refused a package because the environment's Python is outside the versions the package supports "
    "(its Requires-Python)",
    "in the environment's conda file, raise the python version (dependencies: - python=3.X) to one the package "
    "supports, or pin an older release of the package that still supports this Python; " + _TRY,
    _BUILD,
)

_COLOUR_RE = re.compile(r"(?:\x1b)?\[[0-9;]*m")  # Docker's colour codes, with or without their escape
_LISTED_RE = re.compile(r"\s+-\s+(\S.*?)\s*$")  # conda's list: "  - scikit-learn==0.24.3"
_PIP_MISSING_RE = re.compile(r"(?:satisfies the requirement|No matching distribution found for) (\S+)")
_VERSIONS_RE = re.compile(r"\(from versions: ([^)]*)\)")
# pip: "ERROR: Package 'setuptools' requires a different Python: 3.7.13 not in '>=3.8'"
_PYTHON_RE = re.compile(r"Package '([^']+)' requires a different Python: (\S+) not in '([^']+)'")
_CANNOT_RE = re.compile(r"Cannot install (.*?) because these package versions have conflicting dependencies")
_CONDA = {
    "PackagesNotFoundError": "conda-packages-not-found",
    "ResolvePackageNotFound": "conda-packages-not-found",
    "UnsatisfiableError": "conda-conflict",
}
_EXPLAINED = {
    "conda-packages-not-found": CONDA_NOT_FOUND,
    "conda-conflict": CONDA_CONFLICT,
    "pip-conflict": PIP_CONFLICT,
}


def read_build_log(notes: Notes, lines: list[str]) -> None:
    """Each line of a build log that tells a package conda or pip could not install."""
    listing: str | None = None  # the kind whose packages (or pip's conflict) the next indented lines list
    for raw in lines:
        line = _COLOUR_RE.sub("", raw)
        if not line.strip():
            continue  # conda puts a blank line between its message and its list
        if listing is not None:
            listed = _LISTED_RE.match(line) if listing.startswith("conda") else None
            if listed or (listing == "pip-conflict" and line[:1] in " \t" and line.strip()):
                key = "conflict" if listing == "pip-conflict" else "packages"
                notes.enrich(listing, {key: listed.group(1) if listed else line.strip()})
                continue
        listing = _read_line(notes, line)


def _read_line(notes: Notes, line: str) -> str | None:
    """One line: what it tells, and the kind whose list follows it (None when no list follows)."""
    conda = next((kind for marker, kind in _CONDA.items() if marker in line), None)
    if conda is not None:
        notes.add(conda, _EXPLAINED[conda], line)
        return conda
    missing = _PIP_MISSING_RE.search(line)
    if missing:
        details = {"packages": missing.group(1)}
        versions = _VERSIONS_RE.search(line)
        if versions:
            details["versions found"] = _last(versions.group(1))
        notes.add("pip-version-not-found", PIP_NOT_FOUND, line, details, repeat="No matching" in line)
        return None
    python = _PYTHON_RE.search(line)
    if python:
        package, have, needs = python.groups()
        notes.add("pip-python-version", PIP_PYTHON, line, {"package": package, "python": have, "requires": needs})
        return None
    cannot = _CANNOT_RE.search(line)
    if cannot:
        notes.add("pip-conflict", PIP_CONFLICT, line, {"packages": cannot.group(1).replace(" and ", ", ")})
        return None
    if "The conflict is caused by" in line or "ResolutionImpossible" in line:
        notes.add("pip-conflict", PIP_CONFLICT, line, repeat=True)  # pip's later lines on the conflict it told
        return "pip-conflict" if "The conflict is caused by" in line else None
    return None


def _last(versions: str) -> str:
    """The last few versions pip found (it lists them all): enough to pick one."""
    found = [version.strip() for version in versions.split(",") if version.strip()]
    return ", ".join(found[-5:]) if found else "none"
