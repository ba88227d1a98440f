"""``check --deployment``: the same check, run inside a deployment's layout, judged by its settings.

`shim.deploy.rehearse` lays the deployment out; this module points the check's process at that layout
(environment, working directory, ``sys.path``, as the container has them) and afterwards adds what only
the deployment can say: the probes and the request timeout against the measured times, the instance's
memory against the peak, and, when ``init()`` missed a model file, how the YAML's ``model.path`` decided
where the file is.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

from ..deploy.findings import Finding
from ..deploy.rehearse import Rehearsal, RehearsalError, after_check, prepare
from ..runtime.loader import ENV_ENTRY_SCRIPT
from . import check


def check_deployment(options: check.CheckOptions) -> tuple[dict[str, Any], int]:
    """``check --deployment``: the report (with its ``deployment`` section) and the exit code."""
    # Read before the working directory moves into the layout.
    given = check.read_input(options.input, options.content_type, options.form)
    with rehearsed(options) as rehearsal:
        check.import_server()
        report, code = check.checked(enter(rehearsal), given)
        return report, finish(rehearsal, report, code)


@contextlib.contextmanager
def rehearsed(options: check.CheckOptions) -> Iterator[Rehearsal]:
    """The deployment laid out for the length of the check, then removed."""
    assert options.deployment is not None  # the CLI has checked the flags (app._one_script)
    try:
        rehearsal = prepare(options.deployment, model_path=options.model_path)
    except RehearsalError as error:
        raise check.CheckError(str(error), check.EXIT_USAGE) from None
    try:
        yield rehearsal
    finally:
        rehearsal.cleanup()


def enter(rehearsal: Rehearsal) -> Path:
    """This process, as the container's: its variables, its working directory, its ``sys.path``."""
    os.environ.update(rehearsal.environment)
    os.environ[ENV_ENTRY_SCRIPT] = str(rehearsal.script)
    os.chdir(rehearsal.layout.app_root)
    if str(rehearsal.layout.app_root) not in sys.path:
        sys.path.append(str(rehearsal.layout.app_root))  # as the server's aml_blueprint does with AML_APP_ROOT
    return rehearsal.script


def finish(rehearsal: Rehearsal, report: dict[str, Any], code: int) -> int:
    """The deployment's section of the report, and the exit code once its findings are counted."""
    load, init, run = report.get("load") or {}, report.get("init") or {}, report.get("run") or {}
    started = None
    if init.get("ok"):
        started = (load.get("duration_ms", 0) + init.get("duration_ms", 0)) / 1000
    run_ms = run.get("duration_ms") if run.get("ok") else None
    peak = (report.get("memory") or {}).get("peak_rss_bytes")
    findings = rehearsal.findings + after_check(rehearsal, init_seconds=started, run_ms=run_ms, peak_rss=peak)
    trap = model_path_trap(rehearsal, init.get("diagnosis") or load.get("diagnosis"))
    if trap is not None:
        findings.append(trap)
    section = rehearsal.summary()
    section["findings"] = [finding.as_dict() for finding in findings]
    for key in ("load", "init", "run"):
        step = report.get(key) or {}
        if "error" in step:  # the file to fix is the user's, not its copy in the layout
            step["error"] = _originals(step["error"], str(rehearsal.layout.code), str(rehearsal.deployment.code))
    report["deployment"] = section
    if any(finding.level == "error" and finding.topic == "environment" for finding in findings):
        code = check.EXIT_ENVIRONMENT  # the container would not even import what this machine has
    report["exit_code"] = code
    report["ok"] = code == check.EXIT_OK
    return code


def _originals(value: Any, copy: str, original: str) -> Any:
    if isinstance(value, str):
        return value.replace(copy, original)
    if isinstance(value, dict):
        return {key: _originals(item, copy, original) for key, item in value.items()}
    if isinstance(value, list):
        return [_originals(item, copy, original) for item in value]
    return value


def model_path_trap(rehearsal: Rehearsal, diagnosis: dict[str, Any] | None) -> Finding | None:
    """A model file looked for where the YAML's ``model.path`` did not put it: the registered path's rule.

    ``path: ../model/`` registers the folder (``AZUREML_MODEL_DIR/model/m.pkl``); ``path: ../model/m.pkl``
    registers the file alone (``AZUREML_MODEL_DIR/m.pkl``). Scripts written for one break on the other.
    """
    place = rehearsal.layout.model
    facts = (diagnosis or {}).get("facts") or {}
    missing = facts.get("absolute") or facts.get("path")
    if place is None or not isinstance(missing, str):
        return None
    try:
        asked = Path(missing).resolve().relative_to(place.model_dir.resolve())
    except ValueError:
        return None
    found = _same_name(place.model_dir, asked.name)
    written = _model_path_as_written(rehearsal)
    registered = "the file alone" if place.registered.is_file() else f"the folder '{place.registered.name}'"
    there = f"; it is at AZUREML_MODEL_DIR/{found}" if found else ""
    return Finding(
        "error",
        "model",
        f"init() looked for AZUREML_MODEL_DIR/{asked.as_posix()}, but the deployment's model.path ({written}) "
        f"registers {registered}{there}. " + _fix(place.registered.is_file(), written, found),
    )


def _same_name(model_dir: Path, name: str) -> str | None:
    for folder, dirs, files in os.walk(model_dir, followlinks=True):
        dirs.sort()
        if name in files:
            return Path(folder, name).relative_to(model_dir).as_posix()
    return None


def _model_path_as_written(rehearsal: Rehearsal) -> str:
    model = rehearsal.deployment.raw.get("model")
    if isinstance(model, dict) and model.get("path") is not None:
        return str(model["path"])
    return "--model-path"


def _fix(is_file: bool, written: str, found: str | None) -> str:
    if is_file:
        folder = str(PurePosixPath(written).parent) + "/"
        return (
            f"Register the folder instead (model.path: {folder}) or open os.path.join(os.environ['AZUREML_MODEL_DIR'], "
            f"'{found or PurePosixPath(written).name}') in score.py."
        )
    if found is None:
        return "List what the model holds with `score-shim check` (the model line) and open that path."
    return f"Open the file under the registered folder (os.path.join(os.environ['AZUREML_MODEL_DIR'], '{found}'))."
