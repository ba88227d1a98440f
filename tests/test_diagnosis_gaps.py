"""The init-failure diagnosis names what the exception does not: the LFS pointer or the stray file a loader
choked on, the user's own line under compiled library code, the pip package of a missing import, and the
scikit-learn versions of a model saved with another one. Through `score-shim check` (a real process) and,
for the LFS pointer and the missing module, through the real server's ``shim.init.failed`` line."""

from __future__ import annotations

import copyreg
import io
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sklearn
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier
from sklearn.tree._tree import Tree

from tests._scripts import JOBLIB_LOAD, registered_model_dir, score_script, server_init_failure
from tests.test_check_cli import report

LFS_POINTER = (
    b"version https://git-lfs.github.com/spec/v1\n"
    b"oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\n"
    b"size 12345678\n"
)
LFS_FIX = "run `git lfs pull` (or `git lfs fetch && git lfs checkout`) before registering/deploying it"


def _init_failure(script: Path, model_dir: Path, cwd: Path) -> dict[str, Any]:
    data, done = report(str(script), "--model-dir", str(model_dir), cwd=cwd)
    assert done.returncode == 3, done.stdout + done.stderr
    init: dict[str, Any] = data["init"]
    return init


PICKLE_LOAD = """import os
import pickle

def init():
    global model
    with open(os.path.join(os.environ["AZUREML_MODEL_DIR"], "model.pkl"), "rb") as f:
        model = pickle.load(f)
"""


@pytest.mark.parametrize(("loader", "error_type"), [(JOBLIB_LOAD, "KeyError"), (PICKLE_LOAD, "UnpicklingError")])
def test_an_lfs_pointer_is_named_whatever_the_loader(tmp_path: Path, loader: str, error_type: str) -> None:
    model_dir = registered_model_dir(tmp_path)
    (model_dir / "model.pkl").write_bytes(LFS_POINTER)
    init = _init_failure(score_script(tmp_path, loader), model_dir, tmp_path)
    assert init["error"]["type"].endswith(error_type)
    diagnosis = init["diagnosis"]
    assert diagnosis["kind"] == "model_load" and diagnosis["facts"]["git_lfs_pointer"] is True
    assert diagnosis["text"] == (
        f"{model_dir / 'model.pkl'} is a Git LFS pointer ({len(LFS_POINTER)} bytes) for a 12.3 MB file, "
        f"not the model: {LFS_FIX}"
    )


LOOP = """import os
import joblib

models = {}

def init():
    folder = os.environ["AZUREML_MODEL_DIR"]
    for name in sorted(os.listdir(folder)):
        models[name] = joblib.load(os.path.join(folder, name))
"""


