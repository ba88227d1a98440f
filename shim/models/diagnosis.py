"""Why ``init()`` failed, in plain words, when the cause is a model that is not where the code looks.

`diagnose_init_failure` takes the exception ``init()`` (or the script's import) raised and returns a
`Diagnosis` (the cause and the fix as one text, plus the facts it found as data), or None when it cannot
tell. It reads only the exception, the environment and the file system (bounded walks), never imports
azureml-core, and never raises: the original exception is re-raised by the wrapper unchanged.

Recognised: ``FileNotFoundError`` / ``OSError`` with a ``filename`` (the same file name found nearby, one
folder off under ``AZUREML_MODEL_DIR``, near-miss names), ``TypeError`` about a ``NoneType`` path (an unset
variable, read from the failing line), ``IndexError`` from an empty ``glob(...)[0]``, pickle / joblib load
errors, and azureml-core's ``ModelNotFoundException`` / ``WebserviceException`` (by class name). Whatever the
loader, a model file that is a Git LFS pointer, or a file that is no model at all (``.DS_Store`` in a loop
over a folder), is named from the traceback's frames (`shim.models.failed_file`); a model saved with another
scikit-learn names both versions (its ``InconsistentVersionWarning``, `shim.models.version_warnings`); a
module the environment lacks names the pip package to add.
"""

from __future__ import annotations

import fnmatch
import linecache
import os
import re
import sys
from collections import deque
from dataclasses import dataclass, field
from time import perf_counter
from types import TracebackType
from typing import Any

from ..stream.processors import is_user_file
from . import failed_file, known_failures, version_warnings
from .lfs import is_git_lfs_pointer, lfs_pointer_size, size_in_words
from .paths import MODELS_FOLDER, ModelPathError, near_misses, resolve
from .probe import display, looks_like_models_root, within

#: Bounds of the searches for a file of the same name.
SEARCH_ENTRIES = 20_000
SEARCH_SECONDS = 0.5
SEARCH_DEPTH = 8
V2_NOTE = known_failures.REGISTERED_FOLDER
UNSET_FIX = (
    "pass the model folder (score-shim check / serve --model-dir, azmlinfsrv --model_dir), or check the "
    "deployment's model"
)


@dataclass
class Diagnosis:
    """The cause and the fix in plain words (``text``), and what was found, as data (``facts``)."""

    kind: str
    text: str
    facts: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "text": self.text, "facts": self.facts}

    def __str__(self) -> str:
        return self.text


def diagnose_init_failure(error: BaseException) -> Diagnosis | None:
    """A diagnosis for an exception from ``init()`` or the script's import; None when the cause is unknown."""
    try:
        return _diagnose(error)
    except Exception:
        return None


def event_fields(error: BaseException) -> dict[str, Any]:
    """``diagnosis`` (text) and ``diagnosis_facts`` for a ``shim.init.failed`` line; empty when unknown."""
    found = diagnose_init_failure(error)
    if found is None:
        return {}
    return {"diagnosis": found.text, "diagnosis_facts": {"kind": found.kind, **found.facts}}


def _diagnose(error: BaseException) -> Diagnosis | None:
    names = {cls.__name__ for cls in type(error).__mro__}
    module = type(error).__module__ or ""
    if names & {"ModelNotFoundException", "WebserviceException"} and module.startswith("azureml"):
        return _azureml_core(error)
    if isinstance(error, ModelPathError):  # shim.get_model_path: its message already says what exists
        return Diagnosis("model_path", error.message, {"type": type(error).__name__})
    if not isinstance(error, FileNotFoundError):
        lfs = _lfs_pointer(error)
        if lfs is not None:
            return lfs
    if isinstance(error, OSError) and error.filename is not None:
        return _missing_file(error)
    known = _known(error)
    if known is not None and known.kind in _DEFINITIVE:  # a library's version or build, whatever the code did
        return known
    if _is_mlflow_layout(error):
        return _mlflow_layout(error)
    if isinstance(error, ModuleNotFoundError) and error.name and not _in_loader(error):
        return _module_not_found(error)
    if _from_unpickling(error):
        return _sklearn_versions(error) or _not_a_model(error) or _model_load(error, known)
    if any(f"{os.sep}sklearn{os.sep}" in f or f.startswith("sklearn/") for f, _, _ in _frames(error)):
        versions = _sklearn_versions(error)
        if versions is not None:
            return versions
    if isinstance(error, TypeError) and "NoneType" in str(error):
        return _none_path(error)
    if isinstance(error, IndexError) and "glob" in _user_source(error):
        return _empty_glob(error)
    if isinstance(error, KeyError) and error.args and isinstance(error.args[0], str):
        found = _unset_environ_key(error, error.args[0])
        if found is not None:
            return found
    return known or _known_in_chain(error)


