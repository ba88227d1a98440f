"""Which pip distribution provides an import, and what a distribution installs with it.

``import sklearn`` needs ``scikit-learn``, ``import cv2`` one of four OpenCV wheels, ``import
azure.storage.blob`` one package of the ``azure`` namespace: the import name says little about the line
to add to a conda file. `distributions_for` answers from a documented table first (the names people get
wrong, each with its source), then from what is installed here (``importlib.metadata``), then by guessing
the import name itself. `brings` answers the other question a conda file raises: ``scikit-learn`` is
declared, is ``numpy`` there too? It reads the installed metadata's ``Requires-Dist``, so it knows only
what is installed here, and says so (None) otherwise.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from functools import lru_cache
from importlib import metadata

try:
    from packaging.markers import InvalidMarker, Marker, UndefinedComparison, UndefinedEnvironmentName
    from packaging.requirements import InvalidRequirement, Requirement

    HAVE_PACKAGING = True
except ImportError:  # pragma: no cover - packaging comes with nearly every environment (pip vendors its own)
    HAVE_PACKAGING = False

from ..models.pip_names import TABLE as TABLE  # the table lives with the init-failure diagnosis, which reads it too
from ..models.pip_names import from_table
from ..models.pip_names import guess as _guess
from ..models.pip_names import normalise as normalise

#: conda package names that differ from the pip name of the same project (conda-forge and the pytorch
#: channel's recipes). Everything else is assumed to carry its pip name.
CONDA_TO_PIP: dict[str, str] = {
    # pytorch channel: `pytorch` (plus the variants conda-forge had) is pip's `torch`
    "pytorch": "torch",
    "pytorch-cpu": "torch",
    "pytorch-gpu": "torch",
    # conda-forge xgboost-feedstock: the Python package is `py-xgboost` (`xgboost` is a metapackage of it)
    "py-xgboost": "xgboost",
    "py-xgboost-cpu": "xgboost",
    "py-xgboost-gpu": "xgboost",
    # conda-forge opencv-feedstock: `opencv` / `py-opencv` provide `cv2`
    "opencv": "opencv-python",
    "py-opencv": "opencv-python",
    # conda-forge tensorflow-feedstock: `tensorflow-base` holds the Python package
    "tensorflow-base": "tensorflow",
    # conda-forge matplotlib-feedstock: `matplotlib-base` is matplotlib without a GUI toolkit
    "matplotlib-base": "matplotlib",
    # conda-forge: `msgpack-python`, `pytables` and `python-graphviz` are pip's msgpack, tables, graphviz
    "msgpack-python": "msgpack",
    "pytables": "tables",
    "python-graphviz": "graphviz",
}

#: Top-level names that are never a distribution to install.
#: What the Azure ML metapackages that conda files name (and few machines have installed) require, read
#: from their published wheels' METADATA: azureml-defaults 1.53.0 and 1.62.0, azureml-dataset-runtime
#: 1.62.0, azureml-dataprep 5.5.0, azureml-core 1.61.0. Without it, every package a script imports would
#: only "maybe" be missing from Microsoft's own example environments, which all declare azureml-defaults.
PUBLISHED_REQUIRES: dict[str, tuple[str, ...]] = {
    "azureml-defaults": ("azureml-inference-server-http", "azureml-core", "azureml-dataset-runtime[fuse]"),
    "azureml-dataset-runtime": ("azureml-dataprep", "pyarrow", "numpy", 'fusepy; extra == "fuse"'),
    "azureml-dataprep": (
        "azureml-dataprep-native", "azureml-dataprep-rslex", "cloudpickle", "azure-identity", "jsonschema",
        "pyyaml", "pip",
    ),
    "azureml-core": (
        "pytz", "backports.tempfile", "pathspec", "requests[socks]", "msal", "msal-extensions", "knack",
        "azure-core", "pkginfo", "argcomplete", "humanfriendly", "paramiko", "azure-mgmt-resource",
        "azure-mgmt-containerregistry", "azure-mgmt-storage", "azure-mgmt-keyvault", "azure-mgmt-authorization",
        "azure-mgmt-network", "azure-graphrbac", "azure-common", "msrest", "msrestazure", "urllib3", "packaging",
        "python-dateutil", "ndg-httpsclient", "SecretStorage", "jsonpickle", "contextlib2", "docker", "PyJWT",
        "adal", "pyopenssl", "jmespath",
    ),
}  # fmt: skip

NOT_PACKAGES = frozenset({"__future__", "__main__", "builtins"})


def conda_to_pip(name: str) -> str:
    """The pip name of a conda package (``pytorch`` → ``torch``), normalised; most names are the same."""
    key = normalise(name)
    return CONDA_TO_PIP.get(key, key)


def is_stdlib(module: str) -> bool:
    """Whether the top-level name of a dotted module is the standard library's (or never a package)."""
    top = module.partition(".")[0]
    return top in sys.stdlib_module_names or top in NOT_PACKAGES


