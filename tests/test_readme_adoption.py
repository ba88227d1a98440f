"""The README's "Use it in an Azure ML deployment" section, run as written.

Every ``bash`` line of the section runs here, in a project folder laid out as azureml-examples lays one out
(``onlinescoring/score.py``, ``model/``, ``environment/conda.yaml``), except two that cannot run on this
machine: ``az ...`` talks to Azure, and ``azmlinfsrv`` binds 0.0.0.0 (for that line, its
``$(score-shim entry-path)`` is run instead). ``bash scripts/package.sh`` is the one CI runs itself. The
section's deployment YAML is loaded by azure-ai-ml's own ``load_online_deployment`` and rehearsed with
``score-shim check --deployment``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import joblib
import numpy as np
import pytest
from sklearn.linear_model import LinearRegression

from shim._version import __version__

ROOT = Path(__file__).resolve().parent.parent
SECTION = "## Use it in an Azure ML deployment"
NOT_RUN_HERE = ("az ", "azmlinfsrv ", "SCORE_SHIM_ENTRY_SCRIPT=score.py azmlinfsrv ")
CONDA = """\
name: model-env
channels: [conda-forge]
dependencies:
  - python=3.11
  - pip
  - pip:
    - azureml-inference-server-http
    - numpy
    - scikit-learn
    - joblib
"""


def section() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index(SECTION)
    end = text.index("\n## ", start + len(SECTION))
    return text[start:end]


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", section(), re.S)


def commands() -> list[str]:
    return [line.strip() for block in blocks("bash") for line in block.splitlines() if line.strip()]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The user's folder: score.py (the repository's example), its model, its conda file, a request."""
    (tmp_path / "onlinescoring").mkdir()
    shutil.copy(ROOT / "examples" / "sklearn" / "score.py", tmp_path / "onlinescoring" / "score.py")
    (tmp_path / "model").mkdir()
    rng = np.random.default_rng(0)
    features = rng.normal(size=(50, 10))
    model = LinearRegression().fit(features, features.sum(axis=1))
    joblib.dump(model, tmp_path / "model" / "sklearn_regression_model.pkl")
    (tmp_path / "environment").mkdir()
    (tmp_path / "environment" / "conda.yaml").write_text(CONDA)
    (tmp_path / "sample-request.json").write_text('{"data": [[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]]}')
    (tmp_path / "blue-deployment.yml").write_text(blocks("yaml")[0])
    dist = tmp_path / "dist"  # what `bash scripts/package.sh` leaves in the repository's dist/ (CI runs it)
    dist.mkdir()
    (dist / f"score_shim-{__version__}-py3-none-any.whl").write_bytes(b"a wheel")
    (tmp_path / "docker").symlink_to(ROOT / "docker")
    return tmp_path


def run(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("SCORE_SHIM_", "AZUREML_", "AML_"))}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return subprocess.run(["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_every_command_of_the_section_runs_as_written(project: Path) -> None:
    ran = []
    for command in commands():
        if command == "bash scripts/package.sh":
            assert "bash scripts/package.sh" in (ROOT / ".ci" / "run").read_text()  # CI runs it, once
            continue
        if command.startswith(NOT_RUN_HERE):
            assert command.startswith(NOT_RUN_HERE[2]) and '"$(score-shim entry-path)"' in command, command
            done = run("score-shim entry-path", project)
            assert done.returncode == 0 and Path(done.stdout.strip()).is_file(), done.stderr
            continue
        done = run(command, project)
        assert done.returncode == 0, (command, done.stdout, done.stderr)
        ran.append(command)
    assert ran[:2] == [
        "score-shim bundle onlinescoring --scoring-script score.py",
        "score-shim check --deployment blue-deployment.yml --input @sample-request.json",
    ]
    assert (project / "onlinescoring" / "score_shim_entry.py").is_file()
    assert (project / "env-context" / "Dockerfile").is_file()
    assert (project / "env-context" / f"score_shim-{__version__}-py3-none-any.whl").is_file()
    assert (project / "onlinescoring" / "shim_entry.py").read_text().startswith("from score_wrappers.entry import")


def test_the_sections_yaml_is_what_az_ml_loads(project: Path) -> None:
    from azure.ai.ml import load_online_deployment

    run("score-shim bundle onlinescoring --scoring-script score.py", project)
    deployment = load_online_deployment(source=project / "blue-deployment.yml")
    assert deployment.code_configuration.scoring_script == "score_shim_entry.py"
    assert Path(deployment.code_configuration.code).name == "onlinescoring"
    assert deployment.environment_variables == {"SCORE_SHIM_LOG_LEVEL": "info"}


def test_the_wheel_way_rehearses_with_its_one_line_entry(project: Path) -> None:
    for command in commands():
        if command.startswith(("cp ", "echo ")):
            assert run(command, project).returncode == 0, command
    yml = project / "blue-deployment.yml"
    text = yml.read_text().replace(
        "scoring_script: score_shim_entry.py  # was score.py", "scoring_script: shim_entry.py"
    )
    text = text.replace("  SCORE_SHIM_LOG_LEVEL: info\n", "  SCORE_SHIM_ENTRY_SCRIPT: score.py\n")
    text = re.sub(
        r"environment:\n  conda_file: .*\n  image: .*\n", "environment:\n  build:\n    path: ./env-context\n", text
    )
    yml.write_text(text)
    done = run("score-shim check --deployment blue-deployment.yml --input @sample-request.json", project)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "checks the script behind it, score.py" in done.stdout
