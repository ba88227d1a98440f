"""``check --deployment`` and ``serve --deployment`` on deployments written as Microsoft's examples write them.

Each test lays out a small project the way azureml-examples' ``cli/endpoints/online`` does (a deployment
YAML in ``managed/sample/``, the model, the scoring code and the conda file under ``model-1/``), runs the
command as a user would (its own process, the real server's code), and asserts what the user reads: the
layout the script sees, the exit code, and the finding that names the fix.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import httpx
import joblib
import pytest
import sklearn
from sklearn.linear_model import LinearRegression

from tests._deployments import BLUE_DEPLOYMENT
from tests._server import free_port, wait_for
from tests.test_check_cli import check

#: A score.py that answers with what it sees of the container: the layout, as data.
LAYOUT_SCRIPT = """
import json, os

def init():
    pass

def run(raw_data):
    model_dir = os.environ.get("AZUREML_MODEL_DIR")
    files = []
    if model_dir:
        for folder, _, names in os.walk(model_dir):
            files += [os.path.relpath(os.path.join(folder, name), model_dir) for name in names]
    return {
        "AML_APP_ROOT": os.environ.get("AML_APP_ROOT"),
        "AZUREML_ENTRY_SCRIPT": os.environ.get("AZUREML_ENTRY_SCRIPT"),
        "AZUREML_MODEL_DIR": model_dir,
        "SCORING_TIMEOUT_MS": os.environ.get("SCORING_TIMEOUT_MS"),
        "GREETING": os.environ.get("GREETING"),
        "cwd": os.getcwd(),
        "file": __file__,
        "model_files": sorted(files),
    }
"""

#: azureml-examples' cli/endpoints/online/model-1/onlinescoring/score.py, in its essentials.
MICROSOFT_SCORE = """
import json
import logging
import os

import joblib
import numpy


def init():
    global model
    # AZUREML_MODEL_DIR is the path to the model folder (./azureml-models/$MODEL_NAME/$VERSION)
    model_path = os.path.join(os.getenv("AZUREML_MODEL_DIR"), "model/sklearn_regression_model.pkl")
    model = joblib.load(model_path)
    logging.info("Init complete")


def run(raw_data):
    data = json.loads(raw_data)["data"]
    data = numpy.array(data)
    result = model.predict(data)
    return result.tolist()
"""

CONDA = """
name: model-env
channels:
  - conda-forge
dependencies:
  - python=3.11
  - numpy
  - pip
  - scikit-learn
  - pip:
    - azureml-inference-server-http
    - joblib
"""

DEPLOYMENT = BLUE_DEPLOYMENT


def project(tmp_path: Path, *, score: str = MICROSOFT_SCORE, conda: str = CONDA, deployment: str = DEPLOYMENT) -> Path:
    """The azureml-examples layout in ``tmp_path``; returns the deployment YAML's path."""
    online = tmp_path / "endpoints" / "online"
    (online / "model-1" / "model").mkdir(parents=True)
    (online / "model-1" / "onlinescoring").mkdir()
    (online / "model-1" / "environment").mkdir()
    (online / "managed" / "sample").mkdir(parents=True)
    model = LinearRegression().fit([[1.0], [2.0], [3.0]], [2.0, 4.0, 6.0])
    joblib.dump(model, online / "model-1" / "model" / "sklearn_regression_model.pkl")
    (online / "model-1" / "onlinescoring" / "score.py").write_text(textwrap.dedent(score))
    (online / "model-1" / "environment" / "conda.yaml").write_text(conda)
    path = online / "managed" / "sample" / "blue-deployment.yml"
    path.write_text(deployment)
    return path


def rehearse(*args: str, cwd: Path) -> tuple[dict[str, Any], subprocess.CompletedProcess[str]]:
    done = check("--deployment", *args, "--json", cwd=cwd)
    assert done.stdout, done.stderr
    data: dict[str, Any] = json.loads(done.stdout)
    assert data["exit_code"] == done.returncode
    return data, done


def findings(report: dict[str, Any], level: str | None = None) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = report["deployment"]["findings"]
    return [item for item in found if level is None or item["level"] == level]


