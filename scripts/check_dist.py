"""Check the wheel and the sdist that scripts/package.sh built: what each holds, and what it must not.

    python scripts/check_dist.py dist/

- the wheel: every file of ``shim/`` and ``score_wrappers/`` (``logging.json`` too: every file that is
  not git-ignored, as hatch picks them), nothing else but its ``.dist-info``; the ``score-shim`` command;
  the README as the long description, in Markdown, rendered as PyPI renders it (``twine check`` does
  not render Markdown);
- the sdist: the same files under one ``score_shim-VERSION/`` folder, with the tests and the rest of the
  source, and none of the caches, virtual environments, results or archives a working tree collects.

Prints what it found; exits 1 with the list of problems. Only the standard library, and
``readme_renderer`` (the dev extra) for the README.
"""

from __future__ import annotations

import email.parser
import re
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterable
from email.message import Message
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parent.parent
#: What the wheel installs.
PACKAGES = ("shim", "score_wrappers")
#: What the sdist holds (pyproject.toml's [tool.hatch.build.targets.sdist]); hatch adds .gitignore and PKG-INFO.
SDIST_TOP = (
    *PACKAGES,
    "tests",
    "examples",
    "docker",
    "scripts",
    "benchmarks",
    "docs",
    "README.md",
    "pyproject.toml",
)
SDIST_ADDED = ("PKG-INFO", ".gitignore")
#: Folders a working tree collects, anywhere in a path; and files that are never source.
UNWANTED_DIRS = re.compile(
    r"^(\.venv.*|\.cache|\.hypothesis|\.pytest_cache|\.mypy_cache|\.ruff_cache|__pycache__|\.demo|\.git|\.ci"
    r"|\.vscode|dist|build|.*\.egg-info)$"
)
UNWANTED_FILES = re.compile(r"\.(pyc|pyo|whl|tar\.gz|zip|log)$")
UNWANTED_PREFIXES = ("benchmarks/results/",)
ENTRY_POINT = "score-shim = shim.cli:main"


def unwanted(path: str) -> bool:
    """A path (relative, with /) that no archive should hold."""
    parts = PurePosixPath(path).parts
    return (
        any(UNWANTED_DIRS.match(part) for part in parts[:-1])
        or bool(UNWANTED_FILES.search(path))
        or path.startswith(UNWANTED_PREFIXES)
    )


def source_files(tops: Iterable[str], root: Path = ROOT) -> set[str]:
    """The files under ``tops`` that are not git-ignored (hatch's rule), present on disk, and not unwanted."""
    tops = list(tops)
    try:
        listed = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z", "--", *tops],
            cwd=root,
            capture_output=True,
            check=True,
        ).stdout.decode()
        found = {name for name in listed.split("\0") if name}
    except (OSError, subprocess.CalledProcessError):  # not a git checkout (an unpacked sdist): walk the tree
        found = set()
        for top in tops:
            base = root / top
            paths = [base] if base.is_file() else base.rglob("*")
            found |= {p.relative_to(root).as_posix() for p in paths if p.is_file()}
    return {name for name in found if (root / name).is_file() and not unwanted(name)}


def _metadata(text: str) -> Message:
    return email.parser.Parser().parsestr(text)


def readme_problems(metadata: Message, where: str, readme: str) -> list[str]:
    """The long description is the README, declared as Markdown, and PyPI's renderer renders it."""
    problems = []
    if metadata.get("Description-Content-Type", "").split(";")[0].strip() != "text/markdown":
        problems.append(f"{where}: Description-Content-Type is {metadata.get('Description-Content-Type')!r}")
    body = metadata.get_payload()
    if not isinstance(body, str) or body.strip() != readme.strip():
        problems.append(f"{where}: the long description is not README.md")
        return problems
    try:
        from readme_renderer.markdown import render
    except ImportError:
        return [*problems, "readme_renderer is missing: pip install -e '.[dev]'"]
    if not render(body):
        problems.append(f"{where}: PyPI's Markdown renderer gives nothing (readme_renderer[md] installed?)")
    return problems


def relative_links(readme: str) -> list[str]:
    """Links in the README that point into the repository: they do not resolve on PyPI's page."""
    targets = re.findall(r"\]\(([^)\s]+)\)", readme)
    return sorted({t for t in targets if not re.match(r"^([a-z][a-z0-9+.-]*:|#)", t)})


