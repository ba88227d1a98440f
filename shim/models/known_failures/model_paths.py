"""Model paths and the layout Azure ML mounts: azureml-core's ``Model.get_model_path`` looking only in its cache,
a missing file one folder off under ``azureml-models/<name>/<version>``, a relative path, a path that was None,
and the scoring script not where the deployment said.
"""

from __future__ import annotations

import re
from typing import Any

from .known import GET_MODEL_PATH_LOOKS, REGISTERED_FOLDER, Known

_GET_MODEL_PATH_RE = re.compile(r"Model (\S+?)(?::(\S+))? not found in cache(?: at (\S+?) or in current working)?")
_WORKSPACE_MODEL_RE = re.compile(r"Model with name (\S+?),? version (\S+?) not found in provided workspace")


def workspace_model(kind: str, message: str, files: list[str]) -> Known | None:
    """azureml-core's ``Model(ws, name, version)`` when the workspace has no such model: the deploying side."""
    match = _WORKSPACE_MODEL_RE.search(message)
    if match is None:
        return None
    name, version = match.groups()
    return Known(
        "registered_model_missing",
        f"the workspace has no model {name} version {version}: check the name and version (az ml model list "
        "--name NAME), and that the code is connected to the workspace the model was registered in",
        {"model_name": name, "version": version},
    )


def model_not_in_cache(kind: str, message: str, files: list[str]) -> Known | None:
    """azureml-core's ``Model.get_model_path`` inside a deployment: it never reads AZUREML_MODEL_DIR."""
    match = _GET_MODEL_PATH_RE.search(message)
    if match is None and kind in ("ModelNotFoundException", "WebserviceException"):
        match = re.search(r"Model (\S+?)(?::(\S+))? not found", message)
    if match is None and kind != "ModelNotFoundException":
        return None  # azureml-core's WebserviceException is about much else
    name = match.group(1) if match else None
    named = f"Model.get_model_path({name!r})" if name else "azureml-core's Model.get_model_path"
    return Known(
        "azureml_core_model_not_found",
        f"{named} found no model: {GET_MODEL_PATH_LOOKS}, by the registered model's name (not its file name), "
        "never in AZUREML_MODEL_DIR; a v2 deployment mounts the model at AZUREML_MODEL_DIR "
        "(/var/azureml-app/azureml-models/<name>/<version>): build the path with "
        f"os.path.join(os.environ['AZUREML_MODEL_DIR'], <the file>) ({REGISTERED_FOLDER})",
        {"model_name": name, "version": match.group(2) if match else None},
    )


#: A missing file's path, as the loaders say it: Python's OSError, onnxruntime's, TensorFlow's SavedModel loader.
_NO_SUCH_FILE_RE = re.compile(
    r"No such file or directory: '([^']+)'|Load model from (\S+?) failed|SavedModel file does not exist at: (\S+)"
)
_MODELS_RE = re.compile(r"(.*?/azureml-models)/([^/]+)(?:/([^/]+))?(?:/(.+))?$")


def missing_model_file(kind: str, message: str, files: list[str]) -> Known | None:
    """A file a loader did not find: most often a model path one folder off the layout Azure ML mounts."""
    match = _NO_SUCH_FILE_RE.search(message)
    if match is None:
        return None
    path = next(group for group in match.groups() if group)
    facts: dict[str, Any] = {"path": path}
    layout = _MODELS_RE.match(path)
    if layout is None:
        return _outside_the_models(path, facts)
    return _in_the_models(path, layout, facts)


def _outside_the_models(path: str, facts: dict[str, Any]) -> Known | None:
    """A path that is not under ``azureml-models``: the scoring script's, a relative one, or nothing known."""
    if path.startswith(_APP_ROOT) and path.endswith(".py"):
        return _entry_script_missing(path, facts)
    if path.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", path) or "://" in path:
        return None
    return Known(
        "relative_path",
        f"{path} is relative, so it was looked up in the working directory (in Azure ML's images, "
        "/var/azureml-app), which is not the script's folder; build it from AZUREML_MODEL_DIR or __file__",
        facts,
    )


def _in_the_models(path: str, layout: re.Match[str], facts: dict[str, Any]) -> Known:
    """A path under ``azureml-models/<name>/<version>``: which part of the layout the script got wrong."""
    root, name, version, rest = layout.groups()
    facts.update(model_name=name, version=version)
    if version is not None and version.isdigit() and rest:
        model_dir = f"{root}/{name}/{version}"
        facts["azureml_model_dir"] = model_dir
        nested = "/" in rest
        return Known(
            "model_layout",
            f"{path} does not exist: AZUREML_MODEL_DIR is {model_dir} here, and {REGISTERED_FOLDER} "
            + (
                f"(the path goes through {rest.rpartition('/')[0]}/: is that the folder's registered name?)"
                if nested
                else f"(so the file is likely one folder down, at {model_dir}/<the registered folder>/{rest}; an "
                "MLflow model's folder is usually model/)"
            )
            + "; `score-shim check --model-dir` with the registered folder shows the layout",
            facts,
        )
    if version is not None and not version.isdigit():
        return Known(
            "model_layout",
            f"{path} does not exist: models are mounted at azureml-models/<name>/<version>/ and the path has no "
            f"version folder after {name}/; build it from AZUREML_MODEL_DIR, which names the version folder "
            f"({REGISTERED_FOLDER})",
            facts,
        )
    return Known(
        "model_layout",
        f"{path} does not exist: models are mounted at azureml-models/<name>/<version>/; build the path from "
        f"AZUREML_MODEL_DIR ({REGISTERED_FOLDER})",
        facts,
    )


_APP_ROOT = "/var/azureml-app/"


def _entry_script_missing(path: str, facts: dict[str, Any]) -> Known:
    """The server looks for the scoring script where the deployment says it is, under /var/azureml-app."""
    return Known(
        "entry_script_path",
        f"the server found no scoring script at {path}: Azure ML puts the deployment's code folder "
        "(code_configuration.code) under /var/azureml-app keeping its name, and scoring_script is relative to that "
        "folder; check both in the deployment YAML (score-shim check --deployment lays them out as Azure ML does)",
        facts,
    )


_NONE_PATH_RE = re.compile(r"(?:str, bytes or os\.PathLike object|os\.PathLike or integer), not NoneType")


def none_path(kind: str, message: str, files: list[str]) -> Known | None:
    """``os.path.join(None, ...)``: the type error says only NoneType, the usual cause is an unset variable."""
    if kind not in ("", "TypeError") or not _NONE_PATH_RE.search(message):
        return None
    return Known(
        "none_path",
        "a path was None: usually os.getenv('AZUREML_MODEL_DIR') (or another variable read for a path) returned "
        "None because it is not set: a deployment without a model, or a local run without --model-dir",
        {},
    )
