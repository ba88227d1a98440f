"""What the model files need from the environment, read from the files without loading them.

``init()`` loads the model with ``joblib.load`` / ``pickle.load`` (which import every module the pickle
names) or ``mlflow.pyfunc.load_model`` (which wants the libraries and the Python the MLflow model was
saved with). `model_needs` walks the model as it is laid out for the deployment and turns each pickle's
modules (`scan_pickle`, no code run) and an MLflow model's ``MLmodel``, ``requirements.txt`` and
``conda.yaml`` into `Need`s, for ``environment.compare`` to check against the conda file. Files that
cannot be read to the end, and Git LFS pointers committed instead of the model, become `Finding`s.

The walk is bounded (files, depth, seconds), skips hidden folders such as ``.git``, and never raises for
what it finds on disk.
"""

from __future__ import annotations

import os
import re
import sys
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from time import perf_counter
from typing import Any

from .findings import Finding
from .needs import ModelNeeds, Need
from .pickle_scan import LFS_FIX, is_git_lfs_pointer, lfs_pointer_size, looks_like_pickle, scan_pickle, size_in_words

#: Bounds of the walk and of the scans.
MAX_FILES = 2_000
MAX_DEPTH = 8
FILE_SECONDS = 10.0
TOTAL_SECONDS = 60.0
#: The largest MLmodel / requirements / conda file read (they are a few hundred bytes).
MAX_TEXT_BYTES = 1 << 20
HEAD_BYTES = 512

PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib", ".sav", ".pck", ".pcl")
#: joblib picks its compressor by these extensions (``model.pkl.gz``); ``.z`` alone is its zlib default.
COMPRESSED_SUFFIXES = (".gz", ".z", ".bz2", ".xz", ".lzma", ".lz4")
#: Names a pickle references that no package provides: Python 2's names for builtins and ``copyreg``.
NOT_PACKAGES = frozenset({"__builtin__", "copy_reg", "exceptions", "_reconstructor"})
#: MLflow flavour keys that record the library version the model was saved with: (module, distribution).
MLFLOW_VERSION_KEYS: dict[str, tuple[str, str]] = {
    "sklearn_version": ("sklearn", "scikit-learn"),
    "xgb_version": ("xgboost", "xgboost"),
    "lgb_version": ("lightgbm", "lightgbm"),
    "catboost_version": ("catboost", "catboost"),
    "pytorch_version": ("torch", "torch"),
    "keras_version": ("keras", "keras"),
    "transformers_version": ("transformers", "transformers"),
    "statsmodels_version": ("statsmodels", "statsmodels"),
    "prophet_version": ("prophet", "prophet"),
    "spacy_version": ("spacy", "spacy"),
    "onnx_version": ("onnx", "onnx"),
    "pyspark_version": ("pyspark", "pyspark"),
    "h2o_version": ("h2o", "h2o"),
    "fastai_version": ("fastai", "fastai"),
}

_REQUIREMENT = re.compile(r"([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(?:\[[^\]]*\])?\s*(.*)")
_EXACT = re.compile(r"===?\s*([A-Za-z0-9][A-Za-z0-9.+!_-]*)")
_PYTHON = re.compile(r"python\s*(?:==?|>=|~=)?\s*(\d+(?:\.\d+)*)")


@dataclass(frozen=True)
class _File:
    path: Path
    shown: str
    head: bytes


def model_needs(root: Path, *, shown_as: str) -> ModelNeeds:
    """The needs of the model folder (or single file) ``root``, named ``shown_as/...`` in messages."""
    found = ModelNeeds()
    files, cut = _walk(root, shown_as, found)
    if cut:
        found.findings.append(
            Finding(
                "warning",
                "model",
                f"{shown_as} has more than {MAX_FILES:,} files or is more than {MAX_DEPTH} folders deep: "
                f"only the first {MAX_FILES:,} were checked for what they need.",
            )
        )
    deadline = perf_counter() + TOTAL_SECONDS
    skipped: list[str] = []
    for file in files:
        if is_git_lfs_pointer(file.head):
            found.findings.append(_lfs_finding(file))
        elif file.path.name == "MLmodel":
            _mlflow(file, found)
        elif _is_pickle(file):
            remaining = deadline - perf_counter()
            if remaining <= 0:
                skipped.append(file.shown)
                continue
            _pickle(file, found, min(FILE_SECONDS, remaining))
    if skipped:
        found.findings.append(
            Finding(
                "warning",
                "model",
                f"{len(skipped)} model file(s) were not scanned for the modules they need (the scan stops after "
                f"{TOTAL_SECONDS:g} s): {', '.join(skipped[:3])}{' ...' if len(skipped) > 3 else ''}",
            )
        )
    return found


