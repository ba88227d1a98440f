"""A script for the fault and load tests: init() fails as FAULT_INIT says; run() does what the body asks.

Bodies (JSON): {"echo": v} logs v with logging and returns it; {"raise": 1}; {"unserialisable": 1};
{"exit": n} calls sys.exit(n); {"sleep": s} blocks in time.sleep (C code) for s seconds.
"""

import json
import logging
import os
import sys
import time

logger = logging.getLogger("user.faults")


class ModelLoadError(Exception):
    """A user's own exception class."""


class NotAnException(BaseException):
    """A BaseException subclass that is not an Exception: `except Exception` does not catch it."""


def init():
    fault = os.environ.get("FAULT_INIT", "")
    logger.info("faults init pid=%d", os.getpid())
    if fault == "exception":
        raise ModelLoadError("the model file is corrupt")
    if fault == "base-exception":
        raise NotAnException("not an Exception")
    if fault == "system-exit-1":
        sys.exit(1)
    if fault == "system-exit-0":
        sys.exit(0)
    if fault == "keyboard-interrupt":
        raise KeyboardInterrupt
    if fault == "unreadable-model":
        with open(os.path.join(os.environ["AZUREML_MODEL_DIR"], "model", "model.pkl"), "rb") as model:
            model.read()


def block_in_c(seconds):
    time.sleep(seconds)


def run(raw_data):
    data = json.loads(raw_data)
    if "echo" in data:
        logger.info("echo %s", data["echo"])
        return {"echo": data["echo"]}
    if "sleep" in data:
        logger.info("sleeping %s", data["sleep"])
        block_in_c(data["sleep"])
        return {"slept": data["sleep"]}
    if "raise" in data:
        raise ModelLoadError(f"run failed on {data['raise']}")
    if "unserialisable" in data:
        return {"value": object()}
    if "exit" in data:
        sys.exit(data["exit"])
    return {}
