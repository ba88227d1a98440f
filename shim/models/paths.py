"""``shim.get_model_path``: azureml-core's ``Model.get_model_path`` answers, without azureml-core.

azureml-core 1.61 (deprecated since March 2025) costs 0.4 s and ~1,900 modules to import, for a lookup
that is a few ``os`` calls. This module makes the same calls in the same order, so that it returns the
same path (absolute or relative, as azureml-core does) and fails on the same layouts, and adds what
azureml-core's errors lack: the models and versions that do exist, near misses, and where to look.

The rules (measured on azureml-core 1.61, ``azureml/core/model.py``):

- ``MODELS_DIR`` is ``os.path.join($AML_APP_ROOT or '', 'azureml-models')``. azureml-core reads it once,
  at import; the shim reads it at each call (the azureml-core hook warns when the two differ).
- ``MODELS_DIR/<name>`` missing: ``./<name>`` relative to the working directory if it exists (returned as
  given), else ``ModelNotFoundException``.
- ``version=None``: every entry of ``MODELS_DIR/<name>`` goes through ``int()``; a name that is not a
  number raises ``ValueError`` (hidden files included); no entry raises "versions is empty". The
  largest wins, and ``str()`` of it is the folder looked up (so a folder ``01`` is looked up as ``1``).
- ``MODELS_DIR/<name>/<version>`` missing: the ``./<name>`` fallback again (the version is then
  silently ignored: the shim warns). Present: it must hold exactly one entry, which is returned.
- An explicit version that is not an ``int`` raises "version should be an int"; a missing explicit
  version raises ``WebserviceException`` rather than ``ModelNotFoundException``.

Where azureml-core would raise because ``MODELS_DIR`` does not exist but ``AZUREML_MODEL_DIR`` is set
(a v2 managed endpoint: one model, mounted at ``azureml-models/<name>/<version>``), the shim resolves
inside ``AZUREML_MODEL_DIR`` instead and says so in the result's notes and its log line.

Errors keep azureml-core's class names (``ModelNotFoundException``, ``WebserviceException``), so that
code catching them by name keeps working; all derive from `ModelPathError`. Where azureml-core raises a
built-in exception (``ValueError`` for a version folder that is not a number, ``OSError`` from
``os.listdir``, ``TypeError`` for a name that is not a path), the shim's error derives from that
built-in too.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..stream.configure import get_logger

MODELS_FOLDER = "azureml-models"

#: The variables whose presence makes azureml-core fetch the model from the workspace (a network call)
#: before, or instead of, the local cache (``Run._load_scope``).
RUN_CONTEXT_VARIABLES = (
    "AZUREML_ARM_SUBSCRIPTION",
    "AZUREML_RUN_ID",
    "AZUREML_ARM_RESOURCEGROUP",
    "AZUREML_ARM_WORKSPACE_NAME",
    "AZUREML_ARM_PROJECT_NAME",
    "AZUREML_RUN_TOKEN",
    "AZUREML_SERVICE_ENDPOINT",
)

#: How many names an error message lists before it says "and N more".
MAX_LISTED = 12


class ModelPathError(Exception):
    """A model path could not be resolved; the message says what exists and where to look.

    ``message`` mirrors azureml-core's ``AzureMLException.message``.
    """

    explains_itself = True

    def __init__(self, message: str, *args: Any) -> None:
        super().__init__(message, *args)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ModelNotFoundException(ModelPathError):
    """No such model in ``azureml-models`` nor in the working directory (azureml-core's class name)."""


class WebserviceException(ModelPathError):
    """A bad version, a missing explicit version, a version folder with several entries (azureml-core's name)."""


class ModelVersionFolderError(ModelPathError, ValueError):
    """A model folder holds an entry that is not a version number (azureml-core raises a bare ValueError)."""


class ModelFolderError(ModelPathError, OSError):
    """A model or version folder cannot be listed: a file, unreadable (azureml-core raises the OSError)."""

    def __init__(self, message: str, cause: OSError) -> None:
        ModelPathError.__init__(self, message)
        self.errno = cause.errno
        self.strerror = cause.strerror
        self.filename = cause.filename


class ModelFolderIsAFileError(ModelFolderError, NotADirectoryError):
    """A model or version folder is a file (azureml-core raises NotADirectoryError)."""


class ModelFolderUnreadableError(ModelFolderError, PermissionError):
    """A model or version folder cannot be read (azureml-core raises PermissionError)."""


class ModelNameError(ModelPathError, TypeError):
    """``model_name`` is not a str or path (azureml-core fails in ``os.path.join`` with a TypeError)."""


@dataclass
class Resolution:
    """The outcome of a lookup, as data: what was asked, what was looked at, and the answer or error."""

    model_name: Any
    version: Any
    models_dir: str
    cwd: str
    path: Any = None
    #: ``azureml-models`` (the cache), ``cwd`` (the ``./<name>`` fallback), ``AZUREML_MODEL_DIR`` (v2).
    source: str | None = None
    error: ModelPathError | None = None
    #: Things the caller should know although it worked (an ignored version, a v2 resolution).
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "model_name": jsonable(self.model_name),
            "version": jsonable(self.version),
            "models_dir": self.models_dir,
            "cwd": self.cwd,
            "source": self.source,
            "path": jsonable(self.path),
        }
        if self.error is not None:
            data["error"] = {"type": type(self.error).__name__, "message": self.error.message}
        if self.notes:
            data["notes"] = list(self.notes)
        return data


