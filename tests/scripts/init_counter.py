"""init() counts its runs and fails until the model appears (hold mode's retry policy, issue 12 finding 3).

Each run of init() appends a line to MODEL_FOLDER/init-runs.txt before anything else. While
MODEL_FOLDER/init-gate exists, init() waits (at most 60 s) until MODEL_FOLDER/init-go appears, so that a test
can keep one retry running while it sends another, without depending on timing.
"""

import os
import time


def init():
    global model
    folder = os.environ["MODEL_FOLDER"]
    with open(os.path.join(folder, "init-runs.txt"), "a") as runs:
        runs.write(f"{os.getpid()}\n")
    if os.path.exists(os.path.join(folder, "init-gate")):
        deadline = time.monotonic() + 60
        while not os.path.exists(os.path.join(folder, "init-go")) and time.monotonic() < deadline:
            time.sleep(0.02)
    with open(os.path.join(folder, "model.txt")) as f:
        model = f.read().strip()


def run(raw_data):
    return {"model": model, "input": raw_data}
