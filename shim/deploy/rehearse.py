"""The rehearsal as one object: read the YAML, lay it out, compare the environment, and judge the timings.

``check --deployment`` and ``serve --deployment`` both start here: `prepare` does everything that happens
before ``init()`` (and raises `RehearsalError` for what stops a rehearsal before anything starts);
`after_check` compares what ``init()`` and ``run()`` took with the deployment's probes, request settings
and instance size.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import behind_entry, platform
from .environment import EnvironmentFileError, compare, conda_declared, read_conda_file
from .findings import Finding
from .layout import Layout, LayoutError, lay_out
from .model_needs import model_needs
from .needs import ModelNeeds, Need
from .script_imports import script_imports
from .spec import Deployment, DeploymentError, InlineEnvironment, ReferencedEnvironment, read_deployment

#: What the rehearsal sets that the user's environment_variables may not override: Azure ML sets them itself.
PLATFORM_VARIABLES = ("AML_APP_ROOT", "AZUREML_ENTRY_SCRIPT", "AZUREML_MODEL_DIR")


class RehearsalError(Exception):
    """The deployment cannot be rehearsed (bad YAML, a missing path, a model to pass): exit code 2."""


@dataclass
class Rehearsal:
    """A deployment laid out on disk, what was found before start-up, and the settings to judge timings by."""

    deployment: Deployment
    layout: Layout
    request: platform.RequestSettings
    liveness: platform.Probe
    readiness: platform.Probe
    environment: dict[str, str]
    memory_limit_bytes: int | None
    findings: list[Finding] = field(default_factory=list)
    #: The user's script behind score-shim's own entry, when the deployment names that entry.
    behind: Path | None = None

    @property
    def script(self) -> Path:
        """The script to check and serve: the user's own, also behind a bundle's or a one-line entry."""
        return self.behind or self.layout.entry_script

    @property
    def workers(self) -> int:
        try:
            return max(1, int(self.environment.get("WORKER_COUNT", "1")))
        except ValueError:
            return 1

    def cleanup(self) -> None:
        shutil.rmtree(self.layout.root.parent.parent, ignore_errors=True)  # the mkdtemp folder above var/

    def summary(self) -> dict[str, Any]:
        """The report's ``deployment`` section: paths as in the container, never a variable's value."""
        model = self.layout.model
        return {
            "yaml": str(self.deployment.path),
            "kind": self.deployment.kind,
            "name": self.deployment.name,
            "folder": str(self.layout.root),
            "aml_app_root": self.layout.in_container(self.layout.app_root),
            "entry_script": self.layout.in_container(self.layout.entry_script),
            "azureml_model_dir": self.layout.in_container(model.model_dir) if model else None,
            "model": {"name": model.name, "version": model.version, "source": str(model.source)} if model else None,
            "environment_variables": sorted(self.deployment.environment_variables),
            "scoring_timeout_ms": int(self.environment["SCORING_TIMEOUT_MS"]),
            "instance_type": self.deployment.instance_type,
            "memory_limit_bytes": self.memory_limit_bytes,
            "findings": [finding.as_dict() for finding in self.findings],
        }


def prepare(path: Path, *, model_path: Path | None = None) -> Rehearsal:
    """Everything before ``init()``: the YAML read and validated, the layout made, the environment compared."""
    try:
        deployment = read_deployment(path)
    except DeploymentError as error:
        raise RehearsalError(str(error)) from None
    validated, model_name = _validate(path)
    findings = list(deployment.findings) + validated
    folder = Path(tempfile.mkdtemp(prefix="score-shim-deployment-"))
    try:
        layout = lay_out(deployment, folder / "var" / "azureml-app", model_path=model_path, anonymous_name=model_name)
        return _rehearsal(deployment, layout, findings)
    except LayoutError as error:
        shutil.rmtree(folder, ignore_errors=True)
        raise RehearsalError(str(error)) from None
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def _validate(path: Path) -> tuple[list[Finding], str | None]:
    """azure-ai-ml's own loader where it is installed (``score-shim[aml]``), minus what spec already said.

    Also the anonymous model's name as azure-ai-ml computes it: exact even when an ``.amlignore`` leaves
    files out of the upload (and so out of the hash).
    """
    from .aml_validation import validate_with_azure_ai_ml

    validation = validate_with_azure_ai_ml(path)
    if validation is None:
        return [
            Finding(
                "note",
                "yaml",
                "the YAML was read with score-shim's own reader of the documented keys; pip install azure-ai-ml "
                "to validate it with the loader az ml uses as well.",
            )
        ], None
    # Unknown keys are already reported by spec (with the same suggestion): keep the loader's other findings.
    kept = [finding for finding in validation.findings if "refuses unknown keys" not in finding.message]
    return kept, validation.model_name


def _rehearsal(deployment: Deployment, layout: Layout, findings: list[Finding]) -> Rehearsal:
    raw = deployment.raw
    request, found = platform.request_settings_from(_sub(raw, "request_settings"), kind=deployment.kind)
    liveness, live_found = platform.probe_from(_sub(raw, "liveness_probe"), "liveness")
    readiness, ready_found = platform.probe_from(_sub(raw, "readiness_probe"), "readiness")
    environment, env_found = _environment(deployment, layout, request)
    memory = _memory_limit(deployment)
    if memory is not None:
        environment["SCORE_SHIM_MEMORY_LIMIT_MB"] = str(max(1, memory // (1024 * 1024)))
    findings += layout.findings + found + live_found + ready_found + env_found
    behind = behind_entry.script_behind(layout.entry_script, layout.code, deployment.environment_variables)
    if behind is not None:
        findings.append(
            Finding(
                "note",
                "settings",
                f"the scoring script {deployment.scoring_script} is score-shim's entry: the rehearsal checks the "
                f"script behind it, {behind.relative_to(layout.code).as_posix()}, as the entry runs it.",
            )
        )
    findings += environment_findings(deployment, layout, behind)
    return Rehearsal(deployment, layout, request, liveness, readiness, environment, memory, findings, behind)


def _sub(raw: Mapping[str, Any], key: str) -> Mapping[str, Any] | None:
    value = raw.get(key)
    return value if isinstance(value, Mapping) else None


def _environment(
    deployment: Deployment, layout: Layout, request: platform.RequestSettings
) -> tuple[dict[str, str], list[Finding]]:
    """What the container's process sees: the platform's variables, the user's, and the scoring timeout."""
    findings = []
    environment = dict(deployment.environment_variables)
    for name in PLATFORM_VARIABLES:
        if name in environment:
            findings.append(
                Finding(
                    "warning",
                    "settings",
                    f"environment_variables.{name} is set, but Azure ML sets {name} itself in the container; "
                    "remove it from the YAML.",
                )
            )
    environment.update(layout.environment)
    # request_settings.request_timeout_ms is what the platform waits; the server's own timeout follows it.
    environment.setdefault("SCORING_TIMEOUT_MS", str(request.request_timeout_ms))
    return environment, findings