#: Known failures (`shim.models.known_failures`) that no look at the files or the code could tell better.
_DEFINITIVE = frozenset({"numpy_binary", "protobuf_version", "removed_name"})


def _known(error: BaseException) -> Diagnosis | None:
    """The known breakage the exception's type, message and frames tell (`shim.models.known_failures`)."""
    files = [f for f, _, _ in _frames(error)]
    found = known_failures.explain(type(error).__name__, str(error), files)
    if found is None:
        return None
    message = str(error)
    return Diagnosis(found.kind, found.text, {"type": type(error).__name__, "message": message[:500], **found.facts})


def _known_in_chain(error: BaseException) -> Diagnosis | None:
    """The exception this one was raised from (or while handling), when it is a known breakage."""
    seen = {id(error)}
    current = error.__cause__ or error.__context__
    while current is not None and id(current) not in seen and len(seen) < 8:
        seen.add(id(current))
        found = _known(current)
        if found is not None:
            return found
        current = current.__cause__ or current.__context__
    return None


def _unset_environ_key(error: KeyError, name: str) -> Diagnosis | None:
    """``os.environ['AZUREML_MODEL_DIR']`` with the variable unset."""
    if os.environ.get(name) is not None or not re.search(r"environ\[", _user_source(error)):
        return None
    fix = UNSET_FIX if name == "AZUREML_MODEL_DIR" else "set it (for example in the deployment's environment_variables)"
    return Diagnosis("unset_variable", f"{name} is not set: {fix}", {"variable": name})


# -- helpers ------------------------------------------------------------------------------------------


def _frames(error: BaseException) -> list[tuple[str, int, str]]:
    out = []
    tb: TracebackType | None = error.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        out.append((code.co_filename, tb.tb_lineno, code.co_name))
        tb = tb.tb_next
    return out


def _user_source(error: BaseException) -> str:
    """The source lines of the traceback's frames outside Python, libraries and the shim."""
    lines = [linecache.getline(f, n).strip() for f, n, _ in _frames(error) if is_user_file(f)]
    return "\n".join(line for line in lines if line)


def _model_dir() -> str | None:
    return os.environ.get("AZUREML_MODEL_DIR") or None


def _listing(path: str, limit: int = 12) -> str:
    try:
        entries = sorted(os.listdir(path))
    except OSError as error:
        return f"cannot be listed: {error.strerror}"
    if not entries:
        return "nothing (empty)"
    shown = ", ".join(display(e) + ("/" if os.path.isdir(os.path.join(path, e)) else "") for e in entries[:limit])
    return shown + (f" and {len(entries) - limit} more" if len(entries) > limit else "")


def _find(root: str, match: Any, *, limit: int = 5) -> list[str]:
    """Paths under ``root`` whose file name satisfies ``match``, breadth first (nearest first), bounded."""
    found: list[str] = []
    deadline = perf_counter() + SEARCH_SECONDS
    seen = 0
    queue: deque[tuple[str, int]] = deque([(root, 0)])
    visited = {os.path.realpath(root)}
    while queue and len(found) < limit:
        folder, depth = queue.popleft()
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    seen += 1
                    if seen > SEARCH_ENTRIES or perf_counter() > deadline:
                        return found
                    if match(entry.name):
                        found.append(entry.path)
                        if len(found) >= limit:
                            return found
                    try:
                        if entry.is_dir() and depth < SEARCH_DEPTH:
                            real = os.path.realpath(entry.path)
                            if real not in visited:
                                visited.add(real)
                                queue.append((entry.path, depth + 1))
                    except OSError:
                        continue
        except OSError:
            continue
    return found


def _existing_ancestor(path: str) -> str | None:
    current = os.path.abspath(path)
    for _ in range(64):
        parent = os.path.dirname(current)
        if os.path.isdir(parent):
            return parent
        if parent == current:
            return None
        current = parent
    return None


