"""``score-shim bundle``: the shim and its runtime dependencies inside the deployment's code folder.

Many users cannot add a package to their Azure ML image (score-shim is not on PyPI, and rebuilding the
image is the slowest step of a deployment). Whatever is in the code folder is uploaded with every
deployment, though, so ``bundle`` puts there all that the worker needs at run time:

- ``_score_shim/``: the runtime parts of ``shim`` (never ``cli``, ``logs`` or ``deploy``: the worker
  never imports them, and they would pull in click), ``score_wrappers``, and the pure-Python
  distributions the runtime imports (structlog, and typing_extensions, which structlog needs on Python
  before 3.11: the container's Python may be older than this one), each with its ``.dist-info`` so that
  ``importlib.metadata`` finds it and its licence travels with it; ``BUNDLE.json`` says what is in it.
- ``score_shim_entry.py``: the deployment's new scoring script, a few generated lines that name the
  user's script, append ``_score_shim`` to ``sys.path`` (appended: what the environment already has wins)
  and import the drop-in entry.

The deployment changes only ``code_configuration.scoring_script``. Nothing is written until every input
has been checked; a second run replaces the bundle in place, and a ``score_shim_entry.py`` that
``bundle`` did not write is never overwritten.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from .._version import __version__

FOLDER = "_score_shim"
ENTRY = "score_shim_entry.py"
MANIFEST = "BUNDLE.json"
#: The first words of every entry file that ``bundle`` writes: a file without them is the user's own.
MARKER = "# Written by `score-shim bundle`"
#: The parts of the ``shim`` package that run in the worker (``tests/test_layout.py`` keeps them free of the rest).
SHIM_PARTS = ("__init__.py", "_version.py", "settings.py", "stream", "models", "runtime")
#: Importable name of each distribution the runtime needs besides the standard library.
DEPENDENCIES = ("structlog", "typing_extensions")
_NOT_COPIED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo")
_COMPILED = (".so", ".pyd", ".dylib")


class BundleError(Exception):
    """The bundle cannot be written; the message says what to fix. ``code`` 2: the input; 1: anything else."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class BundleOptions:
    code_dir: Path
    #: The deployment's scoring script until now, relative to ``code_dir`` (or absolute, inside it).
    scoring_script: str = "score.py"


@dataclass(frozen=True)
class BundleResult:
    code_dir: Path
    #: The code folder as the user named it, for messages.
    shown: Path
    #: The user's script, relative to ``code_dir``, with ``/`` (as the deployment YAML names it).
    script: str
    version: str
    #: Bundled distribution -> its version (score-shim itself is ``version``).
    distributions: dict[str, str]
    size_bytes: int
    files: int
    #: The version of the bundle that was there before (None: there was none).
    previous: str | None
    warnings: list[str] = field(default_factory=list)

    @property
    def folder(self) -> Path:
        return self.code_dir / FOLDER

    @property
    def entry(self) -> Path:
        return self.code_dir / ENTRY


def bundle(options: BundleOptions) -> BundleResult:
    """Check the input, then write ``_score_shim/`` (replaced whole) and ``score_shim_entry.py``."""
    code_dir = _code_folder(options.code_dir)
    script = _script_in(code_dir, options.scoring_script)
    previous = _previous_bundle(code_dir)
    sources = _sources()
    try:
        built = Path(tempfile.mkdtemp(prefix=f"{FOLDER}.new-", dir=code_dir))
        _as_if_made_plainly(built, 0o777)
        try:
            distributions = _build(built, sources, script)
            _swap(built, code_dir / FOLDER)
        finally:
            shutil.rmtree(built, ignore_errors=True)
        _write_atomically(code_dir / ENTRY, entry_text(script))
    except OSError as error:
        raise BundleError(f"cannot write the bundle into {options.code_dir}: {error}", code=1) from None
    size, files = _size(code_dir / FOLDER)
    size += (code_dir / ENTRY).stat().st_size
    warnings = _missing_dependencies(sources) + upload_warnings(code_dir, options.code_dir)
    return BundleResult(
        code_dir, options.code_dir, script, __version__, distributions, size, files + 1, previous, warnings
    )


