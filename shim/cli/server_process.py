"""The child process of ``score-shim serve``: azmlinfsrv's own start-up, bound to 127.0.0.1.

Mirrors ``azureml_inference_server_http.amlserver.run`` after its argument parsing (which
`shim.cli.serve.server_environment` replaces): load the server's default logging config, put
``AML_APP_ROOT`` on ``sys.path``, and let ``amlserver_linux.run`` build and run the gunicorn command.
"""

from __future__ import annotations

import os
import sys

from ..runtime.setup import ensure_started
from ..settings import ConfigError, Settings


def main() -> None:
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
