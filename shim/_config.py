"""Settings read from ``SCORE_SHIM_*`` environment variables.

Every variable is parsed once, at start-up, so that a typo stops the container with a message that names
the variable and the accepted values instead of silently falling back to a default the user did not ask
for.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

PREFIX = "SCORE_SHIM_"

LOG_FORMATS = ("json", "console", "auto")
LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off", "")


class ConfigError(ValueError):
    """A ``SCORE_SHIM_*`` variable holds a value the shim cannot use.

    The message names the variable, the value and what is accepted, so it can be shown as it is.
    """

    explains_itself = True


@dataclass(frozen=True)
class Settings:
    """What the shim was asked to do, as parsed from the environment."""

    entry_script: str | None = None
    debug: bool = False
    debug_port: int | None = None
    debug_host: str = "127.0.0.1"
    wait_for_debugger: bool = False
    log_format: str = "auto"
    log_level: str = "info"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Parse the settings; raise `ConfigError` naming the first bad variable."""
        env = os.environ if environ is None else environ
        return cls(
            entry_script=env.get(PREFIX + "ENTRY_SCRIPT") or None,
            debug=_flag(env, "DEBUG"),
            debug_port=_port(env, "DEBUG_PORT"),
            debug_host=env.get(PREFIX + "DEBUG_HOST", "").strip() or "127.0.0.1",
            wait_for_debugger=_flag(env, "WAIT_FOR_DEBUGGER"),
            log_format=_choice(env, "LOG_FORMAT", LOG_FORMATS, "auto"),
            log_level=_choice(env, "LOG_LEVEL", LOG_LEVELS, "info"),
        )


def _flag(env: Mapping[str, str], name: str) -> bool:
    raw = env.get(PREFIX + name, "")
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(f"{PREFIX}{name}={raw!r} is not a valid switch: use one of 1, 0, true, false, yes, no, on, off.")


def _choice(env: Mapping[str, str], name: str, accepted: tuple[str, ...], default: str) -> str:
    raw = env.get(PREFIX + name, "")
    value = raw.strip().lower() or default
    if value not in accepted:
        raise ConfigError(f"{PREFIX}{name}={raw!r} is not accepted: use one of {', '.join(accepted)}.")
    return value


def _port(env: Mapping[str, str], name: str) -> int | None:
    raw = env.get(PREFIX + name, "")
    if not raw.strip():
        return None
    try:
        port = int(raw.strip())
    except ValueError:
        port = -1
    if not 1 <= port <= 65535:
        raise ConfigError(f"{PREFIX}{name}={raw!r} is not a TCP port: use a whole number from 1 to 65535.")
    return port
