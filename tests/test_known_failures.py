"""The ecosystem's known breakages (`shim.models.known_failures`), named the same wherever the failure is seen:
by `score-shim check` on a real score.py, in the real server's ``shim.init.failed``, and by `score-shim logs`
on what users paste (a whole traceback, its tail without the header, the bare error line), including the bare
server's own text. Failures are produced for real with the libraries installed here (jinja2 3.1, itsdangerous
2.2, Werkzeug 3, scikit-learn, protobuf 4+, mlflow); only those that cannot happen here (numpy's binary
mismatch, azureml-core's exceptions) are raised from score.py with the libraries' own message text.
"""

from __future__ import annotations

import copyreg
import io
import pickle
import subprocess
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sklearn.base import BaseEstimator
from sklearn.ensemble import RandomForestClassifier

from tests._logs import logs_json, write
from tests._scripts import JOBLIB_LOAD, registered_model_dir, score_script, server_init_failure
from tests._server import running_server
from tests.test_check_cli import report

SITE = "/azureml-envs/azureml_5b1/lib/python3.10/site-packages"
SCORE = "/var/azureml-app/onlinescoring/score.py"


def _check(script: Path, model_dir: Path) -> dict[str, Any]:
    """`score-shim check --json`: the diagnosis of the start-up failure (the import's or init()'s)."""
    data, done = report(str(script), "--model-dir", str(model_dir), cwd=script.parent)
    assert done.returncode == 3, done.stdout + done.stderr
    failed = data.get("init") if isinstance(data.get("init"), dict) and data["init"].get("error") else data["load"]
    diagnosis: dict[str, Any] = failed["diagnosis"]
    return diagnosis


def _logs(tmp_path: Path, text: str, name: str = "pasted.log") -> dict[str, Any]:
    """`python -m shim logs FILE --json` on ``text``; its one failure group."""
    failures = logs_json(write(tmp_path, name, text))["failures"]
    assert len(failures) == 1, failures
    group: dict[str, Any] = failures[0]
    return group


def _forms(frames: list[tuple[str, int, str, str]], exception: str, bare: str | None = None) -> dict[str, str]:
    """A traceback as users paste it: whole, its tail without the header, and its bare error line."""
    tail = "".join(f'  File "{f}", line {n}, in {fn}\n    {code}\n' for f, n, fn, code in frames) + exception + "\n"
    forms = {"traceback": "Traceback (most recent call last):\n" + tail, "tail": tail, "line": exception + "\n"}
    if bare is not None:
        forms["message"] = bare + "\n"  # the message alone, without the exception's type
    return forms


def _each_form(tmp_path: Path, forms: dict[str, str]) -> Iterator[tuple[str, str]]:
    for form, text in forms.items():
        group = _logs(tmp_path, text, f"{form}.log")
        assert group.get("diagnosis"), (form, group)
        yield form, group["diagnosis"]


# -- a module the environment lacks ------------------------------------------------------------------------------


def test_a_missing_module_names_the_pip_package_in_check_and_in_pasted_logs(tmp_path: Path) -> None:
    script = score_script(tmp_path, "import os\n\n\nimport skimage\n\ndef init():\n    pass")
    diagnosis = _check(script, registered_model_dir(tmp_path))
    assert diagnosis["kind"] == "module_not_found" and diagnosis["facts"]["package"] == "scikit-image"
    assert "add scikit-image to the environment's conda file" in diagnosis["text"]
    frames = [(SCORE, 4, "<module>", "import skimage")]
    for form, said in _each_form(tmp_path, _forms(frames, "ModuleNotFoundError: No module named 'skimage'")):
        assert "add scikit-image to the environment's conda file (dependencies → pip)" in said, form
        assert "the import name is skimage, the package is scikit-image" in said, form


# -- a library that removed a name an older one (or the script) imports --------------------------------------------

