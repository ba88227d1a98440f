"""The child process of ``score-shim serve``: azmlinfsrv's own start-up, bound to 127.0.0.1.

Mirrors ``azureml_inference_server_http.amlserver.run`` after its argument parsing (which
`shim.cli.serve.server_environment` replaces): load the server's default logging config, put
``AML_APP_ROOT`` on ``sys.path``, and let ``amlserver_linux.run`` build and run the gunicorn command.

This process becomes gunicorn's master. It runs in a session of its own (so that a Ctrl-C in the terminal
reaches ``serve`` only), which also means that nothing stops it when ``serve`` dies: hence `_die_with_parent`.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

from ..runtime.setup import ensure_started
from ..settings import ConfigError, Settings

#: Set by `shim.cli.serve.start` for a server that must stop with the process that started it.
PARENT_PID_ENV = "SCORE_SHIM_SERVE_PARENT_PID"
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
#: Without prctl (macOS, BSD): how often the parent is looked for.
PARENT_POLL_S = 0.5


def _die_with_parent() -> None:
    """Stop (SIGTERM: gunicorn's graceful shutdown) when the ``serve`` that started this process dies.

    Linux: the kernel sends the signal (``PR_SET_PDEATHSIG``), even when ``serve`` was killed with SIGKILL.
    ``serve`` may have died before the call: then the parent is already someone else and this process
    stops at once. Elsewhere (macOS, BSD) a daemon thread looks for the parent every half second.
    """
    raw = os.environ.pop(PARENT_PID_ENV, "")  # not inherited by the workers or the user's code
    if not raw.isdigit():
        return
    parent = int(raw)
    armed = _set_parent_death_signal(signal.SIGTERM)
    if os.getppid() != parent:
        print("score-shim: serve has gone; the server does not start", file=sys.stderr, flush=True)
        raise SystemExit(1)
    if not armed:
        _watch_parent(parent)


def _set_parent_death_signal(signum: int) -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(PR_SET_PDEATHSIG, int(signum), 0, 0, 0)) == 0
    except Exception:
        return False


def _watch_parent(parent: int) -> None:
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_POLL_S)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="score-shim-parent-watch", daemon=True).start()


def main() -> None:
    _die_with_parent()
    from azureml_inference_server_http import amlserver_linux
    from azureml_inference_server_http.constants import PACKAGE_ROOT
    from azureml_inference_server_http.log_config import load_logging_config

    shim = os.environ.get("AZUREML_ENTRY_SCRIPT", "").endswith(os.path.join("score_wrappers", "entry.py"))
    load_logging_config(PACKAGE_ROOT, silent=shim)
    if shim:
        # The master's own lines (worker boots, exits, WORKER TIMEOUT) in the same JSON stream as the
        # workers'. A bad SCORE_SHIM_* value is reported by the workers, where the server expects it.
        try:
            Settings.from_env()
        except ConfigError:
            pass  # left to the workers to report, once, where the server expects start-up errors
        else:
            ensure_started()
    sys.path.append(os.environ["AML_APP_ROOT"])
    sys.argv = ["azmlinfsrv"]
    amlserver_linux.run("127.0.0.1", int(os.environ["SERVER_PORT"]), int(os.environ["WORKER_COUNT"]))


if __name__ == "__main__":
    main()