def _above_the_model(folder: str, model_dir: str | None) -> bool:
    """Whether ``folder`` lies above AZUREML_MODEL_DIR and outside the model's own folders (`_model_tree`).

    A path one folder off inside the model's tree is the usual mistake (a registered folder's name left out, or
    the version folder); its parents beyond that are whatever the mount sits in (``/tmp``, a home folder), whose
    files have nothing to do with the model and must be neither searched nor named. The file system's root is
    not counted: nothing under it is listed, and it tells that none of a path's folders exists.
    """
    if not model_dir or folder == os.path.dirname(folder):
        return False
    model = os.path.abspath(model_dir)
    return within(model, folder) and model != folder and not within(folder, _model_tree(model))


def _model_tree(model_dir: str) -> str:
    """The top of the model's own folders: AZUREML_MODEL_DIR, or up to two folders above it while the folder above
    is part of the model layout (``<name>`` over ``<name>/<version>``, then ``azureml-models``)."""
    top = model_dir
    for _ in range(2):
        parent = os.path.dirname(top)
        if parent == top or not _holds_only_models(parent):
            break
        top = parent
    return top


def _holds_only_models(folder: str) -> bool:
    """``azureml-models`` by its name; else a model's version folders only, or models' folders only."""
    if os.path.basename(folder) == MODELS_FOLDER:
        return True
    try:
        entries = os.listdir(folder)
    except OSError:
        return False
    if not entries or len(entries) > 200:
        return False
    if all(entry.isdigit() and os.path.isdir(os.path.join(folder, entry)) for entry in entries):
        return True
    return looks_like_models_root(folder, entries)


def _relation(missing: str, found: str) -> str:
    """How far a found file is from the path that was asked for, in words."""
    want = os.path.dirname(os.path.abspath(missing)).split(os.sep)
    have = os.path.dirname(os.path.abspath(found)).split(os.sep)
    common = len(os.path.commonpath([os.sep.join(want) or os.sep, os.sep.join(have) or os.sep]).split(os.sep))
    up, down = len(want) - common, have[common:]
    if up == 0 and len(down) == 1:
        return f"one folder down, under '{display(down[0])}/'"
    if up == 0 and down:
        return f"{len(down)} folders down, under '{display('/'.join(down))}/'"
    if up == 1 and not down:
        return "one folder up"
    if not down:
        return f"{up} folders up"
    return f"{up} folder(s) up, then under '{display('/'.join(down))}/'"


# -- the causes ---------------------------------------------------------------------------------------


def _missing_file(error: OSError) -> Diagnosis:
    """A file the code opened is missing (or is no file): where the same name is, or what is there instead."""
    asked = os.fsdecode(error.filename)
    absolute = os.path.abspath(asked)
    facts: dict[str, Any] = {"path": display(asked), "absolute": display(absolute), "errno": error.errno}
    model_dir = _model_dir()
    facts["azureml_model_dir"] = model_dir
    other = _not_missing(error, asked, facts)
    if other is not None:
        return other
    parts = [f"{display(absolute)} does not exist"]
    if not os.path.isabs(asked):
        parts.append(
            f"{display(asked)} is relative, so it was looked up in the working directory ({os.getcwd()}), "
            "which is not the script's folder in a container; build it from AZUREML_MODEL_DIR or __file__"
        )
    ancestor = _existing_ancestor(absolute)
    found = _same_name(absolute, _search_roots(ancestor, model_dir))
    if found:
        parts.extend(_found_elsewhere(absolute, found, model_dir, facts))
    else:
        parts.extend(_what_is_there(absolute, ancestor, model_dir, facts))
    return Diagnosis("file_not_found_nearby" if found else "file_not_found", "; ".join(parts), facts)


def _not_missing(error: OSError, asked: str, facts: dict[str, Any]) -> Diagnosis | None:
    """The OSErrors whose path is there but is not what the code expected: a folder, unreadable, a file."""
    if isinstance(error, IsADirectoryError) or (os.path.isdir(asked) and not isinstance(error, FileNotFoundError)):
        return Diagnosis(
            "is_a_folder",
            f"{display(asked)} is a folder, not a file (it holds {_listing(asked)}): a registered folder is mounted "
            "as a folder; open the file inside it",
            facts,
        )
    if isinstance(error, PermissionError):
        return Diagnosis(
            "unreadable", f"{display(asked)} exists but this process cannot read it: fix its permissions", facts
        )
    if isinstance(error, NotADirectoryError):
        return Diagnosis(
            "file_for_folder",
            f"a part of {display(asked)} is a file where a folder was expected (a registered file, not a folder?)",
            facts,
        )
    if not isinstance(error, FileNotFoundError) and os.path.exists(asked):
        return Diagnosis(
            "os_error",
            f"{display(asked)} exists, but using it failed ({error.strerror or error}): the file may be damaged, "
            "still being written, or of another format than the code expects",
            facts,
        )
    return None