def seen(report: dict[str, Any]) -> dict[str, Any]:
    """What LAYOUT_SCRIPT's run() answered: the container as the script saw it."""
    return json.loads(report["run"]["output"]["text"])  # type: ignore[no-any-return]


def test_microsofts_example_works_and_the_script_sees_the_documented_layout(tmp_path: Path) -> None:
    yml = project(tmp_path)
    started = time.monotonic()
    report, done = rehearse(str(yml), "--input", '{"data": [[1.0], [4.0]]}', cwd=tmp_path)
    took = time.monotonic() - started
    assert done.returncode == 0, done.stdout
    assert report["run"]["output"]["text"].startswith("[2.0")
    section = report["deployment"]
    assert section["aml_app_root"] == "/var/azureml-app/onlinescoring"
    assert section["entry_script"] == "/var/azureml-app/onlinescoring/score.py"
    assert section["azureml_model_dir"].startswith("/var/azureml-app/azureml-models/")
    assert section["azureml_model_dir"].endswith("/1")
    assert section["scoring_timeout_ms"] == 5000  # request_settings.request_timeout_ms's default
    assert section["memory_limit_bytes"] == 14 * 1024**3  # Standard_DS3_v2
    assert not findings(report, "error"), findings(report)
    print(f"check --deployment took {took:.1f} s")