def check_wheel(path: Path, root: Path = ROOT) -> tuple[list[str], list[str]]:
    """(problems, names) of a wheel."""
    with zipfile.ZipFile(path) as wheel:
        names = [n for n in wheel.namelist() if not n.endswith("/")]
        dist_info = next((n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA")), None)
        if dist_info is None:
            return [f"{path.name}: no .dist-info/METADATA"], names
        metadata = _metadata(wheel.read(f"{dist_info}/METADATA").decode("utf-8"))
        entry_points_txt = f"{dist_info}/entry_points.txt"
        entry_points = wheel.read(entry_points_txt).decode() if entry_points_txt in names else ""
    problems = [f"{path.name}: holds {n}" for n in names if unwanted(n)]
    outside = [n for n in names if n.split("/")[0] not in (*PACKAGES, dist_info)]
    problems += [f"{path.name}: {n} is outside {', '.join(PACKAGES)} and {dist_info}" for n in outside]
    problems += [f"{path.name}: lacks {n}" for n in sorted(source_files(PACKAGES, root) - set(names))]
    if ENTRY_POINT not in entry_points.replace("  ", " "):
        problems.append(f"{path.name}: no console script `{ENTRY_POINT}` in entry_points.txt")
    problems += readme_problems(metadata, path.name, (root / "README.md").read_text(encoding="utf-8"))
    return problems, names


def check_sdist(path: Path, root: Path = ROOT) -> tuple[list[str], list[str]]:
    """(problems, names relative to the sdist's folder) of an sdist."""
    with tarfile.open(path) as sdist:
        members = sdist.getmembers()
        files = [m.name for m in members if m.isfile()]
        links = [m.name for m in members if m.issym() or m.islnk()]
        pkg_info = next((m for m in members if m.name.count("/") == 1 and m.name.endswith("/PKG-INFO")), None)
        pkg_info_file = sdist.extractfile(pkg_info) if pkg_info is not None else None
        metadata = _metadata(pkg_info_file.read().decode("utf-8")) if pkg_info_file is not None else None
    folders = {name.split("/")[0] for name in files}
    if len(folders) != 1:
        return [f"{path.name}: not one top folder: {sorted(folders)}"], files
    top = folders.pop()
    names = [name[len(top) + 1 :] for name in files]
    problems = [f"{path.name}: holds a link {n}" for n in links]
    problems += [f"{path.name}: holds {n}" for n in names if unwanted(n)]
    allowed = (*SDIST_TOP, *SDIST_ADDED)
    problems += [f"{path.name}: {n} is not in the sdist's list" for n in names if n.split("/")[0] not in allowed]
    required = source_files(SDIST_TOP, root) | {"PKG-INFO"}
    problems += [f"{path.name}: lacks {n}" for n in sorted(required - set(names))]
    if metadata is None:
        problems.append(f"{path.name}: no PKG-INFO")
    else:
        readme = (root / "README.md").read_text(encoding="utf-8")
        problems += readme_problems(metadata, f"{path.name} PKG-INFO", readme)
    return problems, names


def _summary(names: Iterable[str]) -> str:
    """``shim/ 83, score_wrappers/ 3, README.md`` : files per top-level entry."""
    counts: dict[str, int] = {}
    for name in names:
        head, _, rest = name.partition("/")
        key = f"{head}/" if rest else head
        counts[key] = counts.get(key, 0) + 1
    return ", ".join(f"{key} {count}" if key.endswith("/") else key for key, count in counts.items())


def main(argv: list[str]) -> int:
    dist = Path(argv[0] if argv else "dist")
    wheels, sdists = sorted(dist.glob("*.whl")), sorted(dist.glob("*.tar.gz"))
    if len(wheels) != 1 or len(sdists) != 1:
        print(f"check_dist: expected one wheel and one sdist in {dist}, found {wheels + sdists}", file=sys.stderr)
        return 1
    problems = []
    for path, check in ((wheels[0], check_wheel), (sdists[0], check_sdist)):
        found, names = check(path)
        problems += found
        print(f"   {path.name}: {path.stat().st_size / 1024:.0f} KiB, {len(names)} files: {_summary(sorted(names))}")
    if problems:
        print("check_dist: " + "\n  ".join(["the archives are not right:", *problems]), file=sys.stderr)
        return 1
    print("   both hold every source file and no cache, environment or result; the README renders as on PyPI")
    links = relative_links((ROOT / "README.md").read_text(encoding="utf-8"))
    if links:
        print(f"   note: README links that PyPI's page cannot follow (relative): {', '.join(links)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
