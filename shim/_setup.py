"""Start-up: read the settings once, then point every logger at the shim's stream in each process."""

from __future__ import annotations

import os
import threading

from . import _access, _events
from ._config import ConfigError, Settings
from ._logging import configure_logging, install_stdlib_bridge

_lock = threading.Lock()
_settings: Settings | None = None
_configured_pid: int | None = None


def ensure_started() -> Settings:
    """Parse the settings (once) and route all logging into the shim's stream.

    Raises `ConfigError`, after logging it, when a ``SCORE_SHIM_*`` value is bad. The output is set up
    again in a forked gunicorn worker, and the stdlib bridge is re-installed on every call, because the
    server applies its ``logging.json`` (dictConfig) in each worker, after the master was configured and
    before the entry script is imported.
    """
    global _settings, _configured_pid
    with _lock:
        if _settings is None:
            try:
                _settings = Settings.from_env()
            except ConfigError as error:
                configure_logging()
                _events.init_failed(error, phase="config", diagnosis=str(error))
                raise
        if _configured_pid != os.getpid():
            configure_logging(_settings)
            _configured_pid = os.getpid()
        install_stdlib_bridge(_settings.log_level)
        _access.connect()
        return _settings
