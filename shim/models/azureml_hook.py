"""Log a user's own ``azureml.core.model.Model.get_model_path`` calls, without importing azureml-core.

Many scripts still call azureml-core (deprecated since March 2025) in ``init()``. The shim never imports
it (0.4 s, ~1,900 modules): `install` patches ``Model.get_model_path`` if the user's script already
imported ``azureml.core.model``, and otherwise puts a finder on ``sys.meta_path`` that patches it right
after the module is executed, whenever the script imports it. Each call then writes one
``shim.model.get_model_path`` line (``via: azureml-core``) with the arguments, the result or the failure,
the ``MODELS_DIR`` azureml-core really used and the working directory, plus warnings:

- the run-context variables are set: it will go to the workspace over the network before the cache;
- ``AML_APP_ROOT`` changed after azureml-core read it at import (it still looks in the old place);
- the layout is v2 (no ``azureml-models`` folder, ``AZUREML_MODEL_DIR`` set), where it cannot work.

The result, the exception and the arguments pass through unchanged.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.machinery
import os
import sys
import threading
from collections.abc import Callable, Sequence
from time import perf_counter
from types import ModuleType
from typing import Any

from ..stream.configure import get_logger
from .paths import MODELS_FOLDER, jsonable, resolve, run_context_set

TARGET = "azureml.core.model"
_MARK = "__score_shim_logged__"
_lock = threading.Lock()


def install() -> None:
    """Patch now if azureml-core's model module is loaded, else when it is imported. Idempotent; never raises."""
    try:
        with _lock:
            module = sys.modules.get(TARGET)
            if module is not None:
                _patch(module)
            if not any(isinstance(finder, _Finder) for finder in sys.meta_path):
                sys.meta_path.insert(0, _Finder())
    except Exception:
        pass


class _Finder:
    """Finds nothing itself: wraps the loader the other finders return for ``azureml.core.model``.

    No ``importlib.abc`` base classes (a finder and a loader are protocols): importing ``importlib.abc``
    loads ``importlib.resources`` and ``tempfile``, about 10 ms of ``import shim``.
    """

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != TARGET:
            return None
        for finder in sys.meta_path:
            if finder is self or isinstance(finder, _Finder):
                continue
            find = getattr(finder, "find_spec", None)
            if find is None:
                continue
            spec = find(fullname, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _PatchingLoader(spec.loader)
                return spec  # type: ignore[no-any-return]
        return None


class _PatchingLoader:
    """Delegates to the real loader, then patches the executed module."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._inner.create_module(spec)  # type: ignore[no-any-return]

    def exec_module(self, module: ModuleType) -> None:
        self._inner.exec_module(module)
        with contextlib.suppress(Exception):
            _patch(module)

    def __getattr__(self, name: str) -> Any:  # get_source, get_filename, is_package, ...
        return getattr(self._inner, name)


def _patch(module: ModuleType) -> None:
    model = getattr(module, "Model", None)
    original = model.__dict__.get("get_model_path") if model is not None else None
    if not isinstance(original, staticmethod) or getattr(original.__func__, _MARK, False):
        return
    model.get_model_path = staticmethod(_logged(original.__func__, module))  # type: ignore[union-attr]


def _logged(func: Callable[..., Any], module: ModuleType) -> Callable[..., Any]:
    @functools.wraps(func)
    def get_model_path(*args: Any, **kwargs: Any) -> Any:
        started = perf_counter()
        warnings = _warnings(module)
        try:
            result = func(*args, **kwargs)
        except BaseException as error:
            _log(module, args, kwargs, started, warnings, error=error)
            raise
        _log(module, args, kwargs, started, warnings, result=result)
        return result

    setattr(get_model_path, _MARK, True)
    return get_model_path


def _models_dir(module: ModuleType) -> str:
    return str(getattr(module, "MODELS_DIR", ""))


def _warnings(module: ModuleType) -> list[str]:
    out: list[str] = []
    try:
        used = _models_dir(module)
        now = os.path.join(os.environ.get("AML_APP_ROOT", ""), MODELS_FOLDER)
        if run_context_set():
            out.append(
                "the run-context variables (AZUREML_RUN_ID, AZUREML_ARM_SUBSCRIPTION, ...) are set: get_model_path "
                "goes to the workspace over the network before the local cache (slow, and it needs credentials)"
            )
        if used != now:
            out.append(
                f"AML_APP_ROOT changed after azureml-core read it at import: it still looks in {used}, not in {now}; "
                "set AML_APP_ROOT before importing azureml.core"
            )
        model_dir = os.environ.get("AZUREML_MODEL_DIR")
        if model_dir and not os.path.isdir(used):
            out.append(
                f"v2 layout: there is no {used} folder and AZUREML_MODEL_DIR is {model_dir}; get_model_path never "
                "reads AZUREML_MODEL_DIR, so it cannot find the model here: use "
                "os.path.join(os.environ['AZUREML_MODEL_DIR'], ...) or shim.get_model_path"
            )
    except Exception:
        pass
    return out


def _log(
    module: ModuleType,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    started: float,
    warnings: list[str],
    **outcome: Any,
) -> None:
    try:
        name = args[0] if args else kwargs.get("model_name")
        version = args[1] if len(args) > 1 else kwargs.get("version")
        fields: dict[str, Any] = {
            "via": "azureml-core",
            "model_name": jsonable(name),
            "version": jsonable(version),
            "workspace": (len(args) > 2 and args[2] is not None) or kwargs.get("_workspace") is not None,
            "models_dir": _models_dir(module),
            "cwd": os.getcwd(),
            "duration_ms": round((perf_counter() - started) * 1000, 3),
        }
        if "result" in outcome:
            fields["path"] = jsonable(outcome["result"])
        else:
            error = outcome["error"]
            fields["error"] = error
            if isinstance(name, str):
                res = resolve(name, version)
                if res.error is None:
                    fields["shim_would_return"] = jsonable(res.path)
        if warnings:
            fields["warnings"] = warnings
        level = "warning" if warnings or "error" in outcome else "info"
        getattr(get_logger("shim"), level)("shim.model.get_model_path", **fields)
    except Exception:
        pass
