"""Run ``get_model_path`` cases, one JSON line out per case; used by the parity test on both sides.

    python tests/_model_path_runner.py azureml-core < cases.json   # in the azureml-core venv
    python tests/_model_path_runner.py shim < cases.json           # with the shim importable

Each case gives a working directory, the environment variables to set (the others named in ``CLEARED`` are
removed), and the arguments. azureml-core reads ``AML_APP_ROOT`` once, at import, into ``MODELS_DIR``;
the runner recomputes that module attribute with azureml-core's own expression before each case, which is
what a fresh import would do.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

CLEARED = (
    "AML_APP_ROOT",
    "AZUREML_MODEL_DIR",
    "AZUREML_ARM_SUBSCRIPTION",
    "AZUREML_RUN_ID",
    "AZUREML_ARM_RESOURCEGROUP",
    "AZUREML_ARM_WORKSPACE_NAME",
    "AZUREML_ARM_PROJECT_NAME",
    "AZUREML_RUN_TOKEN",
    "AZUREML_SERVICE_ENDPOINT",
)


def main() -> int:
    impl = sys.argv[1]
    if impl == "azureml-core":
        import azureml.core.model as module

        def call(name: Any, version: Any) -> Any:
            module.MODELS_DIR = os.path.join(os.environ.get("AML_APP_ROOT", ""), "azureml-models")
            return module.Model.get_model_path(name, version)
    else:
        import shim

        shim.configure_logging(stream=sys.stderr)  # the shim's log lines must not mix with the answers

        def call(name: Any, version: Any) -> Any:
            return shim.get_model_path(name, version)

    cases = json.load(sys.stdin)
    for case in cases:
        for variable in CLEARED:
            os.environ.pop(variable, None)
        os.environ.update(case["env"])
        os.chdir(case["cwd"])
        out: dict[str, Any] = {"id": case["id"]}
        try:
            result = call(case["model_name"], case["version"])
        except Exception as error:
            out["raised"] = type(error).__name__
            out["mro"] = [cls.__name__ for cls in type(error).__mro__]
            out["message"] = str(getattr(error, "message", None) or error)
        else:
            out["result"] = os.fspath(result) if result is not None else None
        print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
