"""A plain entry script: run() receives the body as a str."""

import json
import logging
import os

logger = logging.getLogger("user.plain")


def init():
    global scale
    scale = int(os.environ.get("SCALE", "2"))
    logger.info("plain init with scale %s", scale)
    print("plain init printed")


def run(raw_data):
    logger.info("plain run got %d characters", len(raw_data))
    print("plain run printed")
    data = json.loads(raw_data) if raw_data else {}
    if data.get("fail"):
        raise ValueError(f"asked to fail: {data['fail']}")
    if data.get("unserialisable"):
        return {"value": object()}
    if data.get("exit"):
        raise SystemExit(4)
    return {"raw": raw_data, "doubled": [x * scale for x in data.get("x", [])]}