def _code_folder(given: Path) -> Path:
    """The code folder, absolute; it must exist and be a folder (the deployment's ``code_configuration.code``)."""
    if not given.exists():
        raise BundleError(f"{given}: no such folder. Give the deployment's code folder (code_configuration.code).")
    if not given.is_dir():
        raise BundleError(
            f"{given} is a file: give the folder that holds it (the deployment's code_configuration.code)."
        )
    return Path(os.path.abspath(given))


def _script_in(code_dir: Path, given: str) -> str:
    """The user's scoring script as the YAML names it (relative, with ``/``), checked before anything is written.

    Compared by name, not through symlinks: ``../score.py`` is outside the folder whatever it points at, and
    Azure ML uploads only the code folder.
    """
    raw = Path(given)
    path = Path(os.path.normpath(raw if raw.is_absolute() else code_dir / raw))
    try:
        relative = path.relative_to(code_dir).as_posix()
    except ValueError:
        raise BundleError(
            f"--scoring-script {given} is outside {code_dir}: the scoring script must be in the code folder, "
            "which is all that Azure ML uploads."
        ) from None
    if relative == ENTRY or relative.split("/")[0] == FOLDER:
        raise BundleError(
            f"--scoring-script {given} is the bundle's own file: name your original scoring script (e.g. score.py)."
        )
    if path.suffix != ".py":
        raise BundleError(f"--scoring-script {given} is not a .py file: name your scoring script (e.g. score.py).")
    if not path.is_file():
        scripts = sorted(p.name for p in code_dir.glob("*.py") if p.name != ENTRY)
        held = f" It holds: {', '.join(scripts[:10])}." if scripts else " It holds no .py file."
        raise BundleError(f"--scoring-script {given}: no such file in {code_dir}.{held}")
    return relative


def _previous_bundle(code_dir: Path) -> str | None:
    """The version of the bundle already there (``"unknown"`` if it says none), or None; refuses what is not ours."""
    entry, folder = code_dir / ENTRY, code_dir / FOLDER
    entry_version = _entry_version(entry) if entry.exists() else None
    if entry.exists() and entry_version is None:
        raise BundleError(
            f"{entry} exists and was not written by score-shim bundle: it is left as it is. "
            "Rename it (or move it away) and run bundle again."
        )
    manifest_version = _manifest_version(folder / MANIFEST)
    if folder.exists() and manifest_version is None and entry_version is None:
        raise BundleError(
            f"{folder} exists and is not a score-shim bundle (it has no {MANIFEST}): it is left as it is. "
            "Rename it (or move it away) and run bundle again."
        )
    return manifest_version or entry_version


def _entry_version(entry: Path) -> str | None:
    """The score-shim version named in an entry file that ``bundle`` wrote; None for anyone else's file."""
    try:
        first = entry.read_text(encoding="utf-8", errors="replace").splitlines()[:1]
    except OSError:
        return None
    if not first or not first[0].startswith(MARKER):
        return None
    found = re.search(r"\(score-shim ([^)\s]+)\)", first[0])
    return found.group(1) if found else "unknown"


def _manifest_version(path: Path) -> str | None:
    try:
        value = json.loads(path.read_text(encoding="utf-8")).get("score_shim")
    except (OSError, ValueError, AttributeError):
        return None
    return str(value) if value else "unknown"


@dataclass(frozen=True)
class _Source:
    """One thing to copy: ``path`` (a file or a folder) into ``target`` (relative to the bundle folder)."""

    path: Path
    target: str
    #: The distribution it belongs to, and that distribution's version (None: part of score-shim).
    distribution: str | None = None
    version: str | None = None


def _sources() -> list[_Source]:
    """What goes into the bundle, read from this Python's own installation (the one running score-shim)."""
    import score_wrappers

    shim_root = Path(__file__).resolve().parent.parent  # shim/cli/bundle.py: the package this code is part of
    sources = [_Source(shim_root / part, f"shim/{part}") for part in SHIM_PARTS]
    sources.append(_Source(Path(score_wrappers.__file__).resolve().parent, "score_wrappers"))
    for name in DEPENDENCIES:
        sources.extend(_distribution_sources(name))
    return sources


