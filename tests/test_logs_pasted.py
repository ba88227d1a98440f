"""`score-shim logs` on the shapes users paste that the field measurement found missed (issue 15).

Every sample is written here, in the format of its kind (the lines are ours, the formats are the tools'):
bare error lines without a type or in quotes, the old images' gunicorn lines without timestamps, the SDK's and
CLI's messages, a build log's pip line. Each goes through the command as a user runs it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests._logs import logs_json, pasted, write

MODELS = "/var/azureml-app/azureml-models"


def only_failure(data: dict[str, Any]) -> dict[str, Any]:
    [group] = data["failures"]
    return group


@pytest.mark.parametrize(
    "line",
    [
        f"[Errno 2] No such file or directory: '{MODELS}/credit/3/credit.pkl'",
        f"`NO_SUCHFILE : Load model from {MODELS}/credit/3/credit.onnx failed:Load model failed. File doesn't exist`",
        f"SavedModel file does not exist at: {MODELS}/credit/3/outputs/model/{{saved_model.pbtxt|saved_model.pb}}",
        f"\"FileNotFoundError: [Errno 2] No such file or directory: '{MODELS}/credit/3/credit.pkl'\"",
    ],
    ids=["errno-without-type", "onnxruntime-in-backticks", "tensorflow-savedmodel", "quoted-exception-line"],
)
def test_a_missing_model_file_said_any_way_gets_the_layout_diagnosis(tmp_path: Path, line: str) -> None:
    _, data = pasted(tmp_path, line + "\n\nI registered the model from my run's outputs folder.\n")
    group = only_failure(data)
    assert f"AZUREML_MODEL_DIR is {MODELS}/credit/3 here" in group["diagnosis"]
    assert "keeps its folder name" in group["diagnosis"]


def test_the_scoring_script_not_found_names_code_and_scoring_script(tmp_path: Path) -> None:
    line = "FileNotFoundError: [Errno 2] No such file or directory: '/var/azureml-app/src/score.py'"
    _, data = pasted(tmp_path, line + "\n")
    diagnosis = only_failure(data)["diagnosis"]
    assert "no scoring script at /var/azureml-app/src/score.py" in diagnosis
    assert "code_configuration.code" in diagnosis and "scoring_script" in diagnosis


def test_library_frames_only_give_no_place_and_the_old_servers_main_is_no_package(tmp_path: Path) -> None:
    text = (
        '  File "/var/azureml-server/aml_blueprint.py", line 29, in <module>\n'
        "    main = importlib.import_module('main')\n"
        "ModuleNotFoundError: No module named 'main'\n"
    )
    _, data = pasted(tmp_path, text)
    group = only_failure(data)
    assert group["place"] is None  # the server's file is not the user's to fix
    assert "imports the entry script under the name main" in group["diagnosis"]
    assert "conda" not in group["diagnosis"]


def test_the_old_servers_azureml_api_is_azureml_defaults(tmp_path: Path) -> None:
    _, data = pasted(tmp_path, "ModuleNotFoundError: No module named 'azureml.api'\n")
    assert "add azureml-defaults to the environment's conda file" in only_failure(data)["diagnosis"]


def test_an_old_images_worker_that_failed_to_load_is_one_worker_even_when_the_traceback_is_cut(tmp_path: Path) -> None:
    text = (
        "Starting gunicorn 20.1.0\n"
        "Listening at: http://127.0.0.1:31311 (31)\n"
        "Booting worker with pid: 57\n"
        "Exception in worker process\n"
        "Traceback (most recent call last):\n"
        '  File "/azureml-envs/azureml_0a1b/lib/python3.8/site-packages/gunicorn/arbiter.py", line 589, in spawn\n'
    )
    shown, data = pasted(tmp_path, text)
    [worker] = data["workers"]
    assert (worker["pid"], worker["init"]) == (57, "failed")
    assert "the traceback that says why is cut in these lines" in only_failure(data)["message"]
    assert "Failures: none" not in shown


def test_old_gunicorn_lines_without_a_timestamp_tell_a_timed_out_and_killed_worker(tmp_path: Path) -> None:
    text = (
        "Booting worker with pid: 41\n"
        "WORKER TIMEOUT (pid:41)\n"
        '  File "/azureml-envs/azureml_0a1b/lib/python3.8/site-packages/gunicorn/app/wsgiapp.py", line 58 in run\n'
        "worker timed out, killing gunicorn\n"
        "Worker with pid 41 was terminated due to signal 9\n"
    )
    shown, data = pasted(tmp_path, text)
    assert data["worker_events"]["counts"].get("WORKER TIMEOUT") == 1
    assert data["failures"] == []  # the stack gunicorn printed for the timed-out worker is no failure
    assert "gunicorn's worker timeout" in shown and "No line from the inference server" not in shown
    other = pasted(tmp_path, "Worker with pid 88 was terminated due to signal 9\n")[1]
    assert other["worker_events"]["counts"] == {"SIGKILL (out of memory?)": 1}


def test_the_old_aks_unschedulable_sentence(tmp_path: Path) -> None:
    line = (
        '"Unschedulable: CPU/Memory resource insufficient, 2 replicas unschedulable. Please add more node(s) with '
        'SKU more than 0.5 CPU Cores and 1.5GB Memory to host your replicas OR reduce your replica count."'
    )
    _, data = pasted(tmp_path, line + "\n")
    [finding] = data["explained"]
    assert finding["kind"] == "unschedulable-cpu"
    assert finding["details"]["a node needs more than"] == "0.5 CPU Cores and 1.5GB Memory"
    assert finding["details"]["replicas unschedulable"] == "2"


def test_the_sdks_entry_script_error_gets_the_shared_diagnosis(tmp_path: Path) -> None:
    text = (
        "{\n"
        '  "code": "AciDeploymentFailed",\n'
        '  "message": "Aci Deployment failed with exception: Error in entry script, ModuleNotFoundError: No module '
        "named 'lightgbm', please run print(service.get_logs()) to get details.\",\n"
        '  "details": [{"code": "CrashLoopBackOff", "message": "Your container application crashed."}]\n'
        "}\n"
    )
    _, data = pasted(tmp_path, text)
    assert {"entry-script-error", "crash-loop"} <= {finding["kind"] for finding in data["explained"]}
    group = only_failure(data)
    assert (group["type"], group["message"]) == ("ModuleNotFoundError", "No module named 'lightgbm'")
    assert "add lightgbm to the environment's conda file" in group["diagnosis"]


def test_environment_build_failed_and_a_package_for_another_python(tmp_path: Path) -> None:
    text = (
        '    "code": "EnvironmentBuildFailed",\n'
        '    "message": "Failed building the Environment.",\n'
        "Pip subprocess error:\n"
        "ERROR: Package 'pandas' requires a different Python: 3.7.16 not in '>=3.9'\n"
    )
    _, data = pasted(tmp_path, text)
    kinds = {finding["kind"]: finding for finding in data["explained"]}
    assert "EnvironmentBuildFailed" in kinds
    assert kinds["pip-python-version"]["details"] == {"package": "pandas", "python": "3.7.16", "requires": ">=3.9"}


def test_a_wrapped_azureml_core_message_on_its_own_line_is_read(tmp_path: Path) -> None:
    text = (
        "Traceback (most recent call last):\n"
        '  File "/app/deploy.py", line 40, in main\n'
        '    raise DeployError(f"Could not load model: {error}")\n'
        "DeployError: Could not load model: WebserviceException:\n"
        "\tMessage: ModelNotFound: Model with name churn, version 7 not found in provided workspace\n"
        "\tInnerException None\n"
    )
    _, data = pasted(tmp_path, text)
    group = only_failure(data)
    assert group["message"].endswith("Model with name churn, version 7 not found in provided workspace")
    assert "the workspace has no model churn version 7" in group["diagnosis"]


def test_an_azure_error_on_one_json_line_is_read_by_its_codes(tmp_path: Path) -> None:
    error = {
        "code": "BadRequest",
        "message": "The request is invalid.",
        "details": [{"code": "OutOfQuota", "message": "Not enough quota available for Standard_DS3_v2."}],
    }
    _, data = pasted(tmp_path, json.dumps(error) + "\n")
    assert [finding["kind"] for finding in data["explained"]] == ["OutOfQuota"]


def test_a_buildkit_build_log_names_the_packages(tmp_path: Path) -> None:
    text = (
        "#9 41.87 PackagesNotFoundError: The following packages are not available from current channels:\n"
        "#9 41.87 \n"
        "#9 41.87   - scikit-learn==0.19.7\n"
        "#9 41.87   - lightgbm==9.9\n"
    )
    _, data = pasted(tmp_path, text)
    [finding] = data["explained"]
    assert finding["kind"] == "conda-packages-not-found"
    assert finding["details"]["packages"] == "scikit-learn==0.19.7, lightgbm==9.9"


def test_a_traceback_pasted_from_a_web_page_and_ipythons_frame_lines(tmp_path: Path) -> None:
    text = (
        "Traceback (most recent call last):\n"
        '  File "&lt;stdin&gt;", line 1, in &lt;module&gt;\n'
        "~/anaconda3/lib/python3.8/site-packages/azureml/core/webservice/webservice.py in wait_for_deployment(self)\n"
        "    923                     raise WebserviceException(\n"
        "ModelNotFoundException: ModelNotFoundException:\n"
        "\tMessage: Model churn not found in cache or in root at ./churn\n"
    )
    _, data = pasted(tmp_path, text)
    group = only_failure(data)  # the IPython frame line is no exception of its own
    assert group["type"] == "ModelNotFoundException" and group["place"] is None  # <stdin>, decoded, is no file
    assert "get_model_path('churn') found no model" in group["diagnosis"]


def test_ruamel_is_installed_as_ruamel_yaml(tmp_path: Path) -> None:
    _, data = pasted(tmp_path, "ModuleNotFoundError: No module named 'ruamel'\n")
    assert "add ruamel.yaml to the environment's conda file" in only_failure(data)["diagnosis"]


def test_numbers_too_big_for_a_float_are_no_latency_in_either_format(tmp_path: Path) -> None:
    """1e999 (JSON) and 5,000 nines (the console format) parse to infinity: counted, never a crash."""
    json_line = (
        '{"timestamp": "2026-12-03T15:54:33.2Z", "level": "info", "event": "shim.run.ok", "logger": "shim", '
        '"duration_ms": 1e999, "http": {"status": 200, "duration_ms": 1e999}, "pid": 1, "host": "h", '
        '"request_id": "r1"}'
    )
    console_line = (
        f"2026-12-03T15:54:34.2Z [info     ] shim.run.ok [shim] duration_ms={'9' * 5000} "
        "http='{\"method\": \"POST\", \"path\": \"/score\", \"status\": 200, \"duration_ms\": 1e999}' "
        "pid=1 host=h request_id=r2"
    )
    path = write(tmp_path, "huge.log", f"{json_line}\n{console_line}\n")
    data = logs_json(path)  # exits 0 with no traceback
    assert data["requests"]["by_status"] == {"200": 2}
    assert data["latency_ms"] is None  # no latency to tell
