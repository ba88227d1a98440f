"""MLflow models: ``mlflow.pyfunc.load_model`` given a folder that holds no ``MLmodel``, usually the version
folder instead of the registered folder under it.
"""

from __future__ import annotations

import re

from .known import Known

MLFLOW_FIX = (
    "a registered MLflow model (a folder) keeps its folder name under AZUREML_MODEL_DIR: pass "
    "os.path.join(os.environ['AZUREML_MODEL_DIR'], '<the folder that holds MLmodel>') to mlflow.pyfunc.load_model"
)
_MLMODEL_RE = re.compile(r'Could not find an "MLmodel" configuration file at "([^"]+)"')
_ARTIFACT_RE = re.compile(r"No such artifact: '([^']+)'")


def mlflow_layout(kind: str, message: str, files: list[str]) -> Known | None:
    """MLflow's own words for a folder that is not the model's: no MLmodel there, or no such artifact."""
    found = _MLMODEL_RE.search(message)
    if found is not None:
        folder = re.sub(r"[/\\]MLmodel$", "", found.group(1))
        return Known(
            "mlflow_layout",
            f"{folder} holds no MLmodel file, so it is not an MLflow model folder: {MLFLOW_FIX}",
            {"path": folder},
        )
    found = _ARTIFACT_RE.search(message)
    if found is not None and (kind in ("", "MlflowException") or "/mlflow/" in "".join(files)):
        return Known(
            "mlflow_layout",
            f"mlflow.pyfunc.load_model was given a path ending in '{found.group(1)}' that does not exist: "
            + MLFLOW_FIX,
            {"artifact": found.group(1)},
        )
    return None
