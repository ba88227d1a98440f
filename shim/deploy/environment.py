"""The deployment's conda file, read, and compared with what the script and the model need.

Azure ML builds the image from the conda file (conda dependencies, then its ``pip:`` list) and only then
runs ``init()``: a package left out costs a build and a failed deployment. `read_conda_file` reads what the
file declares, and `compare` reports, before ``init()`` runs here:

- each need that no declared package provides, nor anything a declared package installs with it
  (``distributions.brings``), with the pip name to add. When some declared packages are not installed
  here, what they bring is unknown, so the gap is a warning that names them, not an error;
- the inference server itself, when neither azureml-inference-server-http nor azureml-defaults is
  declared and the image is not an Azure ML inference image (those carry the server);
- a model saved with another version of a package than the one the environment pins (a warning: pickles
  often load across versions; Microsoft's own azureml-examples ``cli/endpoints/online/model-1`` pickles a
  scikit-learn 0.24.2 estimator and pins a much newer scikit-learn);
- where this rehearsal is not the container (``fidelity``): another Python, another version of a pinned
  package installed here.
"""

from __future__ import annotations

import importlib
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

from . import distributions
from .distributions import conda_to_pip, distributions_for, is_stdlib, normalise
from .findings import Finding, Level
from .needs import Need

#: Either of these starts the container's server (azureml-defaults requires azureml-inference-server-http).
SERVER = ("azureml-inference-server-http", "azureml-defaults")
#: Packaging tools: a pin of theirs that differs here changes nothing the rehearsal runs.
TOOLS = frozenset({"pip", "setuptools", "wheel"})
#: conda packages that are not Python distributions: not being installed here hides nothing they bring.
CONDA_NOT_PYTHON = frozenset(
    {
        "cudatoolkit", "cuda-toolkit", "cudnn", "nccl", "pytorch-cuda", "cpuonly", "mkl", "blas", "openblas",
        "libgcc", "libgcc-ng", "libstdcxx-ng", "openmpi", "ffmpeg", "git", "ca-certificates", "openssl",
    }
)  # fmt: skip
#: pip list lines that only say where to download from: nothing to declare, nothing unknown.
PIP_INDEX_OPTIONS = ("--index-url", "-i", "--extra-index-url", "--find-links", "-f", "--trusted-host", "--pre",
                     "--no-binary", "--only-binary", "--prefer-binary", "--no-index")  # fmt: skip
#: What scikit-learn says when it unpickles an estimator saved with another version.
VERSION_REMARKS = {"scikit-learn": " (scikit-learn warns InconsistentVersionWarning)"}


