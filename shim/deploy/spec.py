"""Read a deployment YAML: the documented subset of the managed and Kubernetes online deployment schemas.

What the rehearsal needs is small (the code, the model, the environment, the settings), but what a user
writes is not: a misspelt key is silently ignored by a hand-written reader and refused by
``az ml online-deployment create``. So every key is checked against the schema's names (the YAML
references below, and azure-ai-ml's ``OnlineDeploymentSchema``), an unknown one becomes a warning with the
closest known name, and a missing required one, or a path that does not exist, an error naming the key.

Sources:
- https://learn.microsoft.com/azure/machine-learning/reference-yaml-deployment-managed-online
- https://learn.microsoft.com/azure/machine-learning/reference-yaml-deployment-kubernetes-online
- azure-ai-ml ``_schema/_deployment/deployment.py`` and ``online/online_deployment.py`` (the loader
  ``az ml`` runs): ``name`` and ``endpoint_name`` are required, ``instance_type`` too for managed ones.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .findings import Finding

KNOWN_KEYS = frozenset(
    {
        "$schema", "name", "endpoint_name", "description", "tags", "properties", "id", "type", "model",
        "code_configuration", "environment", "environment_variables", "instance_type", "instance_count",
        "app_insights_enabled", "scale_settings", "request_settings", "liveness_probe", "readiness_probe",
        "egress_public_network_access", "data_collector", "model_mount_path", "resources",
        "private_network_connection", "provisioning_state",
    }
)  # fmt: skip
NESTED_KEYS = {
    "code_configuration": frozenset({"code", "scoring_script"}),
    "request_settings": frozenset({"request_timeout_ms", "max_concurrent_requests_per_instance", "max_queue_wait_ms"}),
    "liveness_probe": frozenset({"initial_delay", "period", "timeout", "success_threshold", "failure_threshold"}),
    "readiness_probe": frozenset({"initial_delay", "period", "timeout", "success_threshold", "failure_threshold"}),
    "model": frozenset({"name", "version", "path", "type", "description", "tags", "properties", "stage", "$schema"}),
    "environment": frozenset(
        {"name", "version", "image", "conda_file", "build", "description", "tags", "properties", "os_type",
         "inference_config", "$schema"}
    ),
}  # fmt: skip
REQUIRED = {"managed": ("name", "endpoint_name", "instance_type"), "kubernetes": ("name", "endpoint_name")}


class DeploymentError(Exception):
    """The YAML cannot be rehearsed: the message names the key and the path, and says what to do."""


@dataclass(frozen=True)
class LocalModel:
    """A model uploaded from the user's disk: registered under ``name`` (an anonymous hash when absent)."""

    path: Path
    name: str | None
    version: str | None


@dataclass(frozen=True)
class RegisteredModel:
    """A model already in a workspace or registry: no local copy, so ``--model-path`` must give one."""

    name: str
    version: str | None
    reference: str


@dataclass(frozen=True)
class InlineEnvironment:
    """An environment written into the deployment: its conda file can be read offline."""

    conda_file: Path | None
    conda_inline: Mapping[str, Any] | None
    image: str | None
    build_context: Path | None


@dataclass(frozen=True)
class ReferencedEnvironment:
    """``azureml:name:version``, ``azureml:name@latest`` or a registry's (curated) environment."""

    reference: str


@dataclass
class Deployment:
    """What one deployment YAML says, with its paths resolved against the YAML's own folder."""

    path: Path
    kind: str  # "managed" or "kubernetes"
    name: str | None
    code: Path
    scoring_script: str
    model: LocalModel | RegisteredModel | None
    environment: InlineEnvironment | ReferencedEnvironment | None
    environment_variables: dict[str, str]
    instance_type: str | None
    memory_limit: str | None  # Kubernetes ``resources.limits.memory``
    raw: Mapping[str, Any]
    findings: list[Finding] = field(default_factory=list)