def _distribution_sources(module: str) -> list[_Source]:
    """An installed distribution's package (a folder or a single module file) and its ``.dist-info`` folder.

    Empty when it is not installed here (typing_extensions on Python 3.11+: the caller warns). Compiled
    files are refused: the container's Python and platform may not be this one's.
    """
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        return []
    locations = list(spec.submodule_search_locations or [])
    code = Path(locations[0]) if locations else Path(spec.origin)
    try:
        dist = metadata.distribution(module)
    except metadata.PackageNotFoundError:
        raise BundleError(
            f"{module} is importable ({code}) but not installed as a distribution: reinstall it.", 1
        ) from None
    name, version = dist.metadata["Name"], dist.version
    wanted = f"{re.sub(r'[-_.]+', '_', name)}-{version}.dist-info".lower()
    infos = [p for p in code.parent.glob("*.dist-info") if p.name.lower() == wanted]
    if len(infos) != 1:
        raise BundleError(f"cannot find {name} {version}'s .dist-info beside {code}: reinstall {name}.", code=1)
    if code.is_dir() and any(p.suffix in _COMPILED for p in code.rglob("*")):
        raise BundleError(f"{name} {version} here is compiled ({code}): the bundle takes pure-Python code only.", 1)
    return [_Source(code, code.name, name, version), _Source(infos[0], infos[0].name, name, version)]


def _missing_dependencies(sources: list[_Source]) -> list[str]:
    found = {source.distribution.lower().replace("-", "_") for source in sources if source.distribution}
    return [
        f"{name} is not installed in this Python, so it is not in the bundle: the container's Python must have it "
        f"(structlog needs typing_extensions before Python 3.11). pip install {name} and run bundle again to add it."
        for name in DEPENDENCIES
        if name.lower() not in found
    ]


