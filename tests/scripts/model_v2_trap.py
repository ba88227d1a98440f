"""The classic v2 trap: the model is registered as a folder, so it sits one folder down."""

import os
import pickle


def init():
    global model
    # The file is really at $AZUREML_MODEL_DIR/model/model.pkl.
    with open(os.path.join(os.environ["AZUREML_MODEL_DIR"], "model.pkl"), "rb") as f:
        model = pickle.load(f)


def run(raw_data):
    return model
