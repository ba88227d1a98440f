"""Parity: ``shim.get_model_path`` against the real azureml-core on a table of layouts.

The real azureml-core (~285 MB) is installed once into ``.cache/azureml-core-venv`` (git-ignored) and
reused while it works; both sides run the same cases through ``tests/_model_path_runner.py``, in real
folders. Marked ``parity``: CI runs it on the default Python only (azureml-core may not install on the
newest).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests._azureml_core_venv import azureml_core_python

pytestmark = pytest.mark.parity

RUNNER = Path(__file__).parent / "_model_path_runner.py"
REPO = Path(__file__).resolve().parent.parent

# A layout is a list of entries under a temporary root: "dir/" a folder, "file" a file,
# "link -> target" a symlink. "{root}" in the environment and arguments is the temporary root.
APP = "app/azureml-models"
CASES: list[dict[str, Any]] = [
    # id, layout, cwd, env, model_name, version, expected ("same", or "v2": the shim resolves where azureml-core fails)
    {"id": "latest-of-one", "layout": [f"{APP}/m/1/model.pkl"], "name": "m"},
    {"id": "latest-of-three", "layout": [f"{APP}/m/1/a.pkl", f"{APP}/m/2/b.pkl", f"{APP}/m/10/c.pkl"], "name": "m"},
    {"id": "explicit-version", "layout": [f"{APP}/m/1/a.pkl", f"{APP}/m/2/b.pkl"], "name": "m", "version": 1},
    {"id": "registered-folder", "layout": [f"{APP}/m/3/model/", f"{APP}/m/3/model/a.pkl"], "name": "m"},
    {"id": "missing-model", "layout": [f"{APP}/other/1/a.pkl"], "name": "m"},
    {"id": "missing-model-with-version", "layout": [f"{APP}/other/1/a.pkl"], "name": "m", "version": 1},
    {"id": "missing-version", "layout": [f"{APP}/m/1/a.pkl"], "name": "m", "version": 2},
    {"id": "version-str", "layout": [f"{APP}/m/1/a.pkl"], "name": "m", "version": "1"},
    {"id": "version-float", "layout": [f"{APP}/m/1/a.pkl"], "name": "m", "version": 1.0},
    {"id": "several-entries", "layout": [f"{APP}/m/1/a.pkl", f"{APP}/m/1/conda.yaml"], "name": "m"},
    {"id": "empty-version-folder", "layout": [f"{APP}/m/1/"], "name": "m"},
    {"id": "non-numeric-version", "layout": [f"{APP}/m/1/a.pkl", f"{APP}/m/latest/a.pkl"], "name": "m"},
    {"id": "hidden-file-in-model", "layout": [f"{APP}/m/1/a.pkl", f"{APP}/m/.DS_Store"], "name": "m"},
    {
        "id": "non-numeric-but-version-given",
        "layout": [f"{APP}/m/1/a.pkl", f"{APP}/m/latest/"],
        "name": "m",
        "version": 1,
    },
    {"id": "empty-model-folder", "layout": [f"{APP}/m/"], "name": "m"},
    {"id": "zero-padded-version", "layout": [f"{APP}/m/01/a.pkl"], "name": "m"},
    {"id": "model-folder-is-a-file", "layout": [f"{APP}/m"], "name": "m"},
    {"id": "model-folder-is-a-file-version", "layout": [f"{APP}/m"], "name": "m", "version": 1},
    {"id": "version-folder-is-a-file", "layout": [f"{APP}/m/1"], "name": "m"},
    {"id": "cwd-fallback", "layout": ["app/", "work/m/a.pkl"], "cwd": "work", "name": "m"},
    {"id": "cwd-fallback-file", "layout": ["app/", "work/m"], "cwd": "work", "name": "m"},
    {
        "id": "cwd-fallback-ignores-version",
        "layout": ["app/", "work/m/a.pkl"],
        "cwd": "work",
        "name": "m",
        "version": 7,
    },
    {
        "id": "cache-missing-version-falls-to-cwd",
        "layout": [f"{APP}/m/1/a.pkl", "work/m/"],
        "cwd": "work",
        "name": "m",
        "version": 5,
    },
    {"id": "cache-wins-over-cwd", "layout": [f"{APP}/m/1/a.pkl", "work/m/"], "cwd": "work", "name": "m"},
    {"id": "no-app-root-relative", "layout": ["work/azureml-models/m/2/a.pkl"], "cwd": "work", "env": {}, "name": "m"},
    {
        "id": "relative-app-root",
        "layout": ["work/sub/azureml-models/m/1/a.pkl"],
        "cwd": "work",
        "env": {"AML_APP_ROOT": "sub"},
        "name": "m",
    },
    {
        "id": "app-root-trailing-slash",
        "layout": [f"{APP}/m/1/a.pkl"],
        "env": {"AML_APP_ROOT": "{root}/app/"},
        "name": "m",
    },
    {
        "id": "app-root-double-slash",
        "layout": [f"{APP}/m/1/a.pkl"],
        "env": {"AML_APP_ROOT": "{root}//app"},
        "name": "m",
    },
    {"id": "name-case-differs", "layout": [f"{APP}/Model/1/a.pkl"], "name": "model"},
    {"id": "name-dash-underscore", "layout": [f"{APP}/my_model/1/a.pkl"], "name": "my-model"},
    {"id": "name-with-slash", "layout": [f"{APP}/a/b/1/x.pkl"], "name": "a/b"},
    {"id": "name-absolute-path", "layout": ["elsewhere/model.pkl", "app/"], "name": "{root}/elsewhere/model.pkl"},
    {"id": "name-none", "layout": [f"{APP}/m/1/a.pkl"], "name": None},
    {"id": "name-not-a-str", "layout": [f"{APP}/m/1/a.pkl"], "name": 5},
    {"id": "name-empty", "layout": [f"{APP}/m/1/a.pkl"], "name": ""},
    {"id": "version-bool", "layout": [f"{APP}/m/True/a.pkl"], "name": "m", "version": True},
    {
        "id": "symlinked-version-entry",
        "layout": ["store/a.pkl", f"{APP}/m/1/a.pkl -> {{root}}/store/a.pkl"],
        "name": "m",
    },
    {"id": "broken-symlink-entry", "layout": [f"{APP}/m/1/a.pkl -> {{root}}/gone.pkl"], "name": "m"},
    {"id": "symlink-loop-entry", "layout": [f"{APP}/m/1/", f"{APP}/m/1/loop -> {{root}}/{APP}/m/1/loop"], "name": "m"},
    {
        "id": "symlinked-models-dir",
        "layout": ["real/m/4/a.pkl", "app/", "app/azureml-models -> {root}/real"],
        "name": "m",
    },
    {"id": "non-utf8-entry", "layout": [f"{APP}/m/1/mod\udcffel.pkl"], "name": "m"},
    {
        "id": "v2-unset-model-dir",
        "layout": ["app/", "models/sklearn/1/model/model.pkl"],
        "name": "sklearn",
    },
    {
        "id": "v2-one-entry",
        "layout": ["app/", "mnt/azureml-models/sklearn/1/model/model.pkl"],
        "env": {"AZUREML_MODEL_DIR": "{root}/mnt/azureml-models/sklearn/1"},
        "name": "sklearn",
        "expected": "v2",
        "resolves": "{root}/mnt/azureml-models/sklearn/1/model",  # the one entry inside AZUREML_MODEL_DIR
    },
    {
        "id": "v2-several-entries",
        "layout": ["app/", "local/model.pkl", "local/conda.yaml"],
        "env": {"AZUREML_MODEL_DIR": "{root}/local"},
        "name": "whatever",
        "expected": "v2",
        "resolves": "{root}/local",  # several entries: the folder itself
    },
    {
        "id": "v2-wrong-name",
        "layout": ["app/", "mnt/azureml-models/sklearn/1/model.pkl"],
        "env": {"AZUREML_MODEL_DIR": "{root}/mnt/azureml-models/sklearn/1"},
        "name": "sklearn-model",
    },
    {
        "id": "v2-wrong-version",
        "layout": ["app/", "mnt/azureml-models/sklearn/1/model.pkl"],
        "env": {"AZUREML_MODEL_DIR": "{root}/mnt/azureml-models/sklearn/1"},
        "name": "sklearn",
        "version": 2,
    },
    {
        "id": "v1-cache-present-model-dir-ignored",
        "layout": [f"{APP}/m/1/a.pkl", "mnt/other.pkl"],
        "env": {"AML_APP_ROOT": "{root}/app", "AZUREML_MODEL_DIR": "{root}/mnt"},
        "name": "m",
    },
]


def _fill(value: Any, root: Path) -> Any:
    return value.replace("{root}", str(root)) if isinstance(value, str) else value


def _build(case: dict[str, Any], root: Path) -> dict[str, Any]:
    for spec in case["layout"]:
        if " -> " in spec:
            link, target = spec.split(" -> ")
            path = root / link
            path.parent.mkdir(parents=True, exist_ok=True)
            path.symlink_to(_fill(target, root))
        elif spec.endswith("/"):
            (root / spec).mkdir(parents=True, exist_ok=True)
        else:
            path = root / spec
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"model bytes")
    env = case.get("env", {"AML_APP_ROOT": "{root}/app"})
    return {
        "id": case["id"],
        "cwd": str(root / case.get("cwd", "")),
        "env": {k: _fill(v, root) for k, v in env.items()},
        "model_name": _fill(case["name"], root),
        "version": case.get("version"),
        "resolves": _fill(case.get("resolves"), root),
    }


def _run(python: str, impl: str, cases: list[dict[str, Any]], env: dict[str, str]) -> dict[str, dict[str, Any]]:
    # Surrogate-escaped (non-UTF-8) file names cross the pipe as JSON escapes, which both sides decode alike.
    proc = subprocess.run(
        [python, str(RUNNER), impl],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    answers = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith('{"id"')]
    return {answer["id"]: answer for answer in answers}


@pytest.fixture(scope="module")
def answers(
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, tuple[dict[str, Any], dict[str, Any], str | None]]:
    """By case: azureml-core's answer, the shim's, and the path the shim must give where azureml-core fails."""
    python = azureml_core_python()
    cases = [_build(case, tmp_path_factory.mktemp(case["id"])) for case in CASES]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZUREML_", "AML_"))}
    env["PYTHONPATH"] = str(REPO)
    real = _run(python, "azureml-core", cases, env)
    ours = _run(sys.executable, "shim", cases, env)
    return {case["id"]: (real[case["id"]], ours[case["id"]], case["resolves"]) for case in cases}


@pytest.mark.timeout(900)  # the first run installs azureml-core (~40 s here, longer on a slow index)
@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_same_answer_as_azureml_core(
    answers: dict[str, tuple[dict[str, Any], dict[str, Any], str | None]], case: dict[str, Any]
) -> None:
    real, ours, resolves = answers[case["id"]]
    if case.get("expected") == "v2":
        assert real["raised"] == "ModelNotFoundException", real
        assert resolves and ours.get("result") == resolves, ours
        return
    if "result" in real:
        assert ours.get("result") == real["result"], (real, ours)
        return
    assert "raised" in ours, (real, ours)
    # The same class name (azureml-core's own), or, for a built-in, an instance of it.
    assert real["raised"] in ours["mro"], (real, ours)
    assert ours["message"], ours


def test_messages_are_better_than_azureml_cores(
    answers: dict[str, tuple[dict[str, Any], dict[str, Any], str | None]],
) -> None:
    """Spot checks that the shim's errors say what exists and where to look."""
    _, missing = answers["missing-model"][:2]
    assert "other (versions 1)" in missing["message"]
    _, case = answers["name-dash-underscore"][:2]
    assert "did you mean 'my_model'" in case["message"]
    _, case = answers["name-case-differs"][:2]
    assert "did you mean 'Model'" in case["message"]
    _, case = answers["missing-version"][:2]
    assert "versions there: 1" in case["message"]
    _, case = answers["hidden-file-in-model"][:2]
    assert "hidden file" in case["message"]
