"""A script to stop in: the tests set breakpoints on the marked lines of init() and run().

run() also says whether debugpy is loaded in the serving process, and which process served it.
"""

import json
import os
import sys


def init():
    global offset
    offset = 10  # INIT BREAKPOINT


def run(raw_data):
    data = json.loads(raw_data)
    total = sum(data["x"]) + offset  # BREAKPOINT
    return {"total": total, "debugpy_loaded": "debugpy" in sys.modules, "pid": os.getpid()}