def jsonable(value: Any) -> Any:
    """A value as JSON can carry it: paths as strings, anything else by repr."""
    if isinstance(value, (str, int, float, bool, type(None))):
        return value
    try:
        return os.fspath(value)
    except TypeError:
        return repr(value)


def models_dir(environ: Mapping[str, str] | None = None) -> str:
    """azureml-core's ``MODELS_DIR``: ``$AML_APP_ROOT/azureml-models`` (relative when unset)."""
    env = os.environ if environ is None else environ
    return os.path.join(env.get("AML_APP_ROOT", ""), MODELS_FOLDER)


def run_context_set(environ: Mapping[str, str] | None = None) -> bool:
    """Whether azureml-core would load a run context and go to the workspace for the model."""
    env = os.environ if environ is None else environ
    return all(env.get(name) for name in RUN_CONTEXT_VARIABLES)


# -- the lookup --------------------------------------------------------------------------------------


class _Fallback(Exception):
    """Internal: azureml-core would now try ``./<name>`` (``_get_model_path_local_from_root``)."""

    def __init__(self, why: str) -> None:
        self.why = why


def resolve(model_name: Any, version: Any = None) -> Resolution:
    """Resolve like ``Model.get_model_path`` and return the outcome as data; never raises."""
    try:
        cwd = os.getcwd()
    except OSError:
        cwd = "<the working directory was removed>"
    res = Resolution(model_name, version, models_dir(), cwd)
    try:
        res.path, res.source = _lookup(res)
    except ModelPathError as error:
        res.error = error
    if run_context_set():
        res.notes.append(
            "the run-context variables (AZUREML_RUN_ID, AZUREML_ARM_SUBSCRIPTION, ...) are set: azureml-core's "
            "get_model_path would fetch the model from the workspace over the network"
            + (" before looking in the cache" if version is not None else " instead of looking in the cache")
            + "; the shim never does, it answered from local files"
        )
    return res