def test_the_layout_seen_by_score_py(tmp_path: Path) -> None:
    deployment = (
        DEPLOYMENT + "environment_variables:\n  GREETING: hello\nrequest_settings:\n  request_timeout_ms: 3000\n"
    )
    yml = project(tmp_path, score=LAYOUT_SCRIPT, deployment=deployment)
    report, done = rehearse(str(yml), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    got = seen(report)
    root = got["AML_APP_ROOT"]
    assert root.endswith("/var/azureml-app/onlinescoring")
    assert got["AZUREML_ENTRY_SCRIPT"] == "score.py"
    assert got["cwd"] == root and got["file"] == os.path.join(root, "score.py")
    model_dir = Path(got["AZUREML_MODEL_DIR"])
    assert model_dir.parent.parent == Path(root).parent / "azureml-models"
    assert len(model_dir.parent.name) == 64 and model_dir.name == "1"  # an anonymous model: its content's hash, v1
    assert got["model_files"] == ["model/sklearn_regression_model.pkl"]  # a folder keeps its name
    assert got["SCORING_TIMEOUT_MS"] == "3000" and got["GREETING"] == "hello"
    assert report["deployment"]["environment_variables"] == ["GREETING"]  # names, never values


def test_a_model_registered_as_one_file_lands_without_its_folder(tmp_path: Path) -> None:
    deployment = DEPLOYMENT.replace(
        "model:\n  path: ../../model-1/model/",
        "model:\n  name: regression\n  version: 3\n  path: ../../model-1/model/sklearn_regression_model.pkl",
    )
    yml = project(tmp_path, score=LAYOUT_SCRIPT, deployment=deployment)
    report, done = rehearse(str(yml), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    got = seen(report)
    assert got["AZUREML_MODEL_DIR"].endswith("/var/azureml-app/azureml-models/regression/3")
    assert got["model_files"] == ["sklearn_regression_model.pkl"]


def test_the_model_as_file_trap_fails_at_init_naming_the_file_and_model_path(tmp_path: Path) -> None:
    deployment = DEPLOYMENT.replace(
        "path: ../../model-1/model/", "path: ../../model-1/model/sklearn_regression_model.pkl"
    )
    yml = project(tmp_path, deployment=deployment)
    report, done = rehearse(str(yml), cwd=tmp_path)
    assert done.returncode == 3, done.stdout
    trap = [item for item in findings(report, "error") if item["topic"] == "model"]
    assert trap, findings(report)
    message = trap[0]["message"]
    assert "AZUREML_MODEL_DIR/model/sklearn_regression_model.pkl" in message
    assert "model.path (../../model-1/model/sklearn_regression_model.pkl)" in message
    assert "it is at AZUREML_MODEL_DIR/sklearn_regression_model.pkl" in message
    assert "model.path: ../../model-1/model/" in message  # the fix: register the folder


def test_a_registered_model_without_model_path_says_what_to_pass(tmp_path: Path) -> None:
    deployment = DEPLOYMENT.replace("model:\n  path: ../../model-1/model/", "model: azureml:regression:3")
    yml = project(tmp_path, deployment=deployment)
    done = check("--deployment", str(yml), cwd=tmp_path)
    assert done.returncode == 2
    assert done.stdout == ""  # nothing started
    assert "az ml model download --name regression --version 3" in done.stderr
    assert "--model-path" in done.stderr and "Traceback" not in done.stderr


def test_a_registered_model_with_model_path_is_laid_out_under_its_name_and_version(tmp_path: Path) -> None:
    deployment = DEPLOYMENT.replace("model:\n  path: ../../model-1/model/", "model: azureml:regression:3")
    yml = project(tmp_path, score=LAYOUT_SCRIPT, deployment=deployment)
    downloaded = tmp_path / "endpoints" / "online" / "model-1" / "model"
    report, done = rehearse(str(yml), "--model-path", str(downloaded), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    got = seen(report)
    assert got["AZUREML_MODEL_DIR"].endswith("/azureml-models/regression/3")
    assert got["model_files"] == ["model/sklearn_regression_model.pkl"]


def test_a_package_the_models_pickle_needs_and_the_environment_lacks_exits_5(tmp_path: Path) -> None:
    # Microsoft's score.py imports joblib and numpy only: scikit-learn is needed by the pickle alone.
    conda = CONDA.replace("  - scikit-learn\n", "")
    yml = project(tmp_path, conda=conda)
    report, done = rehearse(str(yml), "--input", '{"data": [[1.0]]}', cwd=tmp_path)
    assert done.returncode == 5, done.stdout
    missing = [item for item in findings(report, "error") if item["topic"] == "environment"]
    assert [item.get("package") for item in missing] == ["scikit-learn"], missing
    assert "sklearn_regression_model.pkl" in missing[0]["message"]
    assert report["run"]["ok"]  # it works here, where scikit-learn is installed: the environment is the problem


def test_a_package_the_script_imports_and_the_environment_lacks_names_its_pip_name(tmp_path: Path) -> None:
    score = "import yaml\n" + MICROSOFT_SCORE
    yml = project(tmp_path, score=score)
    report, done = rehearse(str(yml), "--input", '{"data": [[1.0]]}', cwd=tmp_path)
    assert done.returncode == 5, done.stdout
    missing = [item for item in findings(report, "error") if item["topic"] == "environment"]
    assert [item.get("package") for item in missing] == ["pyyaml"], missing
    assert "onlinescoring/score.py:1" in missing[0]["message"]


def test_a_curated_environment_is_not_compared_and_says_so(tmp_path: Path) -> None:
    deployment = DEPLOYMENT.replace(
        "environment:\n  conda_file: ../../model-1/environment/conda.yaml\n"
        "  image: mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04:latest",
        "environment: azureml://registries/azureml/environments/sklearn-1.5/versions/1",
    )
    yml = project(tmp_path, deployment=deployment)
    report, done = rehearse(str(yml), "--input", '{"data": [[1.0]]}', cwd=tmp_path)
    assert done.returncode == 0, done.stdout
    notes = [item["message"] for item in findings(report, "note") if item["topic"] == "environment"]
    assert any("cannot be read offline" in note for note in notes), findings(report)


def test_an_inline_conda_environment_is_compared(tmp_path: Path) -> None:
    deployment = DEPLOYMENT.replace(
        "  conda_file: ../../model-1/environment/conda.yaml\n",
        "  conda_file:\n    dependencies:\n      - python=3.11\n      - pip:\n"
        "        - azureml-inference-server-http\n        - joblib\n",
    )
    yml = project(tmp_path, deployment=deployment)
    report, done = rehearse(str(yml), "--input", '{"data": [[1.0]]}', cwd=tmp_path)
    assert done.returncode == 5, done.stdout
    packages = {item.get("package") for item in findings(report, "error")}
    assert "scikit-learn" in packages and "numpy" in packages, findings(report)


def test_a_pinned_version_other_than_the_models_is_a_warning_naming_both(tmp_path: Path) -> None:
    conda = CONDA.replace("  - scikit-learn\n", "  - scikit-learn=1.0.2\n")
    yml = project(tmp_path, conda=conda)
    report, done = rehearse(str(yml), "--input", '{"data": [[1.0]]}', cwd=tmp_path)
    assert done.returncode == 0, done.stdout  # warnings never change the exit code
    versions = [item["message"] for item in findings(report, "warning") if "1.0.2" in item["message"]]
    assert versions and sklearn.__version__ in versions[0], findings(report)


def test_a_run_slower_than_the_request_timeout_fails_at_its_line(tmp_path: Path) -> None:
    score = MICROSOFT_SCORE.replace(
        "    data = numpy.array(data)\n", "    data = numpy.array(data)\n    import time; time.sleep(5)\n"
    )
    deployment = DEPLOYMENT + "request_settings:\n  request_timeout_ms: 500\n"
    yml = project(tmp_path, score=score, deployment=deployment)
    report, done = rehearse(str(yml), "--input", '{"data": [[1.0]]}', cwd=tmp_path)
    assert done.returncode == 4, done.stdout
    run = report["run"]
    assert run["http_status"] == 500 and "scoring timeout (500 ms" in run["problem"]
    line = score.splitlines().index("    import time; time.sleep(5)") + 1
    assert run["error"]["where"]["line"] == line
    assert run["error"]["where"]["file"].endswith("onlinescoring/score.py")
    assert "score-shim-deployment-" not in run["error"]["where"]["file"]  # the user's file, not the layout's copy


def test_ctrl_c_on_a_hanging_check_says_where_it_hung(tmp_path: Path) -> None:
    score = MICROSOFT_SCORE.replace(
        "    global model\n",
        "    global model\n    import time\n    print('sleeping', flush=True)\n    time.sleep(60)\n",
    )
    yml = project(tmp_path, score=score)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCORE_SHIM_")}
    err_path = tmp_path / "check.err"
    process = subprocess.Popen(
        [sys.executable, "-m", "shim", "check", "--deployment", str(yml)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=err_path.open("wb"),
        text=True,
    )
    try:
        assert wait_for(lambda: "sleeping" in err_path.read_text(), timeout=60), err_path.read_text()
        process.send_signal(signal.SIGINT)
        out, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    err = err_path.read_text()
    assert process.returncode == 130, err
    assert "Aborted!" not in err
    assert "INTERRUPTED" in out
    line = score.splitlines().index("    time.sleep(60)") + 1
    assert f"onlinescoring/score.py:{line} in init" in out, out


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda d: d.replace("name: blue\n", "name: blue\n  bad: [\n"), "not valid YAML"),
        (
            lambda d: d.replace("code: ../../model-1/onlinescoring/", "code: ../../model-1/nowhere/"),
            "code_configuration.code",
        ),
        (
            lambda d: d.replace("scoring_script: score.py", "scoring_script: scor.py"),
            "code_configuration.scoring_script",
        ),
        (lambda d: d.replace("scoring_script: score.py", "scoring_script: ../score.py"), "outside the code folder"),
        (lambda d: d.replace("path: ../../model-1/model/", "path: ../../model-1/models/"), "model.path"),
        (lambda d: d.replace("conda.yaml", "conda.yml"), "environment.conda_file"),
        (lambda d: d.replace("endpoint_name: my-endpoint\n", ""), "'endpoint_name' is missing"),
        (lambda d: "- just\n- a list\n", "is not a deployment"),
    ],
)
def test_a_deployment_that_cannot_be_rehearsed_is_one_line_exit_2_and_nothing_starts(
    tmp_path: Path, change: Any, named: str
) -> None:
    yml = project(tmp_path, score="raise SystemExit('started')\n")
    yml.write_text(change(DEPLOYMENT))
    done = check("--deployment", str(yml), cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stdout == "" and "started" not in done.stderr
    assert named in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_a_misspelt_key_is_a_warning_with_the_right_name(tmp_path: Path) -> None:
    yml = project(tmp_path, deployment=DEPLOYMENT + "enviroment_variables:\n  GREETING: hi\n")
    report, done = rehearse(str(yml), "--input", '{"data": [[1.0]]}', cwd=tmp_path)
    assert done.returncode == 0, done.stdout
    typos = [item["message"] for item in findings(report, "warning") if "enviroment_variables" in item["message"]]
    assert typos and "Did you mean 'environment_variables'?" in typos[0]


def test_a_kubernetes_deployment_takes_its_memory_limit(tmp_path: Path) -> None:
    deployment = (
        DEPLOYMENT.replace("instance_type: Standard_DS3_v2\n", "type: kubernetes\n")
        + "resources:\n  requests:\n    memory: 0.5Gi\n  limits:\n    memory: 1Gi\n"
    )
    yml = project(tmp_path, deployment=deployment)
    report, done = rehearse(str(yml), "--input", '{"data": [[1.0]]}', cwd=tmp_path)
    assert done.returncode == 0, done.stdout
    assert report["deployment"]["kind"] == "kubernetes"
    assert report["deployment"]["memory_limit_bytes"] == 1024**3
    assert report["memory"]["limit_bytes"] == 1024**3  # the shim's memory check uses the deployment's limit


def test_the_text_report_shows_the_layout_and_the_fix(tmp_path: Path) -> None:
    yml = project(tmp_path, conda=CONDA.replace("  - scikit-learn\n", ""))
    done = check("--deployment", str(yml), "--input", '{"data": [[1.0]]}', cwd=tmp_path)
    assert done.returncode == 5
    assert "/var/azureml-app/onlinescoring/score.py" in done.stdout
    assert "scikit-learn" in done.stdout and "exit 5" in done.stdout


@pytest.mark.server
def test_serve_deployment_serves_the_layout_through_the_real_server(tmp_path: Path) -> None:
    score = LAYOUT_SCRIPT.replace(
        "def run(raw_data):\n", "def run(raw_data):\n    if 'slow' in raw_data:\n        import time; time.sleep(3)\n"
    )
    deployment = (
        DEPLOYMENT + "environment_variables:\n  GREETING: hello\nrequest_settings:\n  request_timeout_ms: 1000\n"
    )
    yml = project(tmp_path, score=score, deployment=deployment)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCORE_SHIM_")}
    err_path = tmp_path / "serve.err"
    process = subprocess.Popen(
        [sys.executable, "-m", "shim", "serve", "--deployment", str(yml), "--port", str(port)],
        cwd=tmp_path,
        env={**env, "SCORE_SHIM_LOG_FORMAT": "json"},
        stdout=(tmp_path / "serve.out").open("wb"),
        stderr=err_path.open("wb"),
        start_new_session=True,
    )
    try:
        assert wait_for(lambda: f"http://127.0.0.1:{port}/score" in err_path.read_text(), timeout=60), (
            err_path.read_text()
        )
        got = httpx.post(f"http://127.0.0.1:{port}/score", content=b'{"x": 1}', timeout=30).json()
        assert got["AML_APP_ROOT"].endswith("/var/azureml-app/onlinescoring") and got["cwd"] == got["AML_APP_ROOT"]
        assert got["AZUREML_MODEL_DIR"].endswith("/1") and got["model_files"] == ["model/sklearn_regression_model.pkl"]
        assert got["GREETING"] == "hello" and got["SCORING_TIMEOUT_MS"] == "1000"
        slow = httpx.post(f"http://127.0.0.1:{port}/score", content=b'{"slow": 1}', timeout=30)
        assert slow.status_code == 500 and "Scoring timeout after 1000 ms" in slow.text
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=40) == 0
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    err = err_path.read_text()
    assert "/var/azureml-app/onlinescoring/score.py" in err  # the layout, said before the server's lines
    assert not list(Path(got["AML_APP_ROOT"]).parents)[2].exists()  # the layout is removed when it stops


def test_a_gitignore_in_the_model_folder_leaves_the_model_out_as_az_ml_would(tmp_path: Path) -> None:
    from azure.ai.ml.entities import Model

    yml = project(tmp_path)
    model = yml.parent.parent.parent / "model-1" / "model"
    (model / ".gitignore").write_text("*.pkl\n")  # a repository's habit, copied into the model folder
    report, done = rehearse(str(yml), cwd=tmp_path)
    assert done.returncode == 3, done.stdout  # init() cannot find what was never uploaded
    left_out = [item["message"] for item in findings(report, "warning") if item["topic"] == "layout"]
    assert left_out and "model/.gitignore leaves 1 file(s) out of the upload" in left_out[0]
    assert "sklearn_regression_model.pkl" in left_out[0]
    # The anonymous name is the one az ml computes, over the files it uploads.
    assert report["deployment"]["model"]["name"] == Model(path=str(model)).name


def test_a_gitignore_in_the_code_folder_that_leaves_out_the_script(tmp_path: Path) -> None:
    yml = project(tmp_path)
    code = yml.parent.parent.parent / "model-1" / "onlinescoring"
    (code / ".amlignore").write_text("score.py\n")
    report, done = rehearse(str(yml), cwd=tmp_path)
    assert done.returncode == 3, done.stdout
    left_out = [item["message"] for item in findings(report, "warning") if item["topic"] == "layout"]
    assert left_out and "onlinescoring/.amlignore leaves 1 file(s) out of the upload" in left_out[0], findings(report)


def test_a_bundled_deployment_is_rehearsed_through_the_script_behind_the_entry(tmp_path: Path) -> None:
    yml = project(tmp_path)
    code = yml.parent.parent.parent / "model-1" / "onlinescoring"
    bundled = subprocess.run(
        [sys.executable, "-m", "shim", "bundle", str(code)], capture_output=True, text=True, timeout=60, check=False
    )
    assert bundled.returncode == 0, bundled.stderr
    yml.write_text(DEPLOYMENT.replace("scoring_script: score.py", "scoring_script: score_shim_entry.py"))
    report, done = rehearse(str(yml), "--input", '{"data": [[1.0]]}', cwd=tmp_path)
    assert done.returncode == 0, done.stdout
    assert report["run"]["ok"] and report["script"].endswith("/onlinescoring/score.py")
    assert not findings(report, "error"), findings(report)  # structlog and the shim come with the bundle
    notes = [item["message"] for item in findings(report, "note")]
    assert any("checks the script behind it, score.py" in note for note in notes), notes
    # What the environment must have is still read from score.py and its model.
    yml.parent.parent.parent.joinpath("model-1", "environment", "conda.yaml").write_text(
        CONDA.replace("  - scikit-learn\n", "")
    )
    report, done = rehearse(str(yml), "--input", '{"data": [[1.0]]}', cwd=tmp_path)
    assert done.returncode == 5 and [item.get("package") for item in findings(report, "error")] == ["scikit-learn"]


def test_a_one_line_entry_needs_score_shim_in_the_environment(tmp_path: Path) -> None:
    deployment = DEPLOYMENT.replace("scoring_script: score.py", "scoring_script: shim_entry.py") + (
        "environment_variables:\n  SCORE_SHIM_ENTRY_SCRIPT: score.py\n"
    )
    yml = project(tmp_path, deployment=deployment)
    code = yml.parent.parent.parent / "model-1" / "onlinescoring"
    (code / "shim_entry.py").write_text("from score_wrappers.entry import init, run  # noqa: F401\n")
    report, done = rehearse(str(yml), "--input", '{"data": [[1.0]]}', cwd=tmp_path)
    assert done.returncode == 5, done.stdout
    assert report["run"]["ok"] and report["script"].endswith("/onlinescoring/score.py")
    assert [item.get("package") for item in findings(report, "error")] == ["score-shim"], findings(report)


def test_an_escape_sequence_in_the_yaml_never_reaches_the_terminal(tmp_path: Path) -> None:
    yml = project(tmp_path)
    yml.write_text(DEPLOYMENT.replace("scoring_script: score.py", 'scoring_script: "\\e]0;pwned\\a\\e[2Jscore\\npy"'))
    done = check("--deployment", str(yml), cwd=tmp_path)
    assert done.returncode == 2
    assert "\x1b" not in done.stderr and "\x07" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "\\x1b]0;pwned\\x07\\x1b[2Jscore\\npy" in done.stderr  # shown, escaped, so the user sees what is there
