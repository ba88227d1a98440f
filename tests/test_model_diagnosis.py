"""Through the real server: the model probe before init(), and a diagnosis when init() cannot find its model."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from tests._server import Server, running_server

pytestmark = pytest.mark.server


def _failed_start(scripts: Path, log_dir: Path, script: str, **kwargs: object) -> Server:
    with running_server(scripts / script, log_dir, expect_healthy=False, **kwargs) as server:  # type: ignore[arg-type]
        assert server.process.wait(timeout=60) == 3  # init() raised: the server exits as without the shim
        return server


def test_v2_trap_names_the_file_one_folder_down(scripts: Path, log_dir: Path, tmp_path: Path) -> None:
    version_dir = tmp_path / "azureml-models" / "sklearn-model" / "1"
    (version_dir / "model").mkdir(parents=True)
    (version_dir / "model" / "model.pkl").write_bytes(pickle.dumps({"w": 1}))
    server = _failed_start(scripts, log_dir, "model_v2_trap.py", model_dir=version_dir)

    [failed] = server.events("shim.init.failed")
    assert failed["error"]["type"] == "FileNotFoundError"  # the user's exception, unchanged
    diagnosis = failed["diagnosis"]
    assert f"{version_dir}/model.pkl does not exist" in diagnosis
    assert f"{version_dir}/model/model.pkl (one folder down, under 'model/')" in diagnosis
    assert "a registered folder keeps its folder name under AZUREML_MODEL_DIR" in diagnosis
    assert failed["diagnosis_facts"]["same_name_at"] == [f"{version_dir}/model/model.pkl"]

    # The probe came first, before init() ran, and saw the layout.
    names = [e["event"] for e in server.events() if e.get("logger") == "shim"]
    assert names.index("shim.model.probe") < names.index("shim.init.failed")
    [probe] = server.events("shim.model.probe")
    assert probe["layout"] == "single_model_version"
    assert probe["azureml_model_dir"]["given"] == str(version_dir)
    assert probe["models"] == {"sklearn-model": {"versions": ["1"], "where": "AZUREML_MODEL_DIR"}}
    assert [e["path"] for e in probe["walk"]["listing"]] == ["model", "model/model.pkl"]
    assert probe["walk"]["complete"] is True


def test_unset_model_dir_is_named(scripts: Path, log_dir: Path) -> None:
    server = _failed_start(scripts, log_dir, "model_unset_dir.py")
    [failed] = server.events("shim.init.failed")
    assert failed["error"]["type"] == "TypeError"
    assert failed["diagnosis"].startswith("AZUREML_MODEL_DIR is not set: pass the model folder (score-shim check")
    assert failed["diagnosis_facts"]["variable"] == "AZUREML_MODEL_DIR"
    [probe] = server.events("shim.model.probe")
    assert probe["layout"] == "unset"
    assert probe["problems"][0].startswith("AZUREML_MODEL_DIR is not set")