REMOVED = {
    # what score.py imports: (the cause named, the pin, what to import instead)
    "from jinja2 import Markup": ("jinja2 3.1 removed Markup", "pin jinja2<3.1", "from markupsafe import Markup"),
    "from jinja2 import escape": ("jinja2 3.1 removed escape", "pin jinja2<3.1", "from markupsafe import escape"),
    "from itsdangerous import json": ("itsdangerous 2.1 removed json", "pin itsdangerous==2.0.1", "import json"),
    "from werkzeug.wrappers import BaseResponse": (
        "Werkzeug 2.1 removed BaseResponse",
        "pin werkzeug==2.0.3",
        "from werkzeug.wrappers import Response",
    ),
    "from werkzeug.urls import url_quote": ("Werkzeug 3 removed url_quote", "pin werkzeug<3", "quote"),
    "from sklearn.externals import joblib": (
        "scikit-learn 0.23 removed sklearn.externals.joblib",
        "pin scikit-learn<0.23",
        "import joblib",
    ),
}


@pytest.mark.parametrize("line", list(REMOVED))
def test_a_removed_name_is_named_with_its_pin_when_the_script_imports_it(tmp_path: Path, line: str) -> None:
    cause, pin, instead = REMOVED[line]
    # Real: the libraries installed here are the versions that removed these names.
    diagnosis = _check(score_script(tmp_path, f"{line}\n\ndef init():\n    pass"), registered_model_dir(tmp_path))
    assert diagnosis["kind"] == "removed_name" and diagnosis["facts"]["own_import"] is True
    assert diagnosis["text"].startswith(f"{cause}, and the script imports it: use `")
    assert instead in diagnosis["text"] and pin in diagnosis["text"]


def test_jinja2_under_an_old_flask_is_named_in_every_pasted_form(tmp_path: Path) -> None:
    # As an old azureml-defaults image logs it: Flask 1.x importing from jinja2 3.1 (MicrosoftDocs/azure-docs#90567).
    frames = [
        ("/var/azureml-server/entry.py", 1, "<module>", "import create_app"),
        ("/var/azureml-server/create_app.py", 3, "<module>", "from flask import Flask"),
        (f"{SITE}/flask/__init__.py", 19, "<module>", "from jinja2 import Markup, escape"),
    ]
    exception = f"ImportError: cannot import name 'Markup' from 'jinja2' ({SITE}/jinja2/__init__.py)"
    for form, said in _each_form(tmp_path, _forms(frames, exception)):
        assert said.startswith("jinja2 3.1 removed Markup, which "), (form, said)
        assert "pin jinja2<3.1 in the conda file" in said, form
        assert ("which flask imports" in said) == (form != "line"), (form, said)  # the frames name the importer


def test_itsdangerous_under_an_old_flask_names_its_pin(tmp_path: Path) -> None:
    # Azure/azureml-examples#977: the old server's Flask importing itsdangerous.json.
    frames = [
        ("/var/azureml-server/synchronous/framework.py", 3, "<module>", "from flask import Flask, request, g"),
        (f"{SITE}/flask/json/__init__.py", 21, "<module>", "from itsdangerous import json as _json"),
    ]
    exception = f"ImportError: cannot import name 'json' from 'itsdangerous' ({SITE}/itsdangerous/__init__.py)"
    for form, said in _each_form(tmp_path, _forms(frames, exception)):
        assert "itsdangerous 2.1 removed json" in said and "pin itsdangerous==2.0.1" in said, form


# -- numpy's binary mismatch ----------------------------------------------------------------------------------------

NUMPY_MESSAGE = (
    "numpy.dtype size changed, may indicate binary incompatibility. Expected 96 from C header, got 88 from PyObject"
)


