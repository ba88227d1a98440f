"""shim.get_model_path beyond parity: what it warns about, what it logs, and v2 resolution (real folders)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import shim
from shim import Settings, configure_logging
from shim.models.paths import RUN_CONTEXT_VARIABLES, resolve


@pytest.fixture
def stream(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[io.StringIO]:
    for name in ("AML_APP_ROOT", "AZUREML_MODEL_DIR", *RUN_CONTEXT_VARIABLES):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    buffer = io.StringIO()
    configure_logging(Settings(log_format="json"), stream=buffer)
    yield buffer
    configure_logging(Settings(log_format="json"), stream=io.StringIO())


def events(buffer: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


def make(root: Path, *files: str) -> None:
    for name in files:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")


def test_found_in_the_cache_is_logged(stream: io.StringIO, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make(tmp_path, "app/azureml-models/m/1/a.pkl", "app/azureml-models/m/2/b.pkl")
    monkeypatch.setenv("AML_APP_ROOT", str(tmp_path / "app"))
    assert shim.get_model_path("m") == str(tmp_path / "app/azureml-models/m/2/b.pkl")
    [event] = events(stream)
    assert event["event"] == "shim.model.get_model_path"
    assert event["level"] == "info"
    assert event["source"] == "azureml-models"
    assert event["models_dir"] == str(tmp_path / "app/azureml-models")


def test_an_ignored_version_is_warned_about(stream: io.StringIO, tmp_path: Path) -> None:
    make(tmp_path, "m/model.pkl")
    assert shim.get_model_path("m", version=3) == "m"
    [event] = events(stream)
    assert event["level"] == "warning"
    assert event["source"] == "cwd"
    assert "version=3 was ignored" in event["notes"][0]


def test_v2_resolves_inside_azureml_model_dir_and_says_so(
    stream: io.StringIO, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    version_dir = tmp_path / "azureml-models" / "sk" / "1"
    make(version_dir, "model/model.pkl")
    monkeypatch.setenv("AML_APP_ROOT", str(tmp_path / "app"))
    monkeypatch.setenv("AZUREML_MODEL_DIR", str(version_dir))
    assert shim.get_model_path("sk") == str(version_dir / "model")
    [event] = events(stream)
    assert event["source"] == "AZUREML_MODEL_DIR"
    assert "resolved inside AZUREML_MODEL_DIR" in event["notes"][0]


def test_v1_multi_model_root_in_azureml_model_dir(
    stream: io.StringIO, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make(tmp_path, "mnt/models/a/1/a.pkl", "mnt/models/b/2/b.pkl", "mnt/models/b/3/c.pkl")
    monkeypatch.setenv("AZUREML_MODEL_DIR", str(tmp_path / "mnt/models"))
    assert shim.get_model_path("b") == str(tmp_path / "mnt/models/b/3/c.pkl")
    assert shim.get_model_path("b", 2) == str(tmp_path / "mnt/models/b/2/b.pkl")


def test_errors_are_caught_by_azureml_cores_names(stream: io.StringIO, tmp_path: Path) -> None:
    make(tmp_path, "app/azureml-models/sklearn_model/1/a.pkl")
    with pytest.raises(shim.ModelNotFoundException) as caught:
        shim.get_model_path("sklearn-model")
    assert isinstance(caught.value, shim.ModelPathError)
    with pytest.raises(shim.WebserviceException, match="version should be an int"):
        shim.get_model_path("m", "1")  # type: ignore[arg-type]
    assert events(stream)[0]["error"]["type"] == "ModelNotFoundException"


def test_run_context_variables_are_noted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stream: io.StringIO) -> None:
    make(tmp_path, "app/azureml-models/m/1/a.pkl")
    monkeypatch.setenv("AML_APP_ROOT", str(tmp_path / "app"))
    for name in RUN_CONTEXT_VARIABLES:
        monkeypatch.setenv(name, "x")
    res = resolve("m")
    assert res.error is None
    assert "over the network" in res.notes[0]
    assert res.as_dict()["source"] == "azureml-models"
