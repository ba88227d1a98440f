"""The inference server's known start-up noise: lines that look like failures and are not.

One table for the two places that show them to people: the console format marks them harmless as they are
written (`console_view`), and ``score-shim logs`` lists them under "Harmless" (`shim.logs.meaning.noise`).
Measured on azureml-inference-server-http 1.5.1:

- ``Error while fetching model IDs``, logged at ERROR with a traceback from ``appinsights_client.py``
  (``_get_model_ids``) at every worker start when the model folder's entries are not numeric versions:
  only App Insights' model ids are missing.
- ``Found extra keys in the config file that are not supported by the server.``: whenever
  ``AZUREML_ENTRY_SCRIPT``, ``AZUREML_MODEL_DIR`` or ``SCORING_TIMEOUT_MS`` are set.
- ``Initializing logger``: a ``print`` of the server's before its logging is set up.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: `typing` is not imported by a worker's start (issue 17, import time)
    from typing import Any

MODEL_IDS = "Error while fetching model IDs"
EXTRA_KEYS = "Found extra keys in the config file"
LOGGER_PRINT = "Initializing logger"

#: kind: (what the server says, why it is harmless)
KINDS = {
    "model-ids": (
        MODEL_IDS,
        "App Insights reads model versions from the model folder's subfolder names, which are not numbers here; "
        "scoring is not affected",
    ),
    "extra-config-keys": (
        "Found extra keys in the config file that are not supported by the server.",
        "the server says so whenever AZUREML_ENTRY_SCRIPT, AZUREML_MODEL_DIR or SCORING_TIMEOUT_MS are set",
    ),
    "logger-print": (LOGGER_PRINT, "the server's own print, before its logging is set up"),
}
_BY_PREFIX = {MODEL_IDS: "model-ids", EXTRA_KEYS: "extra-config-keys"}


def console_view(event_dict: dict[str, Any]) -> dict[str, Any] | None:
    """A known noise line of the server's, marked harmless and on one line (its traceback left to the JSON
    line); None when the line is not one of them."""
    event = event_dict.get("event")
    if not isinstance(event, str) or not str(event_dict.get("logger", "")).startswith("azmlinfsrv"):
        return None
    kind = next((kind for prefix, kind in _BY_PREFIX.items() if event.startswith(prefix)), None)
    if kind is None:
        return None
    error = event_dict.get("error")
    if kind == "model-ids" and isinstance(error, dict) and "appinsights_client" not in str(error.get("traceback")):
        return None  # another traceback than the known one: shown in full
    view = {key: value for key, value in event_dict.items() if key not in ("error", "exception")}
    view["event"] = KINDS[kind][0]
    if isinstance(error, dict):
        view["detail"] = f"{error.get('type')}: {error.get('message')}"
    view["harmless"] = KINDS[kind][1]
    return view
