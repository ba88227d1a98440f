"""A script that does with its input whatever the request says: the fuzz suite's target.

The body is JSON: ``{"text": ..., "form": ..., "actions": [...]}``. Each action puts the text, with the
planted secret ``FUZZ_SECRET`` written in ``form`` (raw, repr, json, url, base64), where a script puts
things: its prints, its log lines (message and ``extra``), its exception messages, the headers it was sent.
It never returns the secret: what a script returns is its own business, not the shim's.
"""

import base64
import json
import logging
import os
import urllib.parse

logger = logging.getLogger("user.fuzz")

FORMS = {
    "raw": lambda s: s,
    "repr": repr,
    "json": json.dumps,
    "url": urllib.parse.quote_plus,
    "base64": lambda s: base64.b64encode(s.encode("utf-8")).decode(),
}


def init():
    logger.info("fuzz target ready")


def run(raw_data, request_headers):
    data = json.loads(raw_data)
    secret = FORMS[data["form"]](os.environ["FUZZ_SECRET"])
    text = f"{data['text']} {secret} {data['text']}"
    for action in data["actions"]:
        if action == "print":
            print(text)
        elif action == "log":
            logger.warning(text)
        elif action == "log_extra":
            logger.warning("with extra", extra={"detail": text})
        elif action == "print_headers":
            print(json.dumps(dict(request_headers)))
        elif action == "raise":
            raise ValueError(text)
        elif action == "keyerror":
            raise KeyError(os.environ["FUZZ_SECRET"])
    return {"ok": True, "actions": len(data["actions"])}
