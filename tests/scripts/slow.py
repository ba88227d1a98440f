"""A run() that never finishes on its own: the server's SCORING_TIMEOUT_MS has to stop it."""

import time


def init():
    pass


def spin_forever():
    while True:
        time.sleep(0.01)


def run(raw_data):
    if raw_data == "hang":
        spin_forever()
    return "fast"