def test_numpy_binary_mismatch_says_pin_numpy_below_2(tmp_path: Path) -> None:
    # Cannot happen here (every wheel installed matches numpy 2): raised with numpy's own message, as pandas
    # built for numpy 1.x raises it on `import pandas` under numpy 2 (Azure/azureml-examples#3415).
    script = score_script(tmp_path, f"raise ValueError({NUMPY_MESSAGE!r})\n\ndef init():\n    pass")
    diagnosis = _check(script, registered_model_dir(tmp_path))
    assert diagnosis["kind"] == "numpy_binary"
    assert "built for numpy 1.x and numpy 2 is installed" in diagnosis["text"]
    assert "pin numpy<2 in the conda file" in diagnosis["text"]
    frames = [
        (SCORE, 2, "<module>", "import pandas as pd"),
        (f"{SITE}/pandas/__init__.py", 49, "<module>", "from pandas.core.api import ("),
        (f"{SITE}/pandas/_libs/__init__.py", 18, "<module>", "from pandas._libs.interval import Interval"),
        ("interval.pyx", 1, "init pandas._libs.interval", ""),
    ]
    forms = _forms(frames, f"ValueError: {NUMPY_MESSAGE}", bare=NUMPY_MESSAGE)
    for form, said in _each_form(tmp_path, forms):
        assert "binary incompatibility" in said and "pin numpy<2 in the conda file" in said, form
        assert said.startswith("binary incompatibility: pandas was built") == (form in ("traceback", "tail")), said


# -- protobuf 4+ and generated code of protobuf 3 ---------------------------------------------------------------

OLD_PB2 = """from google.protobuf import descriptor as _descriptor

_X = _descriptor.FieldDescriptor(
    name="x", full_name="M.x", index=0, number=1, type=5, cpp_type=1, label=1, has_default_value=False,
    default_value=0, message_type=None, enum_type=None, containing_type=None, is_extension=False,
    extension_scope=None, serialized_options=None, file=None)
"""


def test_old_generated_protobuf_code_says_pin_protobuf_below_4(tmp_path: Path) -> None:
    pytest.importorskip("google.protobuf", reason="protobuf comes with mlflow-skinny (the test extra)")
    (tmp_path / "old_pb2.py").write_text(OLD_PB2, encoding="utf-8")  # as protoc 3.18 and older generated it
    script = score_script(tmp_path, "import sys, os\nsys.path.insert(0, os.path.dirname(__file__))\nimport old_pb2")
    diagnosis = _check(script, registered_model_dir(tmp_path))  # real: the installed protobuf refuses it
    assert diagnosis["kind"] == "protobuf_version"
    assert diagnosis["text"].startswith("generated protobuf code (old_pb2.py) is older than the installed protobuf")
    assert (
        "pin protobuf<4 (3.20.x)" in diagnosis["text"]
        and "PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION=python" in (diagnosis["text"])
    )
    frames = [
        (SCORE, 3, "<module>", "import onnx"),
        (f"{SITE}/onnx/onnx_ml_pb2.py", 33, "<module>", "_descriptor.FieldDescriptor("),
        (f"{SITE}/google/protobuf/descriptor.py", 560, "__new__", "_message.Message._CheckCalledFromGeneratedFile()"),
    ]
    message = "Descriptors cannot not be created directly."  # protobuf 4.21's own typo, as users paste it
    for form, said in _each_form(tmp_path, _forms(frames, f"TypeError: {message}", bare=message)):
        assert "pin protobuf<4 (3.20.x)" in said and "PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION=python" in said, form
        assert ("onnx's generated protobuf code" in said) == (form in ("traceback", "tail")), (form, said)


# -- a model pickled by another scikit-learn ----------------------------------------------------------------------


def _forest_of_sklearn_0_21(monkeypatch: pytest.MonkeyPatch) -> bytes:
    """A forest pickled as scikit-learn 0.21 pickled it: its class in ``sklearn.ensemble.forest`` (0.24 removed
    that module) and that version in its state."""
    forest = RandomForestClassifier(n_estimators=2, random_state=0).fit([[0.0], [1.0]], [0, 1])
    old = types.ModuleType("sklearn.ensemble.forest")
    stand_in = type("RandomForestClassifier", (), {"__module__": old.__name__})
    old.RandomForestClassifier = stand_in  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, old.__name__, old)  # only while pickling

    class Old(pickle.Pickler):
        def reducer_override(self, obj: Any) -> Any:
            if isinstance(obj, BaseEstimator):  # the forest and its trees: each estimator names its version
                cls = stand_in if type(obj) is RandomForestClassifier else type(obj)
                state = {**obj.__getstate__(), "_sklearn_version": "0.21.3"}
                return copyreg._reconstructor, (cls, object, None), state  # type: ignore[attr-defined]
            return NotImplemented

    buffer = io.BytesIO()
    Old(buffer, protocol=4).dump(forest)
    return buffer.getvalue()