def get_model_path(model_name: Any, version: int | None = None) -> Any:
    """The path of a registered model on disk, as azureml-core's ``Model.get_model_path`` returns it.

    Looks in ``$AML_APP_ROOT/azureml-models/<name>/<version>/`` (the largest version when none is given),
    then at ``./<name>``; on a v2 managed endpoint (no ``azureml-models`` folder, ``AZUREML_MODEL_DIR``
    set) inside ``AZUREML_MODEL_DIR``. Raises a `ModelPathError` (``ModelNotFoundException``,
    ``WebserviceException``, ...) that lists what does exist. Logs one ``shim.model.get_model_path`` line.
    """
    res = resolve(model_name, version)
    _log(res, "shim")
    if res.error is not None:
        raise res.error
    return res.path


def _log(res: Resolution, via: str) -> None:
    try:
        fields = res.as_dict()
        fields["via"] = via
        level = "warning" if (res.error is not None or res.notes) else "info"
        getattr(get_logger("shim"), level)("shim.model.get_model_path", **fields)
    except Exception:
        pass


def _lookup(res: Resolution) -> tuple[Any, str]:
    name, version, base = res.model_name, res.version, res.models_dir
    if version is not None and not isinstance(version, int):
        raise WebserviceException(
            f"version should be an int, got {version!r} ({type(version).__name__}): "
            f"pass version={_as_int_hint(version)} or leave it out for the latest"
        )
    if name is None:
        raise WebserviceException("model_name is None: pass the registered model's name")
    try:
        candidate = os.path.join(base, name)
    except TypeError:
        raise ModelNameError(
            f"model_name should be a str, got {name!r} ({type(name).__name__}): pass the registered model's name"
        ) from None
    try:
        try:
            return _lookup_in_cache(res, candidate)
        except _Fallback as fallback:
            if os.path.exists(name):
                if version is not None:
                    res.notes.append(
                        f"version={version} was ignored: {fallback.why}, so ./{os.fspath(name)} in the working "
                        f"directory ({res.cwd}) was returned whatever its version (azureml-core does the same)"
                    )
                return name, "cwd"
            v2 = _lookup_v2(res, fallback.why)
            if v2 is not None:
                return v2
            raise ModelNotFoundException(_not_found_message(res, fallback.why)) from None
    except ModelNotFoundException as error:
        if version is not None:
            # azureml-core turns it into a WebserviceException when a version was given.
            raise WebserviceException(error.message) from None
        raise


def _as_int_hint(version: Any) -> str:
    try:
        return str(int(version))
    except Exception:
        return "1"


def _listdir(path: Any, what: str) -> list[str]:
    try:
        return os.listdir(path)
    except NotADirectoryError as error:
        raise ModelFolderIsAFileError(f"{os.fspath(path)} is a file, but {what} must be a folder", error) from None
    except PermissionError as error:
        raise ModelFolderUnreadableError(
            f"{os.fspath(path)} cannot be read by this process (uid {_uid()}): {what}; fix its permissions", error
        ) from None
    except OSError as error:
        raise ModelFolderError(f"{os.fspath(path)} cannot be listed ({error.strerror}): {what}", error) from None


def _lookup_in_cache(res: Resolution, candidate: str) -> tuple[Any, str]:
    name, version = res.model_name, res.version
    if not os.path.exists(candidate):
        raise _Fallback(f"{candidate} does not exist")
    if version is None:
        entries = _listdir(candidate, f"the folder of model {name!r} (it holds one folder per version)")
        latest = _latest_version(candidate, entries, name)
    else:
        latest = version
    version_dir = os.path.join(candidate, str(latest))
    if not os.path.exists(version_dir):
        why = f"{version_dir} does not exist"
        if version is None:
            why += f" (the largest version is {latest}, from the folder named {_folder_of(candidate, latest)!r})"
        else:
            why += f" (versions there: {_versions_text(candidate)})"
        raise _Fallback(why)
    entries = _listdir(version_dir, f"the version folder of model {name!r}")
    if len(entries) != 1:
        raise WebserviceException(
            f"Dir {version_dir} can contain only 1 file or folder. Found {entries}: "
            + (
                "it is empty; the registered file or folder is missing"
                if not entries
                else "get_model_path returns the one file or folder registered as the model; register the "
                "files as one folder (and open the folder), or build the path yourself from "
                f"{version_dir}"
            )
        )
    return os.path.join(version_dir, entries[0]), MODELS_FOLDER


