"""The init-time model probe on real folders, bad input included: it reports, it never raises."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from shim.models.probe import probe_models, walk


def env(model_dir: Path | str | None, **extra: str) -> dict[str, str]:
    out = dict(extra)
    if model_dir is not None:
        out["AZUREML_MODEL_DIR"] = str(model_dir)
    return out


def make(root: Path, *files: str) -> None:
    for name in files:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"12345")


def test_single_model_version_folder(tmp_path: Path) -> None:
    version_dir = tmp_path / "azureml-models" / "sk" / "3"
    make(version_dir, "model/model.pkl", "model/conda.yaml")
    report = probe_models(env(version_dir))
    assert report["layout"] == "single_model_version"
    assert report["azureml_model_dir"] == {
        "given": str(version_dir),
        "absolute": str(version_dir),
        "exists": True,
        "is_dir": True,
    }
    assert report["models"] == {"sk": {"versions": ["3"], "where": "AZUREML_MODEL_DIR"}}
    assert report["walk"]["files"] == 2
    assert report["walk"]["total_bytes"] == 10
    assert report["walk"]["complete"] is True
    assert report["problems"] == []


def test_multi_model_root_and_the_cache(tmp_path: Path) -> None:
    make(tmp_path, "models/a/1/a.pkl", "models/b/2/b.pkl", "app/azureml-models/c/5/c.pkl")
    report = probe_models(env(tmp_path / "models", AML_APP_ROOT=str(tmp_path / "app")))
    assert report["layout"] == "multi_model_root"
    assert report["models"] == {
        "a": {"versions": ["1"], "where": "AZUREML_MODEL_DIR"},
        "b": {"versions": ["2"], "where": "AZUREML_MODEL_DIR"},
        "c": {"versions": ["5"], "where": "azureml-models"},
    }


@pytest.mark.parametrize(
    ("setup", "layout", "problem"),
    [
        ("unset", "unset", "AZUREML_MODEL_DIR is not set"),
        ("missing", "missing", "does not exist"),
        ("file", "not_a_folder", "is a file, not a folder"),
        ("empty", "empty", "is empty"),
        ("plain", "v2_folder", None),
    ],
)
def test_layouts(tmp_path: Path, setup: str, layout: str, problem: str | None) -> None:
    target: Path | None = tmp_path / "model"
    if setup == "unset":
        target = None
    elif setup == "file":
        make(tmp_path, "model")
    elif setup == "empty":
        (tmp_path / "model").mkdir()
    elif setup == "plain":
        make(tmp_path, "model/model.pkl")
    report = probe_models(env(target))
    assert report["layout"] == layout
    if problem:
        assert any(problem in line for line in report["problems"]), report["problems"]
    else:
        assert report["problems"] == []


def test_relative_path_with_double_slash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make(tmp_path, "models/sk/1/model.pkl")
    monkeypatch.chdir(tmp_path)
    report = probe_models(env("models//sk/1"))
    facts = report["azureml_model_dir"]
    assert facts["absolute"] == str(tmp_path / "models/sk/1")
    assert report["layout"] == "single_model_version"
    assert any("is relative" in p for p in report["problems"])
    assert any("contains '//'" in p for p in report["problems"])


def test_symlinks_loops_and_non_utf8_names(tmp_path: Path) -> None:
    root = tmp_path / "model"
    make(root, "real/model.pkl")
    (root / "link").symlink_to(root / "real")  # followed: a second view of the same folder
    (root / "real" / "loop").symlink_to(root)  # back to an ancestor: a loop
    (root / "self").symlink_to(root / "self")  # points to itself
    (root / "gone").symlink_to(tmp_path / "nothing")
    (root / os.fsdecode(b"caf\xe9.pkl")).write_bytes(b"x")  # Latin-1 bytes: not UTF-8
    link_to_root = tmp_path / "mounted"
    link_to_root.symlink_to(root)
    report = probe_models(env(link_to_root))
    assert report["azureml_model_dir"]["symlink_target"] == str(root)
    problems = report["problems"]
    assert any(p.startswith("symlink loop: real/loop") for p in problems), problems
    assert any(p.startswith("symlink loop: self") for p in problems), problems
    assert any(p.startswith("broken symlink: gone") for p in problems), problems
    assert any("non-UTF-8 file name: caf\\xe9.pkl" in p for p in problems), problems
    json.dumps(report, ensure_ascii=False).encode("utf-8")  # the event can be written as UTF-8


def test_a_file_where_the_cache_folder_should_be(tmp_path: Path) -> None:
    make(tmp_path, "app/azureml-models", "model/model.pkl")
    report = probe_models(env(tmp_path / "model", AML_APP_ROOT=str(tmp_path / "app")))
    assert report["models_dir"] == {"path": str(tmp_path / "app/azureml-models"), "exists": False}
    assert report["layout"] == "v2_folder"


def test_the_walk_is_cut_by_entries_and_depth(tmp_path: Path) -> None:
    make(tmp_path, *[f"m/f{i}.bin" for i in range(300)], "m/a/b/c/d/deep.bin")
    cut = walk(str(tmp_path / "m"), max_entries=100)
    assert cut["cut"] == {"reason": "entries", "limit": 100}
    assert cut["complete"] is False
    assert cut["entries_seen"] == 100
    deep = walk(str(tmp_path / "m"), max_depth=2)
    assert deep["cut"] == {"reason": "depth", "limit": 2}
    assert walk(str(tmp_path / "m"), max_seconds=0.0)["cut"]["reason"] == "time"


def _probe_without_root_powers(model_dir: Path) -> dict[str, Any]:
    """Root reads everything; drop CAP_DAC_OVERRIDE (setpriv) so that permission bits apply, as in a container."""
    code = (
        "import json, sys; from shim.models.probe import probe_models; "
        "print(json.dumps(probe_models({'AZUREML_MODEL_DIR': sys.argv[1]})))"
    )
    command = [sys.executable, "-c", code, str(model_dir)]
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        assert setpriv, "this test needs setpriv (util-linux) when run as root"
        command = [setpriv, "--bounding-set", "-dac_override,-dac_read_search", *command]
    root = Path(__file__).resolve().parent.parent
    out = subprocess.run(command, capture_output=True, text=True, timeout=60, check=True, cwd=root)
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def test_unreadable_folders_are_reported(tmp_path: Path) -> None:
    make(tmp_path, "model/ok.pkl", "model/locked/secret.pkl", "closed/x.pkl")
    (tmp_path / "model" / "locked").chmod(0)
    (tmp_path / "closed").chmod(0)
    try:
        inside = _probe_without_root_powers(tmp_path / "model")
        whole = _probe_without_root_powers(tmp_path / "closed")
    finally:
        (tmp_path / "model" / "locked").chmod(0o755)
        (tmp_path / "closed").chmod(0o755)
    assert inside["layout"] == "v2_folder"
    assert "cannot list locked: Permission denied" in inside["problems"]
    assert whole["layout"] == "unreadable"