FOREST_FRAMES = [
    ("/azureml-envs/azureml_5b1/lib/python3.10/site-packages/azureml_inference_server_http/server/user_script.py",
     117, "invoke_init", "self._user_init()"),
    (SCORE, 6, "init", 'model = joblib.load(os.path.join(os.environ["AZUREML_MODEL_DIR"], "model.pkl"))'),
    (f"{SITE}/joblib/numpy_pickle.py", 658, "load", "obj = _unpickle(fobj, filename, mmap_mode)"),
    (f"{SITE}/joblib/numpy_pickle.py", 577, "_unpickle", "obj = unpickler.load()"),
    ("/azureml-envs/azureml_5b1/lib/python3.10/pickle.py", 1213, "load", "dispatch[key[0]](self)"),
    ("/azureml-envs/azureml_5b1/lib/python3.10/pickle.py", 1578, "find_class", "__import__(module, level=0)"),
]  # fmt: skip


def test_a_model_of_an_old_sklearn_names_the_version_mismatch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model_dir = registered_model_dir(tmp_path)
    (model_dir / "model.pkl").write_bytes(_forest_of_sklearn_0_21(monkeypatch))
    diagnosis = _check(score_script(tmp_path, JOBLIB_LOAD), model_dir)  # real: this scikit-learn has no such module
    assert diagnosis["facts"]["message"] == "No module named 'sklearn.ensemble.forest'"
    assert diagnosis["kind"] == "sklearn_version"  # the file names the version it was saved with
    assert "was saved with scikit-learn 0.21.3" in diagnosis["text"] and "pin scikit-learn==0.21.3" in diagnosis["text"]
    exception = "ModuleNotFoundError: No module named 'sklearn.ensemble.forest'"
    for form, said in _each_form(tmp_path, _forms(FOREST_FRAMES, exception)):
        assert "has no module sklearn.ensemble.forest" in said and "another version of scikit-learn" in said, form
        assert "0.24 removed it" in said, form
        assert ("the model was saved with another version" in said) == (form != "line"), (form, said)


def test_a_pickle_of_numpy_2_under_numpy_1_is_named(tmp_path: Path) -> None:
    frames = FOREST_FRAMES
    for form, said in _each_form(tmp_path, _forms(frames, "ModuleNotFoundError: No module named 'numpy._core'")):
        assert "the model was pickled with numpy 2 and numpy 1.x is installed" in said, form


# -- azureml-core's Model.get_model_path in a deployment -----------------------------------------------------------

MODEL_NOT_FOUND = (
    "Model sklearn_mnist_model.pkl not found in cache at azureml-models or in current working directory "
    "/var/azureml-app. For more info, set logging level to DEBUG."
)
GET_MODEL_PATH = """
class ModelNotFoundException(Exception):
    pass  # azureml-core is not installed here: its exception's name and azureml-core 1.61's message

def init():
    raise ModelNotFoundException({message!r})
"""