def _search_roots(ancestor: str | None, model_dir: str | None) -> list[str]:
    """Where a file of the same name may be: the model folder, the missing path's nearest existing folder (unless
    it is the whole file system or above the model's own folders), and the app's folder."""
    roots = []
    if model_dir and os.path.isdir(model_dir):
        roots.append(model_dir)
    if ancestor and ancestor != os.path.dirname(ancestor) and not _above_the_model(ancestor, model_dir):
        roots.append(ancestor)  # never a whole file system from /, nor the unrelated folders around the model
    app_root = os.environ.get("AML_APP_ROOT")
    if app_root and os.path.isdir(app_root):
        roots.append(app_root)
    return roots


def _same_name(absolute: str, roots: list[str]) -> list[str]:
    """Files named like the missing one under ``roots``, each once, the missing path itself aside."""
    base = os.path.basename(absolute)
    found: list[str] = []
    for root in roots:
        for path in _find(root, lambda name: name == base):
            if path not in found and os.path.abspath(path) != absolute:
                found.append(path)
    return found


def _found_elsewhere(absolute: str, found: list[str], model_dir: str | None, facts: dict[str, Any]) -> list[str]:
    """The nearest files of the same name, how far each is from the path asked for, and the one to use."""
    nearest = sorted(found, key=lambda p: _distance(absolute, p))[:3]
    facts["same_name_at"] = [display(p) for p in nearest]
    where = "; ".join(f"{display(p)} ({_relation(absolute, p)})" for p in nearest)
    version_dir = _version_dir_to_pass(absolute, nearest[0], model_dir)
    if version_dir is not None:  # the path is right; AZUREML_MODEL_DIR is the model's folder, not its version's
        facts["model_dir_to_pass"] = display(version_dir)
        return [
            f"the same file name exists at {where}",
            f"your path is right from the version folder {display(version_dir)}: AZUREML_MODEL_DIR is the "
            f"model's folder one above it, where Azure ML sets it to the version folder; pass --model-dir "
            f"{display(version_dir)}",
        ]
    inside = os.path.abspath(model_dir) + os.sep if model_dir else None
    in_model_dir = inside is not None and any(os.path.abspath(p).startswith(inside) for p in nearest)
    return [
        f"the same file name exists at {where}" + (f" ({V2_NOTE})" if in_model_dir else ""),
        f"use {display(nearest[0])}",
    ]


def _version_dir_to_pass(absolute: str, found: str, model_dir: str | None) -> str | None:
    """The version folder under AZUREML_MODEL_DIR from which the script's own path is right, if there is one.

    ``--model-dir azureml-models/price`` for ``azureml-models/price/1``: the script joins ``model/prices.pkl``
    to AZUREML_MODEL_DIR, which Azure ML sets to the version folder; the file is at ``price/1/model/prices.pkl``.
    The fix is the folder passed, not the script (and never a hard-coded absolute path).
    """
    if not model_dir:
        return None
    root = os.path.abspath(model_dir)
    if not within(absolute, root):
        return None
    asked = os.path.relpath(absolute, root)
    tail = os.sep + asked
    if not found.endswith(tail):
        return None
    version_dir = found[: -len(tail)]
    if os.path.dirname(version_dir) != root or not os.path.basename(version_dir).isdigit():
        return None
    return version_dir


