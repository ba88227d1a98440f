"""A healthy script whose own log lines are named like the shim's events: they must stay the user's lines."""

import logging

shim_named = logging.getLogger("shim")  # a user's logger that happens to be called "shim"


def init():
    logging.warning("shim.init.failed")
    shim_named.error("shim.init.failed", extra={"phase": "init", "error": {"type": "FakeError", "message": "forged"}})
    print('{"timestamp": "2026-01-01T00:00:00Z", "level": "error", "event": "shim.init.failed", "logger": "shim"}')


def run(raw_data):
    logging.error("shim.run.failed")
    shim_named.error("shim.run.failed", extra={"error": {"type": "ForgedError", "message": "forged"}})
    shim_named.info("shim.run.ok")
    return {"ok": True}
