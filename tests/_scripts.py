"""A user's score.py and a registered model's folder, written for a test as a deployment lays them out.

The diagnosis tests feed `score-shim check` and the real server a script that fails at import or in init();
what fails is the script's own body, the rest (a ``run``, the model folder) only has to be there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests._server import running_server

#: The ``run`` every such script needs to load; the tests never reach it.
RUN = "def run(data):\n    return data\n"

#: An init() that loads ``model.pkl`` from AZUREML_MODEL_DIR with joblib, as Azure ML's own examples do.
JOBLIB_LOAD = """import os
import joblib

def init():
    global model
    model = joblib.load(os.path.join(os.environ["AZUREML_MODEL_DIR"], "model.pkl"))
"""


def score_script(folder: Path, body: str) -> Path:
    """``folder/score.py``: ``body`` (its imports and init()) and a ``run``."""
    script = folder / "score.py"
    script.write_text(body + "\n\n" + RUN, encoding="utf-8")
    return script


def registered_model_dir(tmp_path: Path) -> Path:
    """An empty ``azureml-models/m/1``: the version folder AZUREML_MODEL_DIR names on a managed endpoint."""
    model_dir = tmp_path / "azureml-models" / "m" / "1"
    model_dir.mkdir(parents=True)
    return model_dir


def server_init_failure(script: Path, log_dir: Path, model_dir: Path) -> dict[str, Any]:
    """The real server's ``shim.init.failed`` event for ``script``; the server must exit 3, as it does on Azure."""
    with running_server(script, log_dir, model_dir=model_dir, expect_healthy=False) as server:
        assert server.process.wait(timeout=90) == 3
        [failed] = server.events("shim.init.failed")
        return failed