def _what_is_there(absolute: str, ancestor: str | None, model_dir: str | None, facts: dict[str, Any]) -> list[str]:
    """No file of that name anywhere near: the nearest existing folder, names close to the missing one, and
    what AZUREML_MODEL_DIR holds."""
    parts = []
    above = ancestor is not None and _above_the_model(ancestor, model_dir)
    if ancestor and not above:
        facts["nearest_existing_folder"] = display(ancestor)
        try:
            siblings = os.listdir(ancestor)
        except OSError:
            siblings = []
        wanted = os.path.relpath(absolute, ancestor).split(os.sep)[0]
        misses = _near(wanted, siblings)
        if misses:
            facts["near_misses"] = misses
            parts.append(f"did you mean {' or '.join(repr(m) for m in misses)} in {display(ancestor)}?")
        if ancestor == os.path.dirname(ancestor):
            parts.append("none of its folders exists")
        else:
            parts.append(f"the nearest existing folder is {display(ancestor)}, which holds {_listing(ancestor)}")
    if model_dir is None:
        parts.append(f"AZUREML_MODEL_DIR is not set: {UNSET_FIX}")
    elif not os.path.isdir(model_dir):
        parts.append(f"AZUREML_MODEL_DIR ({model_dir}) does not exist: check --model-dir or the deployment's model")
    elif not within(absolute, os.path.abspath(model_dir)) and above:
        parts.append(f"it is outside AZUREML_MODEL_DIR ({model_dir}), which holds {_listing(model_dir)}")
    elif ancestor != model_dir:
        parts.append(f"AZUREML_MODEL_DIR ({model_dir}) holds {_listing(model_dir)}")
    return parts


def _distance(asked: str, found: str) -> tuple[int, str]:
    want, have = asked.split(os.sep), found.split(os.sep)
    common = 0
    for a, b in zip(want, have, strict=False):
        if a != b:
            break
        common += 1
    return (len(want) - common) + (len(have) - common), found


def _near(name: str, candidates: list[str]) -> list[str]:
    return [display(c) for c in near_misses(name, candidates, n=2, cutoff=0.8)]


_GETENV = re.compile(r"""(?:getenv|environ\.get)\(\s*['"]([A-Za-z_][A-Za-z0-9_]*)['"]""")


def _none_path(error: TypeError) -> Diagnosis | None:
    message = str(error)
    if not re.search(r"PathLike|path|str, bytes", message):
        return None
    source = _user_source(error)
    variables = list(dict.fromkeys(_GETENV.findall(source)))
    unset = [name for name in variables if os.environ.get(name) is None]
    facts: dict[str, Any] = {
        "variables_read": variables,
        "unset": unset,
        "line": source.splitlines()[-1] if source else None,
    }
    if "AZUREML_MODEL_DIR" in unset or (not variables and _model_dir() is None):
        return Diagnosis(
            "unset_variable", f"AZUREML_MODEL_DIR is not set: {UNSET_FIX}", {**facts, "variable": "AZUREML_MODEL_DIR"}
        )
    if unset:
        return Diagnosis(
            "unset_variable",
            f"{unset[0]} is not set, so os.getenv/os.environ.get returned None and a path was built from None: "
            f"set {unset[0]} (for example in the deployment's environment_variables)",
            {**facts, "variable": unset[0]},
        )
    return Diagnosis(
        "none_path",
        "a path was None (a variable or setting that is not set?): "
        + (f"the failing line is `{facts['line']}`" if source else message),
        facts,
    )


_GLOB_PATTERN = re.compile(r"""glob\((.*)\)""")
_STRING = re.compile(r"""['"]([^'"]*[*?\[][^'"]*)['"]""")


def _empty_glob(error: IndexError) -> Diagnosis:
    source = _user_source(error)
    line = next((ln for ln in reversed(source.splitlines()) if "glob" in ln), source)
    patterns = _STRING.findall(line)
    facts: dict[str, Any] = {"line": line, "patterns": patterns}
    parts = [f"glob(...) matched nothing, so [0] raised IndexError (the line: `{line}`)"]
    model_dir = _model_dir()
    if model_dir is None:
        parts.append(f"AZUREML_MODEL_DIR is not set: {UNSET_FIX}")
    elif os.path.isdir(model_dir):
        pattern = os.path.basename(patterns[-1]) if patterns else None
        if pattern:
            found = _find(model_dir, lambda name: fnmatch.fnmatch(name, pattern))
            if found:
                facts["matches_at"] = [display(p) for p in found[:3]]
                parts.append(
                    f"files matching {pattern!r} exist deeper: {', '.join(display(p) for p in found[:3])} ({V2_NOTE}); "
                    "glob one folder deeper, or recursively: glob(os.path.join(model_dir, '**', "
                    f"{pattern!r}), recursive=True)"
                )
        parts.append(f"AZUREML_MODEL_DIR ({model_dir}) holds {_listing(model_dir)}")
    else:
        parts.append(f"AZUREML_MODEL_DIR ({model_dir}) does not exist")
    return Diagnosis("empty_glob", "; ".join(parts), facts)