def _uid() -> str:
    getuid = getattr(os, "getuid", None)
    return str(getuid()) if getuid is not None else "?"


def _latest_version(candidate: str, entries: list[str], name: Any) -> int:
    if not entries:
        raise WebserviceException(
            f"versions is empty: {candidate} holds no version folder; a registered model is laid out as "
            f"{candidate}/<version>/<file or folder>"
        )
    numbers = []
    for entry in entries:
        try:
            numbers.append(int(entry))
        except ValueError:
            hint = " (a hidden file: remove it)" if entry.startswith(".") else ""
            raise ModelVersionFolderError(
                f"{candidate} holds {entry!r}{hint}, which is not a version number: every entry of a model's "
                f"folder must be a numbered version folder (1, 2, ...); remove it, or pass version=N "
                f"(numbered entries there: {_list_text(sorted(e for e in entries if _is_int(e)))})"
            ) from None
    return max(numbers)


def _is_int(text: str) -> bool:
    try:
        int(text)
    except ValueError:
        return False
    return True


def _folder_of(candidate: str, version: int) -> str:
    try:
        return next(e for e in os.listdir(candidate) if _is_int(e) and int(e) == version)
    except Exception:
        return str(version)


def _versions_text(model_dir: str) -> str:
    try:
        entries = sorted(os.listdir(model_dir), key=lambda e: (not _is_int(e), int(e) if _is_int(e) else 0, e))
    except OSError:
        return "none readable"
    return _list_text(entries) if entries else "none"


def _list_text(items: list[str]) -> str:
    if not items:
        return "none"
    shown = ", ".join(items[:MAX_LISTED])
    return shown + (f" and {len(items) - MAX_LISTED} more" if len(items) > MAX_LISTED else "")


def normalise(name: str) -> str:
    """The form in which near misses compare equal: case-insensitive, ``-`` and ``_`` alike."""
    return name.casefold().replace("-", "_")


def near_misses(name: str, candidates: list[str], *, n: int = 3, cutoff: float = 0.75) -> list[str]:
    """Candidates that differ from ``name`` only in case or ``-``/``_``, then up to ``n`` close spellings."""
    if not isinstance(name, str):
        return []
    key = normalise(name)
    same = [c for c in candidates if c != name and normalise(c) == key]
    import difflib  # lazily: only a failed lookup needs it (import shim stays light)

    close = difflib.get_close_matches(name, [c for c in candidates if c not in same and c != name], n=n, cutoff=cutoff)
    return same + close


def cached_models(base: str) -> dict[str, list[str]]:
    """The models under an ``azureml-models`` folder and their version folders (empty when unreadable)."""
    found: dict[str, list[str]] = {}
    try:
        names = sorted(os.listdir(base))
    except OSError:
        return found
    for model in names[:200]:
        try:
            versions = os.listdir(os.path.join(base, model))
        except OSError:
            continue
        found[model] = sorted(versions, key=lambda e: (not _is_int(e), int(e) if _is_int(e) else 0, e))
    return found


def _not_found_message(res: Resolution, why: str) -> str:
    name, base = res.model_name, res.models_dir
    parts = [
        f"Model {name} not found in cache at {base} or in current working directory {res.cwd}",
        f"looked at: {why}; ./{os.fspath(name)} does not exist either",
    ]
    models = cached_models(base)
    if models:
        listed = [f"{m} (versions {', '.join(v) or 'none'})" for m, v in models.items()]
        parts.append(f"models in {base}: {_list_text(listed)}")
    elif not os.path.isdir(base):
        root = os.environ.get("AML_APP_ROOT")
        parts.append(f"{base} does not exist (AML_APP_ROOT is {'unset' if root is None else repr(root)})")
    try:
        here = os.listdir(".")
    except OSError:
        here = []
    misses = near_misses(os.fspath(name), [*models, *here])
    if misses:
        parts.append(f"did you mean {' or '.join(repr(m) for m in misses)}?")
    model_dir = os.environ.get("AZUREML_MODEL_DIR")
    if model_dir:
        parts.append(
            f"AZUREML_MODEL_DIR is {model_dir!r} (holds {_list_text(_safe_listdir(model_dir))}): on a v2 managed "
            "endpoint the model is there, not in azureml-models; use os.path.join(os.environ['AZUREML_MODEL_DIR'], ...)"
        )
    else:
        parts.append("AZUREML_MODEL_DIR is not set")
    return "; ".join(parts)