def read_deployment(path: Path) -> Deployment:
    """The deployment in ``path``; `DeploymentError` for what stops a rehearsal, findings for the rest."""
    data = _load_yaml(path)
    base = path.resolve().parent
    findings = _unknown_keys(data)
    kind = "kubernetes" if str(data.get("type", "")).lower() == "kubernetes" else "managed"
    for key in REQUIRED[kind]:
        if data.get(key) in (None, ""):
            raise DeploymentError(
                f"{path}: the key '{key}' is missing; az ml online-deployment create requires it "
                f"(see https://learn.microsoft.com/azure/machine-learning/reference-yaml-deployment-{kind}-online)."
            )
    code, script = _code_configuration(data, base, path)
    variables, typed = _environment_variables(data, path)
    limits = (_mapping(data, "resources", path).get("limits") or {}) if kind == "kubernetes" else {}
    return Deployment(
        path=path,
        kind=kind,
        name=_text(data.get("name")),
        code=code,
        scoring_script=script,
        model=_model(data.get("model"), base, path),
        environment=_environment(data.get("environment"), base, path),
        environment_variables=variables,
        instance_type=_text(data.get("instance_type")),
        memory_limit=_text(limits.get("memory")) if isinstance(limits, Mapping) else None,
        raw=data,
        findings=findings + typed,
    )


def _load_yaml(path: Path) -> Mapping[str, Any]:
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DeploymentError(f"{path}: no such file. Give the deployment YAML (e.g. blue-deployment.yml).") from None
    except IsADirectoryError:
        raise DeploymentError(f"{path} is a folder; give the deployment YAML file in it.") from None
    except (OSError, UnicodeDecodeError) as error:
        raise DeploymentError(f"{path}: cannot be read ({error}).") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise DeploymentError(f"{path} is not valid YAML{where}: {problem}.") from None
    if not isinstance(data, Mapping):
        raise DeploymentError(
            f"{path} is not a deployment: its top level is a {type(data).__name__}, not keys such as "
            "name, endpoint_name, model, code_configuration, environment."
        )
    return data


def _unknown_keys(data: Mapping[str, Any]) -> list[Finding]:
    findings = [_unknown(str(key), KNOWN_KEYS) for key in data if str(key) not in KNOWN_KEYS]
    for parent, known in NESTED_KEYS.items():
        value = data.get(parent)
        if isinstance(value, Mapping):
            findings += [_unknown(f"{parent}.{key}", known, str(key)) for key in value if str(key) not in known]
    return findings


def _unknown(shown: str, known: frozenset[str], key: str | None = None) -> Finding:
    close = difflib.get_close_matches(key or shown, sorted(known), n=1, cutoff=0.6)
    hint = f" Did you mean '{close[0]}'?" if close else ""
    return Finding(
        "warning",
        "yaml",
        f"'{shown}' is not a key of an online deployment: Azure ML would not read it "
        f"(az ml online-deployment create refuses it).{hint}",
    )


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _mapping(data: Mapping[str, Any], key: str, path: Path) -> Mapping[str, Any]:
    value = data.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise DeploymentError(f"{path}: '{key}' must be a mapping of keys, not {type(value).__name__}.")
    return value


def _existing(base: Path, value: Any, key: str, path: Path, *, folder: bool | None) -> Path:
    """``value`` resolved against the YAML's folder, as az ml resolves it; an error naming ``key`` if absent."""
    if not isinstance(value, str) or not value.strip():
        raise DeploymentError(f"{path}: '{key}' must be a path (relative to the YAML's folder).")
    resolved = (base / Path(value).expanduser()).resolve()
    kind = "folder" if folder else "file" if folder is False else "file or folder"
    if not resolved.exists():
        raise DeploymentError(f"{path}: '{key}: {value}' points at {resolved}, which does not exist; give the {kind}.")
    if folder is not None and resolved.is_dir() != folder:
        raise DeploymentError(
            f"{path}: '{key}: {value}' is a {'folder' if resolved.is_dir() else 'file'}; give a {kind}."
        )
    return resolved


def _code_configuration(data: Mapping[str, Any], base: Path, path: Path) -> tuple[Path, str]:
    config = _mapping(data, "code_configuration", path)
    if not config:
        raise DeploymentError(
            f"{path} has no code_configuration: there is no scoring script to rehearse (a no-code MLflow "
            "deployment gets Azure ML's generated one). Add code_configuration: {code: ..., scoring_script: score.py}."
        )
    code = _existing(base, config.get("code"), "code_configuration.code", path, folder=True)
    script = config.get("scoring_script")
    if not isinstance(script, str) or not script.strip():
        raise DeploymentError(f"{path}: 'code_configuration.scoring_script' is missing; name your score.py.")
    resolved = (code / script).resolve()
    if not resolved.is_relative_to(code):
        raise DeploymentError(
            f"{path}: 'code_configuration.scoring_script: {script}' is outside the code folder {code}; "
            "Azure ML uploads only the code folder: move the script into it."
        )
    if not resolved.is_file():
        raise DeploymentError(
            f"{path}: 'code_configuration.scoring_script: {script}' is not in the code folder {code}; "
            f"give its path relative to code_configuration.code."
        )
    return code, resolved.relative_to(code).as_posix()


