"""An ordinary Azure ML entry script, as deployed to a managed online endpoint. It knows nothing of
score-shim: the shim wraps it from the outside.

Request body: ``{"data": [[10 numbers], ...]}`` (the diabetes features); response: a list of predictions.
"""

import json
import logging
import os

import joblib
import numpy as np

logger = logging.getLogger(__name__)

model = None


def init():
    """Called once when the container starts: load the model."""
    global model
    # AZUREML_MODEL_DIR is .../azureml-models/<name>/<version>; a model registered from a folder keeps
    # the folder's name (here "model") below it.
    model_path = os.path.join(os.environ["AZUREML_MODEL_DIR"], "model", "sklearn_regression_model.pkl")
    print(f"loading model from {model_path}")
    model = joblib.load(model_path)
    logger.info("model loaded: %s expecting %d features", type(model).__name__, model.n_features_in_)


def run(raw_data):
    """Called for every request with the request body as a string."""
    data = np.array(json.loads(raw_data)["data"])
    logger.info("scoring %d row(s)", len(data))
    result = model.predict(data)
    return result.tolist()