def test_get_model_path_in_a_deployment_says_use_azureml_model_dir(tmp_path: Path) -> None:
    script = score_script(tmp_path, GET_MODEL_PATH.format(message=MODEL_NOT_FOUND))
    diagnosis = _check(script, registered_model_dir(tmp_path))
    assert diagnosis["kind"] == "azureml_core_model_not_found"
    assert diagnosis["text"].startswith("Model.get_model_path('sklearn_mnist_model.pkl') found no model: it looks")
    assert "os.path.join(os.environ['AZUREML_MODEL_DIR'], <the file>)" in diagnosis["text"]
    frames = [
        (SCORE, 9, "init", "model_path = Model.get_model_path('sklearn_mnist_model.pkl')"),
        (f"{SITE}/azureml/core/model.py", 1245, "get_model_path", "raise ModelNotFoundException("),
    ]
    # azureml-core prints its exceptions' message on a line of its own (MicrosoftDocs/azure-docs#44559).
    exception = (
        "azureml.exceptions._azureml_exception.ModelNotFoundException: ModelNotFoundException:\n"
        f"\tMessage: {MODEL_NOT_FOUND}\n\tInnerException None\n\tErrorResponse \n"
        '{\n    "error": {\n        "message": "' + MODEL_NOT_FOUND + '"\n    }\n}'
    )
    forms = _forms(frames, exception, bare="Model not found in cache")
    forms["line"] = f"ModelNotFoundException: {MODEL_NOT_FOUND}\n"
    # A version that is not there: azureml-core raises WebserviceException with the same words.
    forms["version"] = f"WebserviceException: {MODEL_NOT_FOUND.replace('.pkl', '.pkl:3', 1)}\n"
    for form, said in _each_form(tmp_path, forms):
        assert "found no model: it looks only in $AML_APP_ROOT/azureml-models and ./<name>" in said, form
        assert "never in AZUREML_MODEL_DIR" in said, form
        assert ("get_model_path('sklearn_mnist_model.pkl')" in said) == (form != "message"), (form, said)


# -- a file missing under the deployment's model folder --------------------------------------------------------------

OPEN_ONE_FOLDER_UP = """import os
import joblib

def init():
    global model
    model = joblib.load(os.path.join(os.environ["AZUREML_MODEL_DIR"], "sklearn_regression_model.pkl"))
"""


def test_a_file_missing_in_the_model_folder_names_the_layout(tmp_path: Path) -> None:
    model_dir = registered_model_dir(tmp_path)
    (model_dir / "model").mkdir()
    (model_dir / "model" / "sklearn_regression_model.pkl").write_bytes(pickle.dumps({"w": 1}))
    diagnosis = _check(score_script(tmp_path, OPEN_ONE_FOLDER_UP), model_dir)
    assert "a registered folder keeps its folder name under AZUREML_MODEL_DIR" in diagnosis["text"]
    assert "one folder down, under 'model/'" in diagnosis["text"]
    path = "/var/azureml-app/azureml-models/sklearn_regression_model/1/sklearn_regression_model.pkl"
    frames = [
        (SCORE, 6, "init", "model = joblib.load(os.path.join(os.environ['AZUREML_MODEL_DIR'], ...))"),
        (f"{SITE}/joblib/numpy_pickle.py", 650, "load", 'with open(filename, "rb") as f:'),
    ]
    exception = f"FileNotFoundError: [Errno 2] No such file or directory: '{path}'"
    for form, said in _each_form(tmp_path, _forms(frames, exception)):
        assert "a registered folder keeps its folder name under AZUREML_MODEL_DIR" in said, form
        assert "AZUREML_MODEL_DIR is /var/azureml-app/azureml-models/sklearn_regression_model/1 here" in said, form


# -- an MLflow model folder that is not where mlflow.pyfunc.load_model looks -------------------------------------

SAVE_MLFLOW_MODEL = """import sys
import mlflow.pyfunc

class Echo(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input):
        return model_input

mlflow.pyfunc.save_model(sys.argv[1], python_model=Echo())
"""


@pytest.fixture(scope="module")
def mlflow_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A v2 deployment's model folder holding a registered MLflow model folder: ``m/1/my_model/MLmodel``."""
    pytest.importorskip("mlflow.pyfunc", reason="needs mlflow-skinny and pandas (the test extra)")
    model_dir = tmp_path_factory.mktemp("mlflow") / "azureml-models" / "m" / "1"
    model_dir.mkdir(parents=True)
    subprocess.run(
        [sys.executable, "-c", SAVE_MLFLOW_MODEL, str(model_dir / "my_model")], check=True, timeout=120,
        capture_output=True,
    )  # fmt: skip
    assert (model_dir / "my_model" / "MLmodel").is_file()
    return model_dir