def _memory_limit(deployment: Deployment) -> int | None:
    if deployment.memory_limit is not None:
        return platform.kubernetes_memory_bytes(deployment.memory_limit)
    if deployment.instance_type:
        return platform.instance_memory_bytes(deployment.instance_type)
    return None


def environment_findings(deployment: Deployment, layout: Layout, behind: Path | None = None) -> list[Finding]:
    """The script's and the model's needs against the environment's conda file (when it can be read)."""
    shown = deployment.code.name
    needs: list[Need] = script_imports(layout.entry_script, layout.code, shown_root=shown)
    if behind is not None:
        entry_shown = f"{shown}/{deployment.scoring_script}"
        needs = behind_entry.shims_needs(needs, entry_shown, behind_entry.is_bundled(layout.code))
        needs += script_imports(behind, layout.code, shown_root=shown)
    model = ModelNeeds()
    if layout.model is not None:
        model = model_needs(layout.model.registered, shown_as=layout.model.registered.name)
        needs += model.needs
    findings = list(model.findings)
    environment = deployment.environment
    if environment is None or isinstance(environment, ReferencedEnvironment):
        return [*findings, _unread_environment(environment)]
    declared = _declared(environment, deployment)
    if isinstance(declared, Finding):
        return [*findings, declared]
    return findings + compare(declared, needs, python_needed=model.python_version, image=environment.image)


def _unread_environment(environment: ReferencedEnvironment | None) -> Finding:
    if environment is None:
        return Finding("warning", "environment", "the deployment names no environment: az ml requires one for code.")
    return Finding(
        "note",
        "environment",
        f"environment '{environment.reference}' is referenced by name (a registered or curated environment): its "
        "packages cannot be read offline, so the rehearsal does not compare them with what the script imports.",
    )


def _declared(environment: InlineEnvironment, deployment: Deployment) -> Any:
    if environment.conda_file is None and environment.conda_inline is None:
        what = "a Docker build context" if environment.build_context else f"the image {environment.image} alone"
        return Finding(
            "note",
            "environment",
            f"the environment is {what}, without a conda file: its packages cannot be read offline, so the "
            "rehearsal does not compare them with what the script imports.",
        )
    if environment.conda_file is not None:
        try:
            return read_conda_file(environment.conda_file)
        except EnvironmentFileError as error:
            raise RehearsalError(f"{deployment.path}: environment.conda_file: {error}") from None
    return _inline_conda(environment.conda_inline or {}, deployment)


def _inline_conda(conda: Mapping[str, Any], deployment: Deployment) -> Any:
    """A conda file written into the YAML: read by the same reader, named by the YAML that holds it."""
    try:
        return conda_declared(dict(conda), deployment.path)
    except EnvironmentFileError as error:
        raise RehearsalError(f"{deployment.path}: environment.conda_file: {error}") from None


def after_check(
    rehearsal: Rehearsal, *, init_seconds: float | None, run_ms: float | None, peak_rss: int | None
) -> list[Finding]:
    """What ``init()`` and ``run()`` took, against the probes, the request settings and the instance."""
    findings: list[Finding] = []
    with contextlib.suppress(Exception):  # a judgement, never a reason for the check itself to fail
        if init_seconds is not None:
            findings += platform.probe_findings(rehearsal.liveness, rehearsal.readiness, init_seconds)
        findings += platform.concurrency_findings(rehearsal.request, rehearsal.workers, run_ms)
        findings += platform.memory_findings(
            rehearsal.deployment.instance_type, rehearsal.memory_limit_bytes, peak_rss, rehearsal.workers
        )
    return findings
