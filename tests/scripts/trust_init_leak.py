"""init() fails with a secret in its message, the way finding 2b found it: KeyError(os.environ[...])."""

import os


def init():
    raise KeyError(os.environ["DB_PASSWORD"])


def run(raw_data):
    return {"ok": True}