def _build(folder: Path, sources: list[_Source], script: str) -> dict[str, str]:
    """Copy every source into ``folder`` (caches left out) and write its ``BUNDLE.json``; the distributions."""
    for source in sources:
        target = folder / source.target
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.path.is_dir():
            shutil.copytree(source.path, target, ignore=_NOT_COPIED)
        else:
            shutil.copy2(source.path, target)
    distributions = {s.distribution: s.version for s in sources if s.distribution and s.version}
    manifest = {
        "score_shim": __version__,
        "scoring_script": script,
        "entry": ENTRY,
        "distributions": distributions,
        "written_by": "score-shim bundle",
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return distributions


def _swap(built: Path, folder: Path) -> None:
    """Put the new bundle in place with renames only: the folder is always a whole bundle, old or new.

    A non-empty folder cannot be renamed onto another, so the old one is moved aside first (and back if
    the second rename fails), then removed.
    """
    aside = None
    if folder.exists():
        aside = Path(tempfile.mkdtemp(prefix=f"{FOLDER}.old-", dir=folder.parent))
        aside.rmdir()
        os.rename(folder, aside)
    try:
        os.rename(built, folder)
    except OSError:
        if aside is not None:
            os.rename(aside, folder)
        raise
    if aside is not None:
        shutil.rmtree(aside, ignore_errors=True)


def entry_text(script: str) -> str:
    """The generated scoring script: it names the user's script and imports the bundled drop-in entry.

    ``setdefault``: a ``SCORE_SHIM_ENTRY_SCRIPT`` set in the deployment wins. The path is made absolute
    from this file's own place, wherever the server's working directory and ``AML_APP_ROOT`` are. The
    folder is appended to ``sys.path``, so the environment's own structlog (or an installed score-shim)
    is used when it has one. Nothing else is defined (above all no ``driver_module``).
    """
    parts = ", ".join(json.dumps(part) for part in script.split("/"))
    shown = json.dumps(script)[1:-1]  # in the comments: a newline in a file name must not start a line of code
    return f"""{MARKER} (score-shim {__version__}): the deployment's scoring script, in place of {shown}.
# It runs {shown} through score-shim, which is bundled in {FOLDER}/ beside this file; `score-shim bundle`
# rewrites both, so do not edit them. To remove: delete {FOLDER}/ and this file, and set
# code_configuration.scoring_script back to {shown} in the deployment YAML.
import os
import sys

_here = os.path.dirname(os.path.abspath(__file__))
os.environ.setdefault("SCORE_SHIM_ENTRY_SCRIPT", os.path.join(_here, {parts}))
_bundle = os.path.join(_here, "{FOLDER}")
if _bundle not in sys.path:
    sys.path.append(_bundle)  # appended: packages the environment already has come first

from score_wrappers.entry import init, run  # noqa: E402, F401
"""


def _write_atomically(path: Path, text: str) -> None:
    """Write beside ``path`` and rename over it: a crash leaves the old file or the new, never half of one."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        _as_if_made_plainly(Path(temporary), 0o666)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _as_if_made_plainly(path: Path, mode: int) -> None:
    """The permissions ``mkdir``/``open`` would have given (``tempfile`` makes them private, 0700/0600).

    A private bundle breaks where the server runs as another user than the one who bundled, e.g. a code
    folder mounted into a local container.
    """
    umask = os.umask(0)
    os.umask(umask)
    path.chmod(mode & ~umask)


def _size(folder: Path) -> tuple[int, int]:
    files = [p for p in folder.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files), len(files)


def upload_warnings(code_dir: Path, shown: Path) -> list[str]:
    """What the code folder's ``.amlignore``/``.gitignore`` would leave out of the upload, of the bundle's files.

    ``az ml`` tests each file against it (``shim.deploy.uploads``); a bundle without its entry, its folder or
    some of its files makes the deployment crash at start-up, so say which and how to keep them.
    """
    from ..deploy.uploads import excluded_by, ignore_file

    found = ignore_file(code_dir)
    if found is None:
        return []
    excluded, _ = excluded_by(code_dir, str(shown))
    ignore = f"{shown}/{found.name}"
    if excluded is None:
        return [
            f"{ignore} leaves matching files out of the upload, and without azure-ai-ml (pip install "
            f"azure-ai-ml) bundle cannot tell whether it matches {FOLDER}/ or {ENTRY}: check that it does not."
        ]
    paths = [code_dir / ENTRY, *sorted(p for p in (code_dir / FOLDER).rglob("*") if p.is_file())]
    left_out = [p.relative_to(code_dir).as_posix() for p in paths if excluded(p)]
    if not left_out:
        return []
    listed = ", ".join(left_out[:5]) + (f" and {len(left_out) - 5} more" if len(left_out) > 5 else "")
    return [
        f"{ignore} leaves {len(left_out)} file(s) of the bundle out of the upload ({listed}), so the deployment "
        f"would fail to start: add these two lines at its end: !{FOLDER}  and  !{ENTRY}"
    ]


def yaml_change(result: BundleResult) -> str:
    """The deployment YAML's ``code_configuration`` block after the change (only ``scoring_script`` differs)."""
    code = result.shown.as_posix()
    if not result.shown.is_absolute() and not code.startswith("."):
        code = f"./{code}"
    if not re.fullmatch(r"[\w./-]+", code):
        code = json.dumps(code)  # a YAML double-quoted scalar
    return f"code_configuration:\n  code: {code}  # unchanged\n  scoring_script: {ENTRY}  # was {result.script}\n"


def render(result: BundleResult) -> str:
    """What ``bundle`` prints: what it did, the YAML change to make, and how to undo it."""
    shown = result.shown.as_posix()
    folder, entry = f"{shown}/{FOLDER}", f"{shown}/{ENTRY}"
    bundled = ", ".join(f"{name} {version}" for name, version in result.distributions.items())
    if result.previous is None:
        did = f"bundled score-shim {result.version} into {folder}/"
    elif result.previous == result.version:
        did = f"updated the score-shim {result.version} bundle in {folder}/ in place"
    else:
        did = f"replaced the score-shim {result.previous} bundle with {result.version} in {folder}/"
    lines = [
        f"{did} ({_human(result.size_bytes)} in {result.files} files, with {bundled})",
        f"wrote {entry}: the new scoring script, which runs {result.script} through the shim",
        "",
        "In the deployment YAML, change the scoring script (nothing else; the environment stays as it is):",
        "",
        yaml_change(result),
        f"To remove: delete {folder} and {entry} and set scoring_script back to {result.script}.",
    ]
    return "\n".join(lines) + "\n"


def _human(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB" if size >= 1_000_000 else f"{size / 1000:.0f} kB"
