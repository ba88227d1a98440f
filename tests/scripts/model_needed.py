"""init() needs a file that may appear later (hold mode's retry)."""

import os


def init():
    global model
    with open(os.path.join(os.environ["MODEL_FOLDER"], "model.txt")) as f:
        model = f.read().strip()


def run(raw_data):
    return {"model": model, "input": raw_data}