def distributions_for(module: str) -> tuple[str, ...]:
    """The normalised pip names that provide a dotted module, the first being the one to suggest.

    The table's names first, then those installed here that provide it, then (when neither knows)
    the import name itself as a guess. Never empty.
    """
    found = _from_table(module) + _installed_providers(module)
    return tuple(dict.fromkeys(found)) or (_guess(module),)


def brings(distribution: str, *, extras: Iterable[str] = ()) -> set[str] | None:
    """The normalised names a distribution installs with it (its ``Requires-Dist``, transitively).

    Read from the metadata installed here, with environment markers evaluated here and the requested
    ``extras`` applied to the distribution itself, or from `PUBLISHED_REQUIRES`. None when the distribution
    is neither installed here nor in that table: what it brings is then unknown. A requirement that is
    not installed here is counted, but what *it* brings is not.
    """
    found = _closure(normalise(distribution), frozenset(normalise(extra) for extra in extras))
    return None if found is None else set(found)


# -- the module's providers -----------------------------------------------------------------------------


def _from_table(module: str) -> tuple[str, ...]:
    return from_table(module)


def _installed_providers(module: str) -> tuple[str, ...]:
    """Distributions installed here that provide the module; for a namespace, the one holding its path."""
    top = module.partition(".")[0]
    candidates = _top_level_map().get(top, ())
    if len(candidates) <= 1:
        return candidates
    parts = module.split(".")
    if len(parts) == 1:
        return candidates
    for depth in range(len(parts), 1, -1):
        prefix = "/".join(parts[:depth])
        holders = tuple(name for name in candidates if _holds(name, prefix))
        if holders:
            return holders
    return ()  # a part of a namespace that nothing installed here holds: the guess names it


def _holds(distribution: str, prefix: str) -> bool:
    files = _files(distribution)
    return f"{prefix}.py" in files or f"{prefix}/__init__.py" in files  # a namespace folder is no one's


@lru_cache(maxsize=1)
def _top_level_map() -> dict[str, tuple[str, ...]]:
    try:
        mapping = metadata.packages_distributions()
    except Exception:  # a broken installed distribution must not break the rehearsal
        return {}
    return {top: tuple(dict.fromkeys(normalise(name) for name in names)) for top, names in mapping.items()}


@lru_cache(maxsize=512)
def _files(distribution: str) -> frozenset[str]:
    try:
        return frozenset(file.as_posix() for file in metadata.distribution(distribution).files or ())
    except (metadata.PackageNotFoundError, OSError, ValueError):
        return frozenset()


# -- what a distribution brings ---------------------------------------------------------------------------


@lru_cache(maxsize=1024)
def _closure(root: str, extras: frozenset[str]) -> frozenset[str] | None:
    if _requires(root) is None:
        return None
    found: set[str] = set()
    pending = [(root, extras)]
    visited: set[tuple[str, frozenset[str]]] = set()
    while pending:
        name, wanted = pending.pop()
        if (name, wanted) in visited:
            continue
        visited.add((name, wanted))
        for required, required_extras in _applicable(name, wanted):
            found.add(required)
            pending.append((required, required_extras))
    found.discard(root)
    return frozenset(found)


@lru_cache(maxsize=2048)
def _requires(distribution: str) -> tuple[str, ...] | None:
    """The ``Requires-Dist`` lines of an installed distribution; None when it is not installed here."""
    try:
        return tuple(metadata.distribution(distribution).requires or ())
    except (metadata.PackageNotFoundError, OSError, ValueError):
        return PUBLISHED_REQUIRES.get(distribution)


def _applicable(distribution: str, extras: frozenset[str]) -> list[tuple[str, frozenset[str]]]:
    """The requirements that apply here, with the extras the distribution asked of each."""
    out = []
    for line in _requires(distribution) or ():
        parsed = _parse(line, extras)
        if parsed is not None:
            out.append(parsed)
    return out


_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?[^;]*(?:;(.*))?$")


def _parse(line: str, extras: frozenset[str]) -> tuple[str, frozenset[str]] | None:
    """A requirement's name and extras when its marker holds here (for the requested extras), else None."""
    if HAVE_PACKAGING:
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            return None
        marker = requirement.marker
        if marker is not None and not any(_evaluate(marker, extra) for extra in (*extras, "")):
            return None
        return normalise(requirement.name), frozenset(normalise(e) for e in requirement.extras)
    return _parse_without_packaging(line, extras)


def _evaluate(marker: Marker, extra: str) -> bool:
    try:
        return marker.evaluate({"extra": extra})
    except (InvalidMarker, UndefinedComparison, UndefinedEnvironmentName):
        return False


def _parse_without_packaging(line: str, extras: frozenset[str]) -> tuple[str, frozenset[str]] | None:
    """The same, approximately: a marker naming an extra applies when that extra was asked; others apply."""
    match = _REQUIREMENT.match(line)
    if match is None:
        return None
    name, wanted, marker = match.groups()
    if marker and "extra" in marker:
        named = {normalise(value) for value in re.findall(r"""extra\s*==\s*['"]([^'"]+)['"]""", marker)}
        if not named & extras:
            return None
    return normalise(name), frozenset(normalise(e.strip()) for e in (wanted or "").split(",") if e.strip())
