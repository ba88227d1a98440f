"""Finding the user's script the way a deployment names it."""

from __future__ import annotations

from pathlib import Path

import pytest

from shim.runtime.loader import ScriptLoadError, resolve_entry_script


def test_relative_to_aml_app_root(tmp_path: Path) -> None:
    (tmp_path / "score.py").write_text("")
    assert resolve_entry_script("score.py", {"AML_APP_ROOT": str(tmp_path)}) == tmp_path / "score.py"


def test_beside_a_relative_server_entry_script_on_a_managed_endpoint(tmp_path: Path) -> None:
    # /var/azureml-app/onlinescoring/{shim_entry.py, score.py}, AZUREML_ENTRY_SCRIPT=onlinescoring/shim_entry.py
    code = tmp_path / "onlinescoring"
    code.mkdir()
    (code / "score.py").write_text("")
    env = {"AML_APP_ROOT": str(tmp_path), "AZUREML_ENTRY_SCRIPT": "onlinescoring/shim_entry.py"}
    assert resolve_entry_script("score.py", env) == code / "score.py"


def test_absolute_path_and_symlinks_are_resolved(tmp_path: Path) -> None:
    (tmp_path / "real.py").write_text("")
    (tmp_path / "link.py").symlink_to(tmp_path / "real.py")
    assert resolve_entry_script(str(tmp_path / "link.py"), {}) == tmp_path / "real.py"


def test_not_a_python_file(tmp_path: Path) -> None:
    (tmp_path / "score.txt").write_text("")
    with pytest.raises(ScriptLoadError, match=r"not a \.py file"):
        resolve_entry_script(str(tmp_path / "score.txt"), {})


def test_missing_lists_every_place_looked(tmp_path: Path) -> None:
    with pytest.raises(ScriptLoadError) as caught:
        resolve_entry_script("score.py", {"AML_APP_ROOT": str(tmp_path)})
    assert str(tmp_path / "score.py") in str(caught.value)
    assert "no such file" in str(caught.value)