MLFLOW_LOAD = """import os
import mlflow.pyfunc

def init():
    global model
    model = mlflow.pyfunc.load_model({path})
"""
MLFLOW_PATHS = {
    # the folder itself: 'Could not find an "MLmodel" configuration file at ...'
    "model_dir": 'os.environ["AZUREML_MODEL_DIR"]',
    # the usual name of an MLflow model's folder, but not this one's: "No such artifact: 'model'"
    "model_subfolder": 'os.path.join(os.environ["AZUREML_MODEL_DIR"], "model")',
}


@pytest.mark.parametrize("asked", list(MLFLOW_PATHS))
def test_an_mlflow_model_elsewhere_names_the_mlmodel_file_and_the_path_to_pass(
    tmp_path: Path, mlflow_models: Path, asked: str
) -> None:
    script = score_script(tmp_path, MLFLOW_LOAD.format(path=MLFLOW_PATHS[asked]))
    diagnosis = _check(script, mlflow_models)
    assert diagnosis["kind"] == "mlflow_layout"
    assert diagnosis["facts"]["type"] == "MlflowException"
    assert diagnosis["facts"]["mlmodel_at"] == [str(mlflow_models / "my_model" / "MLmodel")]
    assert diagnosis["facts"]["load_path"] == str(mlflow_models / "my_model")
    assert f"the MLmodel file is at {mlflow_models / 'my_model' / 'MLmodel'}" in diagnosis["text"]
    assert (
        f"pass {mlflow_models / 'my_model'}: os.path.join(os.environ['AZUREML_MODEL_DIR'], 'my_model') "
        "(a registered folder keeps its folder name under AZUREML_MODEL_DIR)"
    ) in diagnosis["text"]


def test_an_mlflow_model_that_is_no_mlflow_model_says_so(tmp_path: Path) -> None:
    pytest.importorskip("mlflow.pyfunc", reason="needs mlflow-skinny and pandas (the test extra)")
    model_dir = registered_model_dir(tmp_path)
    (model_dir / "model.pkl").write_bytes(pickle.dumps({"w": 1}))
    diagnosis = _check(score_script(tmp_path, MLFLOW_LOAD.format(path=MLFLOW_PATHS["model_dir"])), model_dir)
    assert diagnosis["kind"] == "mlflow_layout"
    assert "there is no MLmodel file under AZUREML_MODEL_DIR" in diagnosis["text"]
    assert "which holds model.pkl" in diagnosis["text"]


def test_an_mlflow_layout_failure_is_named_in_every_pasted_form(tmp_path: Path) -> None:
    frames = [
        (SCORE, 6, "init", 'model = mlflow.pyfunc.load_model(os.path.join(os.environ["AZUREML_MODEL_DIR"], "model"))'),
        (f"{SITE}/mlflow/pyfunc/__init__.py", 1150, "load_model", "local_path = _download_artifact_from_uri("),
        (f"{SITE}/mlflow/store/artifact/local_artifact_repo.py", 71, "download_artifacts", "raise OSError("),
    ]
    forms = _forms(
        frames, "mlflow.exceptions.MlflowException: No such artifact: 'model'", bare="No such artifact: 'model'"
    )
    for form, said in _each_form(tmp_path, forms):
        assert said.startswith("mlflow.pyfunc.load_model was given a path ending in 'model' that does not exist"), said
        assert "a registered MLflow model (a folder) keeps its folder name under AZUREML_MODEL_DIR" in said, form
    mlmodel = 'Could not find an "MLmodel" configuration file at "/var/azureml-app/azureml-models/m/1/MLmodel"'
    said = _logs(tmp_path, f"mlflow.exceptions.MlflowException: {mlmodel}\n")["diagnosis"]
    assert said.startswith("/var/azureml-app/azureml-models/m/1 holds no MLmodel file, so it is not an MLflow model")