def _in_loader(error: BaseException) -> bool:
    return known_failures.in_loader([f for f, _, _ in _frames(error)])


def _from_unpickling(error: BaseException) -> bool:
    in_loader = _in_loader(error)
    if type(error).__name__ == "UnpicklingError":
        return True
    if not in_loader and not isinstance(error, (EOFError, ModuleNotFoundError, AttributeError, ValueError)):
        return False
    source = _user_source(error)
    return in_loader or bool(re.search(r"\b(pickle|joblib|cloudpickle|dill)\.loads?\(|\bload\(", source))


def _model_load(error: BaseException, known: Diagnosis | None = None) -> Diagnosis:
    """Unpickling failed: the known causes (`shim.models.known_failures`: a class not where it was, a module of
    another version, an empty or truncated file, a newer pickle protocol), else what was raised."""
    if known is not None:
        return known
    message = str(error)
    facts: dict[str, Any] = {"type": type(error).__name__, "message": message}
    if isinstance(error, EOFError):
        return Diagnosis(
            "model_load", "the model file is empty or truncated (EOF while unpickling): re-register the model", facts
        )
    return Diagnosis(
        "model_load",
        f"loading the model failed while unpickling ({type(error).__name__}: {message}): the file may be damaged, "
        "or saved with other library versions than the ones installed here",
        facts,
    )


_NOT_FOUND = re.compile(r"Model (.+?) not found in cache at (.+?) or in current working directory")


def _azureml_core(error: BaseException) -> Diagnosis:
    message = str(getattr(error, "message", None) or error)
    facts: dict[str, Any] = {"type": type(error).__name__, "message": message}
    found = _NOT_FOUND.search(message)
    name = found.group(1) if found else None
    parts = [f"azureml-core's Model.get_model_path failed: {known_failures.GET_MODEL_PATH_LOOKS}"]
    model_dir = _model_dir()
    if model_dir:
        parts.append(
            f"on a v2 managed endpoint the model is in AZUREML_MODEL_DIR ({model_dir}), "
            f"which holds {_listing(model_dir)}"
        )
    else:
        parts.append(f"AZUREML_MODEL_DIR is not set: {UNSET_FIX}")
    if name:
        facts["model_name"] = name
        res = resolve(name)
        if res.error is None and res.path is not None:
            facts["shim_resolution"] = res.as_dict()
            parts.append(
                f"shim.get_model_path({name!r}) resolves it to {display(os.fspath(res.path))}: use it, or "
                "os.path.join(os.environ['AZUREML_MODEL_DIR'], ...)"
            )
        else:
            parts.append("use os.path.join(os.environ['AZUREML_MODEL_DIR'], <the file>) instead")
    return Diagnosis("azureml_core_model_not_found", "; ".join(parts), facts)


# -- what the failing frames had open -----------------------------------------------------------------


LFS_FIX = "run `git lfs pull` (or `git lfs fetch && git lfs checkout`) before registering/deploying it"


def _lfs_pointer(error: BaseException) -> Diagnosis | None:
    """A Git LFS pointer where the model should be, whatever loaded it (joblib: ``KeyError: 118``)."""
    found = next(failed_file.failed_files(error, lambda _, first: is_git_lfs_pointer(first)), None)
    path = found[0] if found else None
    message = str(error)
    if path is None and (error.args == (118,) or "load key, 'v'" in message):  # not in the frames: the model dir
        model_dir = _model_dir()
        if model_dir and os.path.isdir(model_dir):
            for candidate in _find(model_dir, lambda _: True, limit=200):
                first = failed_file.head(candidate)
                if first is not None and is_git_lfs_pointer(first):
                    path = candidate
                    break
    if path is None:
        return None
    first = failed_file.head(path) or b""
    try:
        pointer_bytes = os.path.getsize(path)
    except OSError:
        pointer_bytes = len(first)
    real = lfs_pointer_size(first)
    of = f" for a {size_in_words(real)} file" if real is not None else ""
    facts: dict[str, Any] = {
        "type": type(error).__name__,
        "message": message[:500],
        "git_lfs_pointer": True,
        "path": display(path),
        "pointer_bytes": pointer_bytes,
        "real_size": real,
    }
    text = f"{display(path)} is a Git LFS pointer ({pointer_bytes} bytes){of}, not the model: {LFS_FIX}"
    return Diagnosis("model_load", text, facts)