def test_a_ds_store_loaded_in_a_loop_is_named_with_the_loop(tmp_path: Path) -> None:
    model_dir = registered_model_dir(tmp_path)
    (model_dir / "a.pkl").write_bytes(pickle.dumps({"w": 1}))
    (model_dir / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1" + b"\x00" * 64)
    script = score_script(tmp_path, LOOP)
    init = _init_failure(script, model_dir, tmp_path)
    assert init["error"]["type"] == "KeyError" and init["error"]["message"] == "0"
    assert init["diagnosis"]["kind"] == "not_a_model"
    assert init["diagnosis"]["text"] == (
        f"{model_dir / '.DS_Store'} is not a model file (it is macOS Finder metadata), and the loop in "
        f"{script}:8 loads every file in the folder: skip it (e.g. only *.pkl)"
    )


COMPILED = """import numpy as np
from sklearn.tree import DecisionTreeClassifier

def init():
    tree = DecisionTreeClassifier().fit([[0.0], [1.0]], [0, 1])
    tree.tree_.apply(np.array([[1]], dtype=np.int64))
"""


def test_an_error_in_compiled_code_is_placed_at_the_users_line(tmp_path: Path) -> None:
    model_dir = registered_model_dir(tmp_path)
    script = score_script(tmp_path, COMPILED)
    init = _init_failure(script, model_dir, tmp_path)
    assert "_tree.pyx" in init["error"]["traceback"]  # the innermost frame is Cython's
    assert init["error"]["where"] == {"file": str(script), "line": 6, "function": "init"}


def test_a_missing_module_names_the_pip_package(tmp_path: Path) -> None:
    script = score_script(tmp_path, "import os\n\nimport PIL\n\ndef init():\n    pass\n")
    data, done = report(str(script), "--model-dir", str(registered_model_dir(tmp_path)), cwd=tmp_path)
    assert done.returncode == 3, done.stdout + done.stderr
    diagnosis = data["load"]["diagnosis"]
    assert diagnosis["kind"] == "module_not_found" and diagnosis["facts"]["package"] == "pillow"
    assert diagnosis["text"] == (
        "score.py:3 imports PIL, which this environment does not have: add pillow to the environment's conda file "
        "(dependencies → pip); the import name is PIL, the package is pillow"
    )


class _OldSklearn(pickle.Pickler):
    """Pickles as scikit-learn 0.24.2 would have: that version in every estimator, trees without the node
    field 0.24 did not have (``missing_go_to_left``)."""

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, Tree):
            cls, args, state = obj.__reduce__()
            nodes = state["nodes"]
            names = [n for n in nodes.dtype.names if n != "missing_go_to_left"]
            old = np.zeros(nodes.shape, dtype=[(n, nodes.dtype[n]) for n in names])
            for n in names:
                old[n] = nodes[n]
            return cls, args, {**state, "nodes": old}
        if isinstance(obj, (StandardScaler, DecisionTreeClassifier, Pipeline)):
            state = {**obj.__getstate__(), "_sklearn_version": "0.24.2"}
            return copyreg._reconstructor, (type(obj), object, None), state
        return NotImplemented


def test_a_model_from_another_sklearn_names_both_versions(tmp_path: Path) -> None:
    X, y = [[0.0], [1.0], [2.0]], [0, 1, 1]
    pipeline = Pipeline([("scale", StandardScaler()), ("tree", DecisionTreeClassifier())]).fit(X, y)
    buffer = io.BytesIO()
    _OldSklearn(buffer, protocol=4).dump(pipeline)
    model_dir = registered_model_dir(tmp_path)
    (model_dir / "model.pkl").write_bytes(buffer.getvalue())
    init = _init_failure(score_script(tmp_path, JOBLIB_LOAD), model_dir, tmp_path)
    assert "incompatible dtype" in init["error"]["message"]
    diagnosis = init["diagnosis"]
    assert diagnosis["kind"] == "sklearn_version" and diagnosis["facts"]["from"] == "warning"
    assert diagnosis["facts"]["estimator"] == "StandardScaler"
    current = sklearn.__version__
    assert diagnosis["text"] == (
        f"{model_dir / 'model.pkl'} was saved with scikit-learn 0.24.2 and this environment has {current}: "
        f"pin scikit-learn==0.24.2 in the conda file, or re-save the model with {current}"
    )


# -- through the real server ----------------------------------------------------------------------------


@pytest.mark.server
def test_the_server_names_the_lfs_pointer(tmp_path: Path, log_dir: Path) -> None:
    model_dir = registered_model_dir(tmp_path)
    (model_dir / "model.pkl").write_bytes(LFS_POINTER)
    failed = server_init_failure(score_script(tmp_path, JOBLIB_LOAD), log_dir, model_dir)
    assert failed["error"]["type"] == "KeyError"
    assert failed["diagnosis"] == (
        f"{model_dir / 'model.pkl'} is a Git LFS pointer ({len(LFS_POINTER)} bytes) for a 12.3 MB file, "
        f"not the model: {LFS_FIX}"
    )
    assert failed["diagnosis_facts"]["real_size"] == 12345678


@pytest.mark.server
def test_the_server_names_the_missing_package(tmp_path: Path, log_dir: Path) -> None:
    script = score_script(tmp_path, "import os\n\nimport PIL\n\ndef init():\n    pass\n")
    failed = server_init_failure(script, log_dir, registered_model_dir(tmp_path))
    assert failed["phase"] == "import"
    assert failed["diagnosis"].startswith("score.py:3 imports PIL, which this environment does not have: add pillow")
    assert failed["diagnosis_facts"]["package"] == "pillow"
