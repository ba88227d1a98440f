"""The server's known start-up noise: lines that look like failures and are not, noted as harmless.

- ``Error while fetching model IDs`` with a ``ValueError: invalid literal for int()`` traceback from
  ``appinsights_client.py`` (``_get_model_ids``): logged at every worker start when the model folder's
  subfolders are not numeric versions. Only App Insights' model ids are missing; scoring is not affected.
- ``Found extra keys in the config file that are not supported by the server.`` and its ``Extra keys = [...]``
  line: logged whenever ``AZUREML_ENTRY_SCRIPT``, ``AZUREML_MODEL_DIR`` or ``SCORING_TIMEOUT_MS`` are set.
- ``Initializing logger``: a ``print`` of the server's before its logging is set up (a bare line).
"""

from __future__ import annotations

from ...stream.server_noise import EXTRA_KEYS, KINDS, LOGGER_PRINT, MODEL_IDS
from ..frames import is_library
from ..record import Record
from ..tally.totals import Tally
from .exceptions import read_error

_EXTRA_KEYS_LINE = "Extra keys = ["
#: How every known noise starts (tested before `on_noise` is called: most records are not noise).
NOISE_PREFIXES = (MODEL_IDS, EXTRA_KEYS, _EXTRA_KEYS_LINE, LOGGER_PRINT)


def on_noise(tally: Tally, record: Record, message: str) -> bool:
    """Known noise is noted as harmless (True); False for anything else."""
    kind, detail, counted = _kind(record, message)
    if kind is None:
        return False
    what, why = KINDS[kind]
    noise = tally.harmless.add(kind, what, why, record.timestamp, count=counted)
    if noise is not None and detail and noise.detail is None:
        noise.detail = detail[:300]
    return True


def _kind(record: Record, message: str) -> tuple[str | None, str | None, bool]:
    """The kind of noise, the detail it gives, and whether it counts as one more (a continuation does not)."""
    bare = not record.logger
    if message.startswith(MODEL_IDS) and (bare or record.logger.startswith("azmlinfsrv")):
        error, _ = read_error(message)
        if error is None:
            return "model-ids", None, True
        where = error.get("where")
        if isinstance(where, dict) and not is_library(str(where.get("file", ""))):
            return None, None, False  # the user's own traceback came with it: not noise
        return "model-ids", f"{error['type']}: {error['message']}", True
    if message.startswith(EXTRA_KEYS):
        _, _, keys = message.partition("\n")
        return "extra-config-keys", keys.strip() or None, True
    if bare and message.startswith(_EXTRA_KEYS_LINE) and not record.lines:
        return "extra-config-keys", message.strip(), False
    if bare and message.strip() == LOGGER_PRINT and not record.lines:
        return "logger-print", None, True
    return None, None, False