def _model(value: Any, base: Path, path: Path) -> LocalModel | RegisteredModel | None:
    if value is None:
        return None
    if isinstance(value, str):
        return registered_model(value, path)
    if not isinstance(value, Mapping):
        raise DeploymentError(f"{path}: 'model' must be a reference (azureml:name:version) or a mapping with a path.")
    if value.get("path") is None:
        raise DeploymentError(f"{path}: 'model' has no 'path': give the local model file or folder.")
    if str(value["path"]).startswith(("azureml:", "azureml://", "https://", "wasbs://", "abfss://")):
        return RegisteredModel(_text(value.get("name")) or "model", _text(value.get("version")), str(value["path"]))
    model_path = _existing(base, value.get("path"), "model.path", path, folder=None)
    return LocalModel(model_path, _text(value.get("name")), _text(value.get("version")))


def registered_model(reference: str, path: Path) -> RegisteredModel:
    """``azureml:name:version``, ``azureml:name@label``, a registry's or an ARM id: its name and version."""
    text = reference.strip()
    if "/models/" in text:  # azureml://registries/r/models/name/versions/3, azureml:/subscriptions/.../models/...
        tail = text.split("/models/", 1)[1].split("/")
        version = tail[2] if len(tail) > 2 and tail[1] == "versions" else None
        return RegisteredModel(tail[0], version, text)
    body = text.removeprefix("azureml:")
    name, _, version = body.partition(":")
    name = name.partition("@")[0]  # azureml:name@latest: the version is whatever is latest then
    if not name:
        raise DeploymentError(f"{path}: 'model: {reference}' names no model; write azureml:<name>:<version>.")
    return RegisteredModel(name, version or None, text)


def _environment(value: Any, base: Path, path: Path) -> InlineEnvironment | ReferencedEnvironment | None:
    if value is None:
        return None
    if isinstance(value, str):
        return ReferencedEnvironment(value.strip())
    if not isinstance(value, Mapping):
        raise DeploymentError(f"{path}: 'environment' must be a reference (azureml:name:version) or a mapping.")
    conda = value.get("conda_file")
    conda_file = None
    if isinstance(conda, str):
        conda_file = _existing(base, conda, "environment.conda_file", path, folder=False)
    elif conda is not None and not isinstance(conda, Mapping):
        raise DeploymentError(f"{path}: 'environment.conda_file' must be a path to a conda YAML file.")
    build = value.get("build")
    context = None
    if isinstance(build, Mapping) and build.get("path") is not None:
        context = _existing(base, build.get("path"), "environment.build.path", path, folder=True)
    return InlineEnvironment(
        conda_file=conda_file,
        conda_inline=conda if isinstance(conda, Mapping) else None,
        image=_text(value.get("image")),
        build_context=context,
    )


def _environment_variables(data: Mapping[str, Any], path: Path) -> tuple[dict[str, str], list[Finding]]:
    """The variables as the container sees them (strings), and a warning for each value YAML typed.

    YAML reads ``true``, ``on``, ``1.0`` and an empty value as a boolean, a number or null: the script then
    sees whatever text that becomes on the way (``True``, ``1.0``, nothing), not what was written.
    """
    variables = _mapping(data, "environment_variables", path)
    findings = [
        Finding(
            "warning",
            "yaml",
            f"environment_variables.{key} is a YAML {_yaml_type(value)} ({value!r}), not text: quote it "
            f'("{"" if value is None else value}") so that the container sees exactly what you wrote.',
        )
        for key, value in variables.items()
        if not isinstance(value, str)
    ]
    return {str(key): "" if value is None else str(value) for key, value in variables.items()}, findings


def _yaml_type(value: Any) -> str:
    return (
        "null"
        if value is None
        else "boolean"
        if isinstance(value, bool)
        else "number"
        if isinstance(value, (int, float))
        else type(value).__name__
    )
