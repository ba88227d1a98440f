"""A script for tests/test_whole_lines.py: run() raises with a 30 KB message on every request.

Each failure makes lines far longer than a pipe's atomic write (PIPE_BUF, 4,096 bytes): the shim's
``shim.run.failed`` (the message clipped to 4,000 characters, the traceback to 16,000) and the server's own
error line with the traceback. With several workers on one stdout they are what tears first.
"""

import json

MESSAGE_CHARS = 30_000


class BigFailure(Exception):
    """The user's own exception, with a long message (a dumped payload, a long validation report)."""


def init():
    pass


def run(raw_data):
    data = json.loads(raw_data)
    tag = str(data.get("tag", ""))
    raise BigFailure((tag + " ") * (MESSAGE_CHARS // (len(tag) + 1)))
