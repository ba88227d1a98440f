"""A script that puts a secret everywhere it can: its log, its prints, its exception messages."""

import json
import logging
import os
import time

logger = logging.getLogger("user.leaky")


def init():
    logger.info("init with key %s", os.environ["PLANTED_STORAGE_KEY"])


def helper_that_fails(data):
    key = os.environ["PLANTED_STORAGE_KEY"]
    raise PermissionError(f"storage refused AccountKey={key} for {data!r}")


def run(raw_data):
    key = os.environ["PLANTED_STORAGE_KEY"]
    logger.warning("connecting with key %s", key)
    print(f"DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={key};EndpointSuffix=core.windows.net")
    logger.info("headers %s", {"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlMTIz"})
    if raw_data == "sleep":
        time.sleep(1.5)
        return "slept"
    data = json.loads(raw_data)  # raises on anything that is not JSON, with the body in the message
    if isinstance(data, dict) and data.get("fail"):
        helper_that_fails(data)
    if isinstance(data, dict) and data.get("leak_in_message"):
        raise ValueError(f"could not use {key}")
    return {"ok": True, "type": type(data).__name__}
