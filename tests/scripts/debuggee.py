"""A script to stop in: the tests set breakpoints on the marked lines of init() and run().

run() also says whether debugpy is loaded in the serving process, whether a tracer (pydevd's) is installed
in the thread that runs it, and which process served it.
"""

import json
import os
import sys
import threading


def init():
    global offset
    offset = 10  # INIT BREAKPOINT


def run(raw_data):
    data = json.loads(raw_data)
    total = sum(data["x"]) + offset  # BREAKPOINT
    return {"total": total, "debugpy_loaded": "debugpy" in sys.modules, "traced": traced(), "pid": os.getpid()}


def traced():
    """Whether a debugger traces this thread: a trace function (Python 3.11 and older), or sys.monitoring's
    debugger slot taken (3.12 and newer, where debugpy uses it)."""
    monitoring = getattr(sys, "monitoring", None)
    if monitoring is not None and monitoring.get_tool(monitoring.DEBUGGER_ID) is not None:
        return True
    return sys.gettrace() is not None or threading.gettrace() is not None