def _safe_listdir(path: str) -> list[str]:
    try:
        return sorted(os.listdir(path))
    except OSError:
        return []


# -- v2: AZUREML_MODEL_DIR ---------------------------------------------------------------------------


def _lookup_v2(res: Resolution, why: str) -> tuple[str, str] | None:
    """Inside ``AZUREML_MODEL_DIR`` when there is no ``azureml-models`` cache; None to fail as azureml-core."""
    model_dir = os.environ.get("AZUREML_MODEL_DIR")
    if not model_dir or os.path.isdir(res.models_dir) or not os.path.isdir(model_dir):
        return None
    name, version = res.model_name, res.version
    if not isinstance(name, str):
        return None
    said = (
        f"resolved inside AZUREML_MODEL_DIR ({model_dir}) because {res.models_dir} does not exist (a v2 managed "
        "endpoint layout); azureml-core's Model.get_model_path would raise ModelNotFoundException here"
    )
    root_candidate = os.path.join(model_dir, name)
    if os.path.isdir(root_candidate) and not _is_int(os.path.basename(os.path.normpath(model_dir))):
        # AZUREML_MODEL_DIR points at a multi-model root (v1 multi-model deployments).
        sub = Resolution(name, version, model_dir, res.cwd)
        try:
            path, _ = _lookup_in_cache(sub, root_candidate)
        except _Fallback as fallback:
            raise ModelNotFoundException(
                f"Model {name} version {version} not found in AZUREML_MODEL_DIR ({model_dir}): {fallback.why}"
            ) from None
        res.notes.append(said)
        return path, "AZUREML_MODEL_DIR"
    folder = os.path.normpath(model_dir)
    last, parent = os.path.basename(folder), os.path.dirname(folder)
    if _is_int(last):
        registered = os.path.basename(parent)
        in_models_root = os.path.basename(os.path.dirname(parent)) == MODELS_FOLDER
        if version is not None and int(last) != version:
            raise ModelNotFoundException(
                f"Model {name} version {version} not found: this deployment's AZUREML_MODEL_DIR ({model_dir}) holds "
                f"{registered} version {last} only (one model per v2 deployment); pass version={last} or none"
            )
        if in_models_root and registered != name:
            misses = near_misses(name, [registered])
            raise ModelNotFoundException(
                f"Model {name} not found: this deployment's AZUREML_MODEL_DIR ({model_dir}) holds model "
                f"{registered!r} version {last} only (one model per v2 deployment)"
                + (f"; did you mean {registered!r}?" if misses else "")
            )
    entries = _safe_listdir(model_dir)
    if not entries:
        raise ModelNotFoundException(
            f"Model {name} not found: {why}, and AZUREML_MODEL_DIR ({model_dir}) is empty: the deployment's model "
            "was not mounted; check the deployment's model (or --model-dir)"
        )
    res.notes.append(said)
    if len(entries) == 1:
        return os.path.join(model_dir, entries[0]), "AZUREML_MODEL_DIR"
    res.notes.append(
        f"AZUREML_MODEL_DIR holds {len(entries)} entries ({_list_text(entries)}), so the folder itself was returned"
    )
    return model_dir, "AZUREML_MODEL_DIR"