def _innermost_user_frame(error: BaseException) -> tuple[Any, int] | None:
    for frame, lineno in reversed(failed_file.frames(error.__traceback__)):
        if is_user_file(frame.f_code.co_filename):
            return frame, lineno
    return None


def _not_a_model(error: BaseException) -> Diagnosis | None:
    """A file that is no model (``.DS_Store``, a README) loaded as one, named; and the loop that loaded it."""
    model_dir = _model_dir()
    inside = os.path.join(os.path.abspath(model_dir), "") if model_dir else None

    def accept(path: str, first: bytes) -> bool:
        absolute = os.path.abspath(path)
        under = inside is not None and absolute.startswith(inside)
        return (under or os.path.isabs(path)) and failed_file.not_a_model(path, first) is not None

    # Only the frames from the user's code inward: the ones outside it (the server, `check`) name the script.
    listed = failed_file.frames(error.__traceback__)
    start = next((i for i, (frame, _) in enumerate(listed) if is_user_file(frame.f_code.co_filename)), 0)
    found = next((f for f in failed_file.failed_files(error, accept) if f[1] >= start), None)
    if found is None:
        return None
    path = found[0]
    what = failed_file.not_a_model(path, failed_file.head(path) or b"") or "not a model"
    facts: dict[str, Any] = {"type": type(error).__name__, "message": str(error)[:500], "path": display(path)}
    facts["file_is"] = what
    if what == "empty":
        return Diagnosis(
            "model_load",
            f"{display(path)} is empty (0 bytes): the model file is empty or truncated: re-register the model",
            facts,
        )
    text = f"{display(path)} is not a model file (it is {what})"
    user = _innermost_user_frame(error)
    loop = failed_file.loop_line(user[0], user[1]) if user else None
    if user is not None and loop is not None:
        where = f"{display(user[0].f_code.co_filename)}:{loop}"
        facts["loop"] = where
        text += f", and the loop in {where} loads every file in the folder: skip it (e.g. only *.pkl)"
    else:
        text += ": load the model file itself, or skip files that are not models"
    return Diagnosis("not_a_model", text, facts)


def _sklearn_versions(error: BaseException) -> Diagnosis | None:
    """A model saved with another scikit-learn: both versions, from its warning or from the file."""
    current = getattr(sys.modules.get("sklearn"), "__version__", None)
    saved: str | None = None
    estimator: str | None = None
    source = "warning"
    if version_warnings.recorded:
        estimator, saved, current = version_warnings.recorded[-1]
    else:
        match = re.search(r"from version (\S+) when using version (\S+?)\.?(?:\s|$)", str(error))
        if match:
            saved, current, source = match[1], match[2], "message"
    found = next(failed_file.failed_files(error, lambda _, first: first.startswith(b"\x80")), None)
    path = found[0] if found else None
    if saved is None and path is not None and current:
        saved, source = failed_file.saved_sklearn_version(path), "file"
    if not saved or not current or saved == current:
        return None
    name = display(path) if path else "the model"
    facts: dict[str, Any] = {
        "type": type(error).__name__,
        "message": str(error)[:500],
        "saved_with": saved,
        "installed": current,
        "estimator": estimator,
        "from": source,
        "path": display(path) if path else None,
    }
    return Diagnosis(
        "sklearn_version",
        f"{name} was saved with scikit-learn {saved} and this environment has {current}: pin scikit-learn=={saved} "
        f"in the conda file, or re-save the model with {current}",
        facts,
    )


def _module_not_found(error: ModuleNotFoundError) -> Diagnosis | None:
    """``import PIL`` in an environment without pillow: the package to add to the conda file."""
    module = str(error.name)
    top = module.partition(".")[0]
    if top != module and top in sys.modules:  # the package is here, its submodule is not: another version
        found = known_failures.another_version(module)
        return Diagnosis(found.kind, found.text, found.facts)
    user = _innermost_user_frame(error)
    line = linecache.getline(user[0].f_code.co_filename, user[1]).strip() if user else ""
    if user is not None:
        place = f"{os.path.basename(user[0].f_code.co_filename)}:{user[1]}"
        who = f"{place} imports {module}" if "import" in line else f"{place} needs {module} (imported by a library)"
    else:
        who = f"the script needs {module}"
    found = known_failures.missing_package(module, who=who)
    return Diagnosis(found.kind, found.text, {**found.facts, "line": line or None})