# -- through the real server --------------------------------------------------------------------------------------


def _bare_server_log(script: Path, log_dir: Path, model_dir: Path) -> str:
    """What the server alone (no shim) logs when the script fails to start: the text users paste."""
    with running_server(script, log_dir, shim=False, model_dir=model_dir, expect_healthy=False) as server:
        assert server.process.wait(timeout=90) == 3
        return server.log_text()


@pytest.mark.server
def test_the_server_and_its_bare_log_name_a_removed_jinja2_name(tmp_path: Path, log_dir: Path) -> None:
    script = score_script(tmp_path, "from jinja2 import Markup\n\ndef init():\n    pass")
    model_dir = registered_model_dir(tmp_path)
    failed = server_init_failure(script, log_dir, model_dir)
    assert failed["phase"] == "import"
    assert failed["diagnosis"].startswith("jinja2 3.1 removed Markup, and the script imports it")
    assert failed["diagnosis_facts"]["kind"] == "removed_name"
    group = _logs(tmp_path, _bare_server_log(script, log_dir, model_dir), "bare-server.log")
    assert group["type"] == "ImportError" and group["stage"] == "import"
    assert group["diagnosis"] == failed["diagnosis"]


@pytest.mark.server
def test_the_bare_servers_log_of_an_old_sklearn_model_names_the_version_mismatch(
    tmp_path: Path, log_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model_dir = registered_model_dir(tmp_path)
    (model_dir / "model.pkl").write_bytes(_forest_of_sklearn_0_21(monkeypatch))
    script = score_script(tmp_path, JOBLIB_LOAD)
    group = _logs(tmp_path, _bare_server_log(script, log_dir, model_dir), "bare-server.log")
    assert group["type"] == "ModuleNotFoundError" and group["stage"] == "init"
    assert group["diagnosis"].startswith(
        "scikit-learn is installed but has no module sklearn.ensemble.forest: the model was saved with another "
        "version of scikit-learn; pin the version it was saved with"
    )


@pytest.mark.server
def test_the_server_and_its_bare_log_name_the_mlflow_model_folder(
    tmp_path: Path, log_dir: Path, mlflow_models: Path
) -> None:
    script = score_script(tmp_path, MLFLOW_LOAD.format(path=MLFLOW_PATHS["model_subfolder"]))
    failed = server_init_failure(script, log_dir, mlflow_models)
    assert failed["diagnosis_facts"]["kind"] == "mlflow_layout"
    assert failed["diagnosis_facts"]["load_path"] == str(mlflow_models / "my_model")
    assert "os.path.join(os.environ['AZUREML_MODEL_DIR'], 'my_model')" in failed["diagnosis"]
    group = _logs(tmp_path, _bare_server_log(script, log_dir, mlflow_models), "bare-server.log")
    assert group["type"].endswith("MlflowException") and group["stage"] == "init"
    assert "keeps its folder name under AZUREML_MODEL_DIR" in group["diagnosis"]


def test_a_run_that_fails_on_a_missing_module_is_diagnosed_in_the_container(tmp_path: Path, log_dir: Path) -> None:
    """run()'s failures get the text-level diagnosis too (no file system walk per request), with the request id."""
    script = tmp_path / "score.py"
    script.write_text(
        "def init():\n    pass\n\n\ndef run(raw_data):\n    import lightgbm_not_installed_here  # noqa: F401\n",
        encoding="utf-8",
    )
    with running_server(script, log_dir) as server, server.client() as client:
        assert client.post("/score", content=b"{}", headers={"x-request-id": "run-known-1"}).status_code == 500
        event = server.wait_for_event("shim.run.failed", request_id="run-known-1")
    assert event["error"]["type"] == "ModuleNotFoundError"
    assert "add lightgbm-not-installed-here to the environment's conda file" in event["diagnosis"]