class EnvironmentFileError(Exception):
    """The conda file cannot be read: the message is one line that names the file and says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Declared:
    """One package the conda file declares.

    ``name`` is as written (``pytorch``, ``inference-schema``); ``spec`` the version part as written
    (``=1.2.2``, ``==1.53.0``, ``>=1.0``, ``@ https://…``, empty when none); ``pinned`` the exact version
    when the spec is one (``==1.2``, and conda's ``=1.2.3``; conda's ``=1.2`` means 1.2.* and is not a pin).
    """

    name: str
    spec: str
    pinned: str | None
    source: Literal["conda", "pip"]
    #: The extras asked for (``inference-schema[numpy-support]``), normalised.
    extras: tuple[str, ...] = ()


@dataclass
class DeclaredEnvironment:
    """What a conda file declares: Python's version spec, the packages by normalised pip name, and the rest.

    ``unknown`` holds the lines that declare something this reader cannot name: a VCS or URL install, a
    ``-r`` requirements file, an entry that is not a package spec.
    """

    path: Path
    python: str | None = None
    packages: dict[str, Declared] = field(default_factory=dict)
    unknown: list[str] = field(default_factory=list)


# -- reading the conda file -----------------------------------------------------------------------------


def read_conda_file(path: Path) -> DeclaredEnvironment:
    """The conda file's declarations; `EnvironmentFileError` when it is not a conda environment file."""
    return conda_declared(_load(path), path)


def conda_declared(data: Any, path: Path) -> DeclaredEnvironment:
    """The declarations of a conda environment already read (``path`` names where it was written: the
    conda file, or the deployment YAML that holds it inline)."""
    dependencies = _dependencies(path, data)
    declared = DeclaredEnvironment(path=path)
    for item in dependencies:
        if isinstance(item, str):
            _add_conda(declared, item)
        elif isinstance(item, dict) and set(item) == {"pip"}:
            for line in item["pip"] or []:
                _add_pip(declared, line)
        else:
            declared.unknown.append(str(item))
    return declared


def _load(path: Path) -> Any:
    # PyYAML is a dependency of score-shim; imported by name so that its missing stubs do not matter.
    yaml: Any = importlib.import_module("yaml")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise EnvironmentFileError(f"{path}: no such file.") from None
    except (OSError, UnicodeDecodeError) as error:
        raise EnvironmentFileError(f"{path.name} cannot be read ({error}).") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise EnvironmentFileError(f"{path.name} is not valid YAML{where}: {problem}.") from None


def _dependencies(path: Path, data: Any) -> list[Any]:
    if not isinstance(data, dict):
        kind = "empty" if data is None else f"a {type(data).__name__}"
        raise EnvironmentFileError(
            f"{path.name} is not a conda environment file: it is {kind}, not keys such as channels and dependencies."
        )
    dependencies = data.get("dependencies")
    if not isinstance(dependencies, list):
        raise EnvironmentFileError(
            f"{path.name} has no `dependencies` list: a conda environment file lists its packages there."
        )
    return dependencies


_CONDA = re.compile(r"^([A-Za-z0-9_][A-Za-z0-9_.+-]*)\s*(.*)$")


def _add_conda(declared: DeclaredEnvironment, text: str) -> None:
    """``python=3.10``, ``numpy=1.23.5``, ``conda-forge::numpy=1.2``, ``numpy 1.2.3 py_0``, ``scikit-learn>=1.0``."""
    spec = re.sub(r"\[.*\]\s*$", "", text.strip().split("::")[-1]).strip()
    match = _CONDA.match(spec)
    if match is None:
        declared.unknown.append(text)
        return
    name, rest = match.group(1), match.group(2).strip()
    if normalise(name) == "python":
        declared.python = rest or None
        return
    pinned = _conda_pin(rest)
    if rest[:1].isdigit():  # the space-separated form: version, then an optional build string
        rest = rest.split()[0]
    declared.packages[conda_to_pip(name)] = Declared(name, rest, pinned, "conda")


def _conda_pin(rest: str) -> str | None:
    """The exact version a conda spec asks for: ``==1.2``, ``=1.2.3`` (not ``=1.2``), ``1.2.3 py_0``."""
    if rest.startswith("=="):
        version = rest[2:].split("=")[0].strip()
    elif rest.startswith("="):
        version = rest[1:].split("=")[0].strip()
        if version.count(".") < 2:
            return None
    elif rest[:1].isdigit():
        version = rest.split()[0]
    else:
        return None
    return None if re.search(r"[*,|<>!~ ]", version) or not version else version


_PIP = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?\s*(.*)$")
_NOT_A_NAME = re.compile(r"^(?:[a-z]+\+|https?:|file:|\.{0,2}/)|\.(?:whl|zip|tar\.gz)$", re.IGNORECASE)


def _add_pip(declared: DeclaredEnvironment, line: Any) -> None:
    """``name==1.2``, ``name[extra]>=1``, ``name ~= 1.0``, ``name @ url``; index options are skipped."""
    if not isinstance(line, str):
        declared.unknown.append(str(line))
        return
    text = re.sub(r"(^|\s)#.*$", "", line).split(" --")[0].strip()
    if not text or text.startswith(PIP_INDEX_OPTIONS):
        return
    named = _PIP.match(text)
    if named is None or text.startswith("-") or (_NOT_A_NAME.search(text) and not named.group(3).startswith("@")):
        _add_unnamed(declared, line.strip())
        return
    name, extras, rest = named.group(1), named.group(2) or "", named.group(3).split(";")[0].strip()
    wanted = tuple(normalise(extra.strip()) for extra in extras.split(",") if extra.strip())
    pinned = re.fullmatch(r"===?\s*([^\s,*;]+)", rest)
    declared.packages[normalise(name)] = Declared(name, rest, pinned.group(1) if pinned else None, "pip", wanted)


def _add_unnamed(declared: DeclaredEnvironment, line: str) -> None:
    """A VCS or URL install, ``-r`` / ``-e``: named by its ``#egg=`` when it has one, else unknown."""
    egg = re.search(r"#egg=([A-Za-z0-9._-]+)", line)
    if egg is None:
        declared.unknown.append(line)
    else:
        declared.packages[normalise(egg.group(1))] = Declared(egg.group(1), "", None, "pip")


# -- comparing ------------------------------------------------------------------------------------------


def compare(
    declared: DeclaredEnvironment,
    needs: list[Need],
    *,
    python_needed: str | None = None,
    image: str | None = None,
) -> list[Finding]:
    """What the environment lacks for these needs, what differs in version, and where the rehearsal differs."""
    provided, unknown = _provided(declared)
    findings = _missing(declared, needs, provided, unknown + declared.unknown)
    findings += _server(declared, provided, [name for name in unknown if name.startswith("azureml")], image)
    findings += _versions(declared, needs)
    findings += _python(declared, python_needed)
    findings += _local_versions(declared, needs)
    return findings


def candidates(need: Need) -> tuple[str, ...]:
    """The normalised pip names that would satisfy a need, the one to suggest first; none for the stdlib."""
    if need.module is not None and is_stdlib(need.module):
        return ()
    names = [normalise(need.distribution)] if need.distribution else []
    if need.module:
        names += distributions_for(need.module)
    return tuple(dict.fromkeys(names))


def _provided(declared: DeclaredEnvironment) -> tuple[set[str], list[str]]:
    """Every name the declared packages install, and the declared packages whose dependencies are unknown here."""
    provided: set[str] = set()
    unknown: list[str] = []
    for key, package in declared.packages.items():
        provided.add(key)
        brought = distributions.brings(key, extras=package.extras)
        if brought is not None:
            provided |= brought
        elif not (package.source == "conda" and key in CONDA_NOT_PYTHON):
            unknown.append(package.name)
    return provided, unknown


def _missing(declared: DeclaredEnvironment, needs: list[Need], provided: set[str], unknown: list[str]) -> list[Finding]:
    groups: dict[tuple[str, ...], list[Need]] = {}
    for need in needs:
        names = candidates(need)
        if names and not provided.intersection(names):
            groups.setdefault(names, []).append(need)
    merged: dict[str, tuple[tuple[str, ...], list[Need]]] = {}
    for names, group in groups.items():  # one finding per distribution to add
        merged.setdefault(names[0], (names, []))[1].extend(group)
    return [_missing_finding(declared, names, group, unknown) for names, group in merged.values()]


def _missing_finding(
    declared: DeclaredEnvironment, names: tuple[str, ...], group: list[Need], unknown: list[str]
) -> Finding:
    package = names[0]
    versions = {need.version for need in group}
    fix = f"{package}=={versions.pop()}" if len(versions) == 1 and None not in versions else package
    others = f" (or {', '.join(names[1:])})" if len(names) > 1 else ""
    what = _subject(group, package)
    where = f"{_places([need.where for need in group])} {_verb(group)} {what}"
    add = f"add {fix}{others} to {declared.path.name}'s pip list"
    if not unknown:
        message = f"{where}, which the environment does not install: {add}"
        return Finding("error", "environment", message, fix=fix, package=package)
    message = (
        f"{where}, which the environment does not declare; it may come with {_listed(unknown)} (not installed "
        f"here, so what {'they bring' if len(unknown) > 1 else 'it brings'} is unknown): to be sure, {add}"
    )
    return Finding("warning", "environment", message, fix=fix, package=package)


def _server(declared: DeclaredEnvironment, provided: set[str], azureml: list[str], image: str | None) -> list[Finding]:
    """The container's server: declared, brought, or in the image; otherwise the container cannot start.

    Only an azureml-* package not installed here (``azureml``), or a line this reader cannot see into,
    might bring the server along unseen: then it is a warning.
    """
    if provided.intersection(SERVER) or (image is not None and "-inference" in image.lower()):
        return []
    the_image = f"its image {image}" if image else "its image"
    add = f"add {SERVER[0]} to {declared.path.name}'s pip list"
    message = (
        f"the environment installs neither {SERVER[0]} nor {SERVER[1]}, and {the_image} is not an Azure ML "
        f"inference image: the container cannot start without the server: {add}"
    )
    maybe = azureml + declared.unknown
    if maybe:
        message += f" (unless {_listed(maybe)} brings it: not installed here, so unknown)"
        return [Finding("warning", "environment", message, fix=SERVER[0], package=SERVER[0])]
    return [Finding("error", "environment", message, fix=SERVER[0], package=SERVER[0])]


def _versions(declared: DeclaredEnvironment, needs: list[Need]) -> list[Finding]:
    """A model saved with one version of a package, and an environment that asks for another."""
    seen: dict[tuple[str, str], list[str]] = {}
    for need in needs:
        if need.version is None:
            continue
        key = next((name for name in candidates(need) if name in declared.packages), None)
        if key is not None and _allows(declared.packages[key], need.version) is False:
            seen.setdefault((key, need.version), []).append(need.where)
    return [_version_finding(declared.packages[key], key, version, places) for (key, version), places in seen.items()]


def _version_finding(package: Declared, key: str, version: str, places: list[str]) -> Finding:
    wanted = package.pinned or package.spec.lstrip("=")
    asks = f"pins {package.pinned}" if package.pinned else f"asks for {package.name}{package.spec}"
    message = (
        f"{_places(places)} {'was' if len(set(places)) == 1 else 'were'} saved with {key} {version}; the "
        f"environment {asks}: unpickling across versions "
        f"can fail or give different results{VERSION_REMARKS.get(key, '')}; pin {key}=={version} or re-save the "
        f"model with {wanted}"
    )
    return Finding("warning", "environment", message, fix=f"{key}=={version}", package=key)


def _python(declared: DeclaredEnvironment, python_needed: str | None) -> list[Finding]:
    """This Python against the environment's, and the model's Python (MLflow) against the environment's."""
    local = ".".join(str(part) for part in sys.version_info[:3])
    if declared.python is None:
        message = (
            f"{declared.path.name} does not say which Python: the image decides, and the rehearsal (Python "
            f"{local}) cannot tell whether it matches"
        )
        return [Finding("note", "fidelity", message)]
    spec = f"python{declared.python}" if declared.python[:1] in "=<>!~" else f"python {declared.python}"
    findings = []
    level = _python_level(declared.python, local)
    if level is not None:
        message = (
            f"the rehearsal runs Python {local} here; the environment asks for {spec}: on this point the "
            "rehearsal is not faithful"
        )
        findings.append(Finding(level, "fidelity", message))
    if python_needed and _python_level(declared.python, python_needed) == "warning":
        minor = ".".join(python_needed.split(".")[:2])
        message = (
            f"the model was saved with Python {python_needed}; the environment asks for {spec}: a model can fail "
            f"to load under another Python; ask for python={minor} in {declared.path.name}"
        )
        findings.append(Finding("warning", "environment", message, fix=f"python={minor}"))
    return findings


def _local_versions(declared: DeclaredEnvironment, needs: list[Need]) -> list[Finding]:
    """Each pinned package installed here in another version: a warning when the script or model uses it."""
    needed = {name for need in needs for name in candidates(need)}
    findings = []
    for key, package in declared.packages.items():
        local = _installed_version(key)
        if package.pinned is None or key in TOOLS or local is None or _same_version(local, package.pinned):
            continue
        level: Level = "warning" if key in needed and _minor(local) != _minor(package.pinned) else "note"
        message = (
            f"the rehearsal runs {key} {local} here; the environment pins {package.pinned}: on this point the "
            "rehearsal is not faithful"
        )
        findings.append(Finding(level, "fidelity", message, fix=f"pip install {key}=={package.pinned}", package=key))
    return findings


# -- versions ---------------------------------------------------------------------------------------------


def _allows(package: Declared, version: str) -> bool | None:
    """Whether a declared package's spec admits a version: pins and prefixes (``=1.2``, ``==1.2.*``) only."""
    if package.pinned is not None:
        return _same_version(package.pinned, version)
    prefix = re.fullmatch(r"==?\s*([0-9][0-9.]*?)(?:\.?\*)?", package.spec)
    return None if prefix is None else _has_prefix(version, prefix.group(1))


def _python_level(spec: str, version: str) -> Level | None:
    """None when a Python spec admits the version (or cannot be read); ``note`` for another patch release."""
    text = spec.strip().lstrip("=").rstrip("*").rstrip(".")
    if re.fullmatch(r"[0-9][0-9.]*", text):
        if _has_prefix(version, text):
            return None
        return "note" if _minor(version) == _minor(text) else "warning"
    allowed = _specifier_allows(spec, version)
    return None if allowed is not False else "warning"


def _specifier_allows(spec: str, version: str) -> bool | None:
    try:
        from packaging.specifiers import InvalidSpecifier, SpecifierSet
    except ImportError:  # pragma: no cover - see distributions.HAVE_PACKAGING
        return None
    try:
        return SpecifierSet(spec.replace(" ", "")).contains(version, prereleases=True)
    except InvalidSpecifier:
        return None


def _same_version(a: str, b: str) -> bool:
    """``1.7`` and ``1.7.0`` are the same version; ``1.7.0`` and ``1.7.0rc1`` are not."""
    return _trimmed(_parts(a)) == _trimmed(_parts(b)) and _suffix(a) == _suffix(b)


def _has_prefix(version: str, prefix: str) -> bool:
    """Whether ``version`` is in ``prefix``.*: ``1.2.2`` in ``1.2``, ``1.5`` not in ``1.0``."""
    wanted = _parts(prefix)
    have = _parts(version)
    have += (0,) * (len(wanted) - len(have))
    return have[: len(wanted)] == wanted


_RELEASE = re.compile(r"[0-9]+(?:\.[0-9]+)*")


def _parts(version: str) -> tuple[int, ...]:
    match = _RELEASE.match(version.strip())
    return tuple(int(part) for part in match.group(0).split(".")) if match else ()


def _trimmed(parts: tuple[int, ...]) -> tuple[int, ...]:
    while len(parts) > 1 and parts[-1] == 0:
        parts = parts[:-1]
    return parts


def _suffix(version: str) -> str:
    match = _RELEASE.match(version.strip())
    return version.strip()[match.end() :] if match else version


def _minor(version: str) -> tuple[int, ...]:
    return _parts(version)[:2]


def _installed_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except (metadata.PackageNotFoundError, OSError, ValueError):
        return None


# -- words ----------------------------------------------------------------------------------------------


def _places(places: list[str], limit: int = 3) -> str:
    unique = list(dict.fromkeys(places))
    shown = unique[:limit]
    if len(unique) > limit:
        return f"{', '.join(shown)} and {len(unique) - limit} more"
    return _listed(shown)


def _listed(names: Iterable[str]) -> str:
    items = list(names)
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _verb(group: list[Need]) -> str:
    """``imports`` for lines of code (``imports``/``import`` by number), ``needs`` for model files."""
    places = {need.where for need in group}
    if all(".py:" in where for where in places):
        return "imports" if len(places) == 1 else "import"
    return "needs" if len(places) == 1 else "need"


def _subject(group: list[Need], package: str) -> str:
    """The module as written when there is one; their top-level name when several; else the package."""
    modules = list(dict.fromkeys(need.module for need in group if need.module))
    if len(modules) == 1:
        return modules[0]
    tops = list(dict.fromkeys(module.partition(".")[0] for module in modules))
    return tops[0] if len(tops) == 1 else package
