"""The plain-words diagnosis of init() failures, on real exceptions raised by real file operations."""

from __future__ import annotations

import glob
import os
import pickle
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import joblib
import pytest

import shim
from shim.models.diagnosis import Diagnosis, diagnose_init_failure

LFS_POINTER = b"version https://git-lfs.github.com/spec/v1\noid sha256:4d7a\nsize 1234\n"


def diagnose(fn: Callable[[], object]) -> Diagnosis:
    try:
        fn()
    except BaseException as error:
        found = diagnose_init_failure(error)
        assert found is not None, f"no diagnosis for {error!r}"
        return found
    raise AssertionError("did not raise")


@pytest.fixture
def model_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    version_dir = tmp_path / "azureml-models" / "sk" / "1"
    (version_dir / "model").mkdir(parents=True)
    (version_dir / "model" / "model.pkl").write_bytes(pickle.dumps([1, 2]))
    monkeypatch.setenv("AZUREML_MODEL_DIR", str(version_dir))
    monkeypatch.setenv("AML_APP_ROOT", str(tmp_path / "app"))
    return version_dir


def test_near_miss_name_in_the_nearest_folder(model_dir: Path) -> None:
    found = diagnose(lambda: (model_dir / "model" / "Model.pkl").read_bytes())
    assert found.kind == "file_not_found"
    assert "did you mean 'model.pkl'" in found.text
    assert found.facts["near_misses"] == ["model.pkl"]


def test_relative_path_is_explained(model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    found = diagnose(lambda: Path("model.pkl").read_bytes())
    assert "is relative, so it was looked up in the working directory" in found.text
    assert f"{model_dir}/model/model.pkl" in found.text


def test_the_folder_above_the_model_is_neither_searched_nor_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # AZUREML_MODEL_DIR=/tmp/md: the folder it sits in holds other people's files, one with the model's file name.
    model_dir = tmp_path / "md"
    (model_dir / "model").mkdir(parents=True)
    (model_dir / "model" / "model.pkl").write_bytes(pickle.dumps([1]))
    (tmp_path / "other-project").mkdir()
    (tmp_path / "other-project" / "model.pkl").write_bytes(b"not this model")
    (tmp_path / "notes.txt").write_text("unrelated", encoding="utf-8")
    monkeypatch.setenv("AZUREML_MODEL_DIR", str(model_dir))
    monkeypatch.delenv("AML_APP_ROOT", raising=False)

    up = diagnose(lambda: Path(os.environ["AZUREML_MODEL_DIR"], "..", "model.pkl").read_bytes())
    assert up.kind == "file_not_found_nearby"
    assert up.facts["same_name_at"] == [f"{model_dir}/model/model.pkl"]
    assert up.text.endswith(f"use {model_dir}/model/model.pkl")

    joined = diagnose(lambda: Path(os.environ["AZUREML_MODEL_DIR"] + "model.pkl").read_bytes())  # no separator
    assert joined.text == (
        f"{tmp_path}/mdmodel.pkl does not exist; it is outside AZUREML_MODEL_DIR ({model_dir}), which holds model/"
    )
    assert "nearest_existing_folder" not in joined.facts
    for found in (up, joined):
        assert "other-project" not in found.text and "notes.txt" not in found.text


def test_the_models_own_folders_above_azureml_model_dir_are_searched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # azureml-models/<name>/<version>: the parents are the model's layout, so a path one folder off is found there.
    models = tmp_path / "azureml-models" / "credit"
    (models / "2").mkdir(parents=True)
    (models / "2" / "model.onnx").write_bytes(b"onnx")
    (models / "3" / "model").mkdir(parents=True)
    (tmp_path / "notes.txt").write_text("unrelated", encoding="utf-8")
    monkeypatch.setenv("AZUREML_MODEL_DIR", str(models / "3"))
    monkeypatch.delenv("AML_APP_ROOT", raising=False)

    found = diagnose(lambda: (models / "model.onnx").read_bytes())  # the version folder left out
    assert found.facts["same_name_at"] == [f"{models}/2/model.onnx"]
    missing = diagnose(lambda: (models / "model.pkl").read_bytes())
    assert f"the nearest existing folder is {models}, which holds 2/, 3/" in missing.text
    assert "notes.txt" not in found.text + missing.text


def test_a_folder_opened_as_a_file(model_dir: Path) -> None:
    found = diagnose(lambda: (model_dir / "model").read_bytes())
    assert found.kind == "is_a_folder"
    assert "it holds model.pkl" in found.text


def test_unset_variable_of_the_users_own(model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MY_MODEL_FOLDER", raising=False)
    found = diagnose(lambda: os.path.join(os.getenv("MY_MODEL_FOLDER"), "model.pkl"))  # type: ignore[arg-type]
    assert found.kind == "unset_variable"
    assert found.text.startswith("MY_MODEL_FOLDER is not set")


def test_unset_azureml_model_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AZUREML_MODEL_DIR", raising=False)
    found = diagnose(lambda: Path(os.path.join(os.getenv("AZUREML_MODEL_DIR"), "m.pkl")))  # type: ignore[arg-type]
    assert found.text.startswith("AZUREML_MODEL_DIR is not set: pass the model folder (score-shim check")


def test_environ_lookup_of_an_unset_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AZUREML_MODEL_DIR", raising=False)
    found = diagnose(lambda: os.environ["AZUREML_MODEL_DIR"])
    assert found.kind == "unset_variable"
    assert found.text.startswith("AZUREML_MODEL_DIR is not set: pass the model folder (score-shim check")


def test_empty_glob_points_one_folder_down(model_dir: Path) -> None:
    found = diagnose(lambda: glob.glob(os.path.join(os.environ["AZUREML_MODEL_DIR"], "*.pkl"))[0])
    assert found.kind == "empty_glob"
    assert f"files matching '*.pkl' exist deeper: {model_dir}/model/model.pkl" in found.text


def test_git_lfs_pointer_instead_of_the_model(tmp_path: Path) -> None:
    path = tmp_path / "model.pkl"
    path.write_bytes(LFS_POINTER)
    with path.open("rb") as f:
        found = diagnose(lambda: pickle.load(f))
    assert found.kind == "model_load"
    assert "Git LFS pointer" in found.text
    joblib_found = diagnose(lambda: joblib.load(path))
    assert joblib_found.kind == "model_load"


def test_empty_model_file(tmp_path: Path) -> None:
    path = tmp_path / "model.pkl"
    path.write_bytes(b"")
    with path.open("rb") as f:
        found = diagnose(lambda: pickle.load(f))
    assert "empty or truncated" in found.text


def test_class_pickled_from_the_training_scripts_main(tmp_path: Path) -> None:
    path = tmp_path / "model.pkl"
    train = "import pickle, sys\nclass Scaler: pass\npickle.dump(Scaler(), open(sys.argv[1], 'wb'))\n"
    subprocess.run([sys.executable, "-c", train, str(path)], check=True, timeout=60)
    with path.open("rb") as f:
        found = diagnose(lambda: pickle.load(f))
    assert "Scaler in module '__main__'" in found.text
    assert "training script" in found.text


def test_the_shims_own_error_explains_itself(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AML_APP_ROOT", str(tmp_path))
    monkeypatch.delenv("AZUREML_MODEL_DIR", raising=False)
    found = diagnose(lambda: shim.get_model_path("nothing"))
    assert found.kind == "model_path"
    assert found.text.startswith("Model nothing not found in cache")


def test_unknown_causes_get_no_diagnosis() -> None:
    try:
        raise KeyError("x")
    except KeyError as error:
        assert diagnose_init_failure(error) is None
