"""Start-up, once per process: read the settings, then point every logger at the shim's stream."""

from __future__ import annotations

import threading

from . import _events
from ._config import ConfigError, Settings
from ._logging import configure_logging, install_stdlib_bridge

_lock = threading.Lock()
_settings: Settings | None = None


def ensure_started() -> Settings:
    """Idempotent; raises `ConfigError` (after logging it) when a ``SCORE_SHIM_*`` value is bad."""
    global _settings
    with _lock:
        if _settings is not None:
            return _settings
        try:
            settings = Settings.from_env()
        except ConfigError as error:
            configure_logging()
            _events.init_failed(error, phase="config", diagnosis=str(error))
            raise
        configure_logging(settings)
        install_stdlib_bridge(settings.log_level)
        _settings = settings
        return settings