# -- the walk -----------------------------------------------------------------------------------------


def _walk(root: Path, shown_as: str, found: ModelNeeds) -> tuple[list[_File], bool]:
    """The files under ``root``, breadth first and sorted by name, with their first bytes; and whether the
    walk was cut short. Hidden entries and ``__pycache__`` are skipped, symlinked folders not followed."""
    if root.is_file():
        shown = shown_as if Path(shown_as).name == root.name else f"{shown_as}/{root.name}"
        return [_File(root, shown, _head(root, shown, found))], False
    if not root.is_dir():
        found.findings.append(
            Finding("warning", "model", f"{shown_as} does not exist: what the model needs was not read.")
        )
        return [], False
    files: list[_File] = []
    cut = False
    queue: deque[tuple[Path, str, int]] = deque([(root, shown_as, 0)])
    while queue:
        folder, shown, depth = queue.popleft()
        try:
            with os.scandir(folder) as listing:
                entries = sorted(listing, key=lambda entry: entry.name)
        except OSError:
            continue
        for entry in entries:
            if entry.name.startswith(".") or entry.name == "__pycache__":
                continue
            entry_shown = f"{shown}/{entry.name}"
            try:
                if entry.is_dir(follow_symlinks=False):
                    if depth + 1 >= MAX_DEPTH:
                        cut = True
                        continue
                    queue.append((Path(entry.path), entry_shown, depth + 1))
                elif entry.is_file():
                    if len(files) >= MAX_FILES:
                        return files, True
                    path = Path(entry.path)
                    files.append(_File(path, entry_shown, _head(path, entry_shown, found)))
            except OSError:
                continue
    return files, cut


def _head(path: Path, shown: str, found: ModelNeeds) -> bytes:
    try:
        with open(path, "rb") as file:
            return file.read(HEAD_BYTES)
    except OSError as error:
        found.findings.append(
            Finding("warning", "model", f"{shown} cannot be read ({error.strerror or error}): it was not checked.")
        )
        return b""


def _is_pickle(file: _File) -> bool:
    """By name (``model.pkl``, ``model.joblib.gz``, joblib's ``model.z``), or by a pickle's first bytes."""
    name = file.path.name.lower()
    if name.endswith(".z"):
        return True
    for suffix in COMPRESSED_SUFFIXES:
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    return name.endswith(PICKLE_SUFFIXES) or looks_like_pickle(file.head)


# -- pickles ------------------------------------------------------------------------------------------


def _pickle(file: _File, found: ModelNeeds, seconds: float) -> None:
    scan = scan_pickle(file.path, max_seconds=seconds)
    for module in sorted(scan.modules):
        if module.split(".")[0] == "__main__":
            found.findings.append(_main_finding(file))
        elif not _not_a_package(module):
            found.needs.append(Need(module=module, where=file.shown))
    if scan.sklearn_version is not None:
        found.needs.append(
            Need(module="sklearn", where=file.shown, distribution="scikit-learn", version=scan.sklearn_version)
        )
    if not scan.complete:
        then = "it may need more packages than those found" if scan.modules else "what it needs was not read"
        found.findings.append(Finding("warning", "model", f"{file.shown}: {scan.problem}; {then}."))


def _not_a_package(module: str) -> bool:
    top = module.split(".")[0]
    return top in sys.stdlib_module_names or top in NOT_PACKAGES


def _main_finding(file: _File) -> Finding:
    return Finding(
        "warning",
        "model",
        f"{file.shown} was pickled with classes defined in the script that saved it (module __main__): "
        "loading it fails with \"Can't get attribute ... on <module '__main__'>\" under the inference server. "
        "Move those classes into a module of the code folder, import them from there, and save the model again.",
    )


def _lfs_finding(file: _File) -> Finding:
    try:
        size = file.path.stat().st_size
    except OSError:
        size = len(file.head)
    real = lfs_pointer_size(file.head)
    of = f" for a {size_in_words(real)} file" if real is not None else ""
    return Finding(
        "error",
        "model",
        f"{file.shown} is a Git LFS pointer ({size:,} bytes){of}, not the model: {LFS_FIX} "
        "before registering or deploying the model.",
    )


# -- MLflow -------------------------------------------------------------------------------------------


