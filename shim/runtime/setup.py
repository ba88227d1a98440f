"""Start-up: read the settings once, then point every logger at the shim's stream in each process."""

from __future__ import annotations

import os
import threading

from ..settings import ConfigError, Settings
from ..stream import redaction
from ..stream.configure import configure_logging, get_logger, install_stdlib_bridge
from . import access, echo, events, hold, memory, payload, watchdog

_log = get_logger("shim")

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
                events.init_failed(error, phase="config", diagnosis=str(error))
                raise
            _apply(_settings)
        if _configured_pid != os.getpid():
            configure_logging(_settings)
            _configured_pid = os.getpid()
        install_stdlib_bridge(_settings.log_level)
        access.connect()
        return _settings


def _apply(settings: Settings) -> None:
    """Hand each module its part of the settings, once per process tree (forks inherit them)."""
    short = redaction.reset().short_secret_names  # the secrets to mask: the environment as the process started
    if short:
        _log.warning(
            "shim.redaction.short_secret",
            variables=short,
            min_length=redaction.MIN_SECRET_LENGTH,
            diagnosis=(
                f"these variables look secret but their values are shorter than {redaction.MIN_SECRET_LENGTH} "
                "characters: they are masked under secret-named keys only, not in free text (they would mask "
                "half the log). Use longer secrets, or rename the variables if they are not secret."
            ),
        )
    echo.enabled = settings.debug
    access.fold_access_lines = settings.access_lines == "fold"
    hold.enabled = settings.on_init_failure == "hold"
    hold.retry_allowed = settings.debug or settings.retry_init
    hold.retry_interval_s = settings.retry_init_interval
    payload.enabled = settings.log_payloads
    payload.max_chars = settings.payload_max_chars
    watchdog.configure(settings.slow_run_ms, settings.memory_warn_percent)
    if settings.memory_limit_mb is not None:
        memory.assumed_limit_bytes = settings.memory_limit_mb * 1024 * 1024
    if settings.debug:
        _log.warning(
            "shim.debug.enabled",
            diagnosis=(
                "SCORE_SHIM_DEBUG=1: a failing run() answers with its exception, message and the file and line "
                "of your code. Never use it in production: anyone who can call the endpoint reads them."
            ),
        )
