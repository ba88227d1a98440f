"""A script that calls azureml-core's own Model.get_model_path: the calls are logged and explained.

Runs in the azureml-core virtual environment (see tests/_azureml_core_venv.py) with the shim on
PYTHONPATH, in a subprocess: the real azureml-core, the shim's real wrapper, the JSON lines on stdout.
The server itself is not installed there (it would add its own dependency tree to the ~285 MB); the
wrapper is the same one the drop-in entry applies.
"""

from __future__ import annotations

import json
import os
import subprocess
import types
from pathlib import Path
from typing import Any

import pytest

from shim.models import azureml_hook as _azureml_hook
from shim.models.paths import RUN_CONTEXT_VARIABLES
from tests._azureml_core_venv import azureml_core_python

REPO = Path(__file__).resolve().parent.parent

SCRIPT = """
import os, sys
import shim

if sys.argv[1] == "import-first":
    from azureml.core.model import Model  # the usual top-of-score.py import, before the shim wraps init
    os.environ["AML_APP_ROOT"] = sys.argv[2]  # changed after azureml-core read it

def init():
    from azureml.core.model import Model  # imported inside init(): the shim's import hook patches it
    print("azureml.core imported before init:", HAD_AZUREML, flush=True)
    return Model.get_model_path("sk")

HAD_AZUREML = "azureml.core" in sys.modules
wrapped = shim.wrap_init(init)
try:
    print("result:", wrapped(), flush=True)
except Exception as error:
    print("raised:", type(error).__module__, type(error).__name__, flush=True)
"""


def run_script(mode: str, env: dict[str, str], *args: str) -> tuple[list[dict[str, Any]], list[str]]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AZUREML_", "AML_", "SCORE_SHIM_"))}
    base.update(env, PYTHONPATH=str(REPO), SCORE_SHIM_LOG_FORMAT="json")
    proc = subprocess.run(
        [azureml_core_python(), "-c", SCRIPT, mode, *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=base,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    events, other = [], []
    for line in proc.stdout.splitlines():
        if line.startswith("{"):
            events.append(json.loads(line))
        else:
            other.append(line)
    return events, other


def one(events: list[dict[str, Any]], name: str) -> dict[str, Any]:
    [event] = [e for e in events if e["event"] == name]
    return event


@pytest.mark.parity
@pytest.mark.timeout(900)  # may install azureml-core on first use
def test_v2_layout_failure_is_logged_and_diagnosed(tmp_path: Path) -> None:
    version_dir = tmp_path / "azureml-models" / "sk" / "1"
    (version_dir / "model").mkdir(parents=True)
    (version_dir / "model" / "model.pkl").write_bytes(b"x")
    (tmp_path / "app").mkdir()
    events, other = run_script(
        "import-in-init", {"AZUREML_MODEL_DIR": str(version_dir), "AML_APP_ROOT": str(tmp_path / "app")}
    )
    assert "azureml.core imported before init: False" in other  # the shim itself never imported it
    assert "raised: azureml.exceptions._azureml_exception ModelNotFoundException" in other
    call = one(events, "shim.model.get_model_path")
    assert call["via"] == "azureml-core"
    assert call["model_name"] == "sk"
    assert call["models_dir"] == str(tmp_path / "app" / "azureml-models")
    assert call["error"]["type"].endswith("ModelNotFoundException")
    assert call["shim_would_return"] == str(version_dir / "model")
    assert any(w.startswith("v2 layout") for w in call["warnings"])
    failed = one(events, "shim.init.failed")
    assert failed["diagnosis_facts"]["kind"] == "azureml_core_model_not_found"
    assert f"shim.get_model_path('sk') resolves it to {version_dir / 'model'}" in failed["diagnosis"]


@pytest.mark.parity
@pytest.mark.timeout(900)
def test_app_root_changed_after_import_is_warned(tmp_path: Path) -> None:
    (tmp_path / "old" / "azureml-models" / "sk" / "2").mkdir(parents=True)
    (tmp_path / "old" / "azureml-models" / "sk" / "2" / "m.pkl").write_bytes(b"x")
    events, other = run_script("import-first", {"AML_APP_ROOT": str(tmp_path / "old")}, str(tmp_path / "new"))
    expected = str(tmp_path / "old" / "azureml-models" / "sk" / "2" / "m.pkl")
    assert f"result: {expected}" in other
    call = one(events, "shim.model.get_model_path")
    assert call["path"] == expected
    assert call["models_dir"] == str(tmp_path / "old" / "azureml-models")
    assert any("AML_APP_ROOT changed after azureml-core read it" in w for w in call["warnings"])
    one(events, "shim.init.ok")


def test_run_context_variables_are_warned_about(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Calling the real azureml-core with these set would go to the network; the warning is computed before.
    module = types.ModuleType("azureml.core.model")
    module.MODELS_DIR = os.path.join(str(tmp_path), "azureml-models")  # type: ignore[attr-defined]
    monkeypatch.setenv("AML_APP_ROOT", str(tmp_path))
    for name in RUN_CONTEXT_VARIABLES:
        monkeypatch.setenv(name, "set")
    [warning] = _azureml_hook._warnings(module)
    assert "go to the workspace over the network" in warning or "goes to the workspace over the network" in warning