def _mlflow(file: _File, found: ModelNeeds) -> None:
    """An MLflow model: the flavours' library versions, MLflow's, the Python, and the requirements beside."""
    folder, shown = file.path.parent, file.shown.rsplit("/", 1)[0]
    data = _yaml(file.path, file.shown, found)
    if not isinstance(data, dict):
        return
    flavors = data.get("flavors")
    flavors = flavors if isinstance(flavors, dict) else {}
    for flavor in flavors.values():
        if not isinstance(flavor, dict):
            continue
        for key, (module, distribution) in MLFLOW_VERSION_KEYS.items():
            version = _text(flavor.get(key))
            if version:
                found.needs.append(Need(module=module, where=file.shown, distribution=distribution, version=version))
    mlflow_version = _text(data.get("mlflow_version"))
    if mlflow_version:
        found.needs.append(Need(module=None, where=file.shown, distribution="mlflow", version=mlflow_version))
    pyfunc = flavors.get("python_function")
    if isinstance(pyfunc, dict) and found.python_version is None:
        found.python_version = _text(pyfunc.get("python_version"))
    requirements = folder / "requirements.txt"
    if requirements.is_file():
        found.needs += _requirements(requirements, f"{shown}/requirements.txt", found)
    _python_env(folder, shown, found)
    _conda(folder, shown, found, with_pip=not requirements.is_file())


def _requirements(path: Path, shown: str, found: ModelNeeds) -> list[Need]:
    text = _read_text(path, shown, found)
    needs = []
    for line in (text or "").splitlines():
        parsed = _requirement(line)
        if parsed is not None:
            needs.append(Need(module=None, where=shown, distribution=parsed[0], version=parsed[1]))
    return needs


def _requirement(line: str) -> tuple[str, str | None] | None:
    """``name==1.2.3`` → (name, "1.2.3"); ``name>=1`` and ``name @ url`` → (name, None); options (``-r``,
    ``--index-url``), URLs, paths and comments → None."""
    line = re.sub(r"(^|\s)#.*", "", line).strip()
    line = line.split(" --", 1)[0].strip()  # per-requirement options such as --hash
    if not line or line.startswith(("-", ".", "/", "~")) or re.match(r"[A-Za-z][A-Za-z0-9+.-]*://", line):
        return None
    found = _REQUIREMENT.fullmatch(line.split(";", 1)[0].strip())
    if found is None:
        return None
    name, spec = found[1], found[2].strip()
    if spec.startswith("@"):
        return name, None
    if spec and not re.match(r"[=<>!~(]", spec):
        return None  # not a requirement line (a stray word, a Windows path ...)
    exact = _EXACT.fullmatch(spec)
    return name, exact[1] if exact else None


def _python_env(folder: Path, shown: str, found: ModelNeeds) -> None:
    path = folder / "python_env.yaml"
    if found.python_version is not None or not path.is_file():
        return
    data = _yaml(path, f"{shown}/python_env.yaml", found)
    if isinstance(data, dict):
        found.python_version = _text(data.get("python"))


def _conda(folder: Path, shown: str, found: ModelNeeds, *, with_pip: bool) -> None:
    """``conda.yaml``: the Python when nothing else said it, and its pip list when there is no requirements.txt."""
    path = folder / "conda.yaml"
    if not path.is_file() or (found.python_version is not None and not with_pip):
        return
    where = f"{shown}/conda.yaml"
    data = _yaml(path, where, found)
    dependencies = data.get("dependencies") if isinstance(data, dict) else None
    for item in dependencies if isinstance(dependencies, list) else []:
        if isinstance(item, str) and found.python_version is None:
            python = _PYTHON.fullmatch(item.strip())
            if python:
                found.python_version = python[1]
        elif isinstance(item, dict) and with_pip and isinstance(item.get("pip"), list):
            for line in item["pip"]:
                parsed = _requirement(line) if isinstance(line, str) else None
                if parsed is not None:
                    found.needs.append(Need(module=None, where=where, distribution=parsed[0], version=parsed[1]))


def _yaml(path: Path, shown: str, found: ModelNeeds) -> Any:
    text = _read_text(path, shown, found)
    if text is None:
        return None
    import yaml  # a dependency of the CLI; imported where used, as the rest of shim.deploy does

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        reason = " ".join(str(error).split())[:120]
        found.findings.append(Finding("warning", "model", f"{shown} is not valid YAML ({reason}): it was not read."))
        return None


def _read_text(path: Path, shown: str, found: ModelNeeds) -> str | None:
    try:
        with open(path, "rb") as file:
            data = file.read(MAX_TEXT_BYTES + 1)
    except OSError as error:
        found.findings.append(
            Finding("warning", "model", f"{shown} cannot be read ({error.strerror or error}): it was not read.")
        )
        return None
    if len(data) > MAX_TEXT_BYTES:
        found.findings.append(
            Finding("warning", "model", f"{shown} is larger than {MAX_TEXT_BYTES >> 20} MiB: it was not read.")
        )
        return None
    return data.decode("utf-8", errors="replace")


def _text(value: Any) -> str | None:
    """A version from YAML: a string, or a number YAML read as one (``3.8`` is a float there)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (str, int, float)):
        text = str(value).strip()
        return text or None
    return None