# -- an MLflow model folder that is not where mlflow.pyfunc.load_model looks -----------------------------------


def _is_mlflow_layout(error: BaseException) -> bool:
    message = str(error)
    return type(error).__name__ == "MlflowException" and (
        'Could not find an "MLmodel" configuration file' in message or "No such artifact: '" in message
    )


def _mlflow_model_uri(error: BaseException) -> str | None:
    """The ``model_uri`` that the outermost MLflow frame was given (``mlflow.pyfunc.load_model``'s argument)."""
    for frame, _ in failed_file.frames(error.__traceback__):
        if f"{os.sep}mlflow{os.sep}" not in frame.f_code.co_filename:
            continue
        try:
            value = frame.f_locals.get("model_uri")
        except Exception:
            continue
        if isinstance(value, (str, os.PathLike)):
            text = os.fspath(value)
            return text if isinstance(text, str) and 0 < len(text) <= failed_file.MAX_PATH_CHARS else None
    return None


def _mlflow_layout(error: BaseException) -> Diagnosis:
    """Where the MLmodel file really is under AZUREML_MODEL_DIR, and the path to pass to ``load_model``."""
    message = str(error)
    asked = _mlflow_model_uri(error)
    facts: dict[str, Any] = {"type": type(error).__name__, "message": message[:500]}
    local = asked is not None and not re.match(r"[A-Za-z][\w+.-]+:/", asked)
    if asked is not None:
        facts["model_uri"] = display(asked)
    model_dir = _model_dir()
    facts["azureml_model_dir"] = model_dir
    roots = []
    if model_dir and os.path.isdir(model_dir):
        roots.append(model_dir)
    elif local and asked is not None:
        ancestor = asked if os.path.isdir(asked) else _existing_ancestor(asked)
        if ancestor and ancestor != os.path.dirname(ancestor) and not _above_the_model(ancestor, model_dir):
            roots.append(ancestor)  # never a whole file system from /, nor the folders around a missing model
    found: list[str] = []
    for root in roots:
        found.extend(p for p in _find(root, lambda name: name == "MLmodel", limit=3) if p not in found)
    parts = []
    if asked is not None and local:
        absolute = os.path.abspath(asked)
        there = f"holds {_listing(absolute)}" if os.path.isdir(absolute) else "does not exist"
        parts.append(f"mlflow.pyfunc.load_model was given {display(absolute)}, which {there}: no MLmodel file there")
    else:
        parts.append(f"mlflow.pyfunc.load_model found no MLmodel file where it looked ({message})")
    if found:
        folder = os.path.dirname(found[0])
        facts["mlmodel_at"] = [display(p) for p in found]
        facts["load_path"] = display(folder)
        parts.append(f"the MLmodel file is at {display(found[0])}")
        inside = model_dir is not None and os.path.abspath(folder).startswith(os.path.abspath(model_dir) + os.sep)
        if inside and model_dir is not None:
            relative = os.path.relpath(folder, model_dir)
            parts.append(
                f"pass {display(folder)}: os.path.join(os.environ['AZUREML_MODEL_DIR'], {relative!r}) "
                f"({known_failures.REGISTERED_FOLDER})"
            )
        else:
            parts.append(f"pass {display(folder)}")
        if len(found) > 1:
            parts.append(f"(other MLmodel files: {', '.join(display(p) for p in found[1:])})")
    elif model_dir is None:
        parts.append(f"AZUREML_MODEL_DIR is not set: {UNSET_FIX}")
    elif not os.path.isdir(model_dir):
        parts.append(f"AZUREML_MODEL_DIR ({model_dir}) does not exist: check --model-dir or the deployment's model")
    else:
        parts.append(
            f"there is no MLmodel file under AZUREML_MODEL_DIR ({model_dir}, which holds {_listing(model_dir)}): the "
            "registered model is not an MLflow model folder; register the folder that holds MLmodel, or load the "
            "model with its own library"
        )
    return Diagnosis("mlflow_layout", "; ".join(parts), facts)
