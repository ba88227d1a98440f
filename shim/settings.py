"""Settings read from ``SCORE_SHIM_*`` environment variables.

Every variable is parsed once, at start-up, so that a typo stops the container with a message that names
the variable and the accepted values instead of silently falling back to a default the user did not ask
for.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: `typing` is not imported by a worker's start (issue 17, import time)
    from collections.abc import Mapping
    from typing import Any

PREFIX = "SCORE_SHIM_"

LOG_FORMATS = ("json", "console", "auto")
INIT_FAILURE_MODES = ("exit", "hold")
PAYLOAD_MAX_CHARS_DEFAULT = 1000
MEMORY_WARN_PERCENT_DEFAULT = 90
LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
#: listen: the shim opens the port and VS Code attaches; connect: VS Code listens and the shim connects to it.
DEBUG_MODES = ("listen", "connect")
#: How long SCORE_SHIM_WAIT_FOR_DEBUGGER waits for VS Code before init() goes on without it.
DEBUG_WAIT_TIMEOUT_DEFAULT = 300.0
DEBUG_WAIT_TIMEOUT_MAX = 86400.0
#: fold: a successful request's two server access lines are told by its shim.run.ok; keep: they are written too.
ACCESS_LINES_MODES = ("fold", "keep")
#: Hold mode: the least time between two retries of init() by one worker (SCORE_SHIM_RETRY_INIT_INTERVAL).
RETRY_INIT_INTERVAL_DEFAULT = 10.0
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off", "")


class ConfigError(ValueError):
    """A ``SCORE_SHIM_*`` variable holds a value the shim cannot use.

    The message names the variable, the value and what is accepted, so it can be shown as it is.
    """

    explains_itself = True


class Settings:
    """What the shim was asked to do, as parsed from the environment: read-only, compared by value.

    The fields are the annotated class attributes below, with their defaults. A plain class rather than a frozen
    ``@dataclass``, because ``dataclasses`` imports ``inspect`` (with ``ast``, ``dis`` and ``tokenize``, about 7 ms)
    and this module is imported by every worker that starts (issue 17, a lighter start).
    """

    entry_script: str | None = None
    debug: bool = False
    debug_port: int | None = None
    debug_host: str = "127.0.0.1"
    wait_for_debugger: bool = False
    debug_mode: str = "listen"
    debug_wait_timeout: float = DEBUG_WAIT_TIMEOUT_DEFAULT
    log_format: str = "auto"
    log_level: str = "info"
    access_lines: str = "fold"
    on_init_failure: str = "exit"
    #: Hold mode: may the retry header re-run init() outside debug mode (an operator's explicit choice).
    retry_init: bool = False
    retry_init_interval: float = RETRY_INIT_INTERVAL_DEFAULT
    slow_run_ms: int | None = None
    log_payloads: bool = False
    payload_max_chars: int = PAYLOAD_MAX_CHARS_DEFAULT
    memory_warn_percent: int = MEMORY_WARN_PERCENT_DEFAULT
    #: The memory the instance will have, when it is not this machine's (``check --deployment`` sets it).
    memory_limit_mb: int | None = None

    def __init__(self, **values: Any) -> None:
        unknown = [name for name in values if name not in _FIELDS]
        if unknown:
            raise TypeError(f"Settings has no field {unknown[0]!r}")
        self.__dict__.update(values)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Settings are read-only: {name!r} cannot be set")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"Settings are read-only: {name!r} cannot be deleted")

    def _values(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in _FIELDS)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Settings):
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        return "Settings(" + ", ".join(f"{name}={getattr(self, name)!r}" for name in _FIELDS) + ")"

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
            debug_mode=_choice(env, "DEBUG_MODE", DEBUG_MODES, "listen"),
            debug_wait_timeout=_seconds(env, "DEBUG_WAIT_TIMEOUT", DEBUG_WAIT_TIMEOUT_DEFAULT),
            log_format=_choice(env, "LOG_FORMAT", LOG_FORMATS, "auto"),
            log_level=_choice(env, "LOG_LEVEL", LOG_LEVELS, "info"),
            access_lines=_choice(env, "ACCESS_LINES", ACCESS_LINES_MODES, "fold"),
            on_init_failure=_choice(env, "ON_INIT_FAILURE", INIT_FAILURE_MODES, "exit"),
            retry_init=_flag(env, "RETRY_INIT"),
            retry_init_interval=_seconds(env, "RETRY_INIT_INTERVAL", RETRY_INIT_INTERVAL_DEFAULT),
            slow_run_ms=_whole_or_none(env, "SLOW_RUN_MS", low=1, high=86_400_000),
            log_payloads=_flag(env, "LOG_PAYLOADS"),
            payload_max_chars=_whole(env, "PAYLOAD_MAX_CHARS", PAYLOAD_MAX_CHARS_DEFAULT, low=1, high=1_000_000),
            memory_warn_percent=_whole(env, "MEMORY_WARN_PERCENT", MEMORY_WARN_PERCENT_DEFAULT, low=1, high=100),
            memory_limit_mb=_whole_or_none(env, "MEMORY_LIMIT_MB", low=1, high=100_000_000),
        )


#: The fields, in their order: the class's annotations (strings, under ``from __future__ import annotations``).
_FIELDS = tuple(Settings.__annotations__)


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


def _seconds(env: Mapping[str, str], name: str, default: float, maximum: float = DEBUG_WAIT_TIMEOUT_MAX) -> float:
    raw = env.get(PREFIX + name, "")
    if not raw.strip():
        return default
    try:
        value = float(raw.strip())
    except ValueError:
        value = -1.0
    if not 0 < value <= maximum:  # also rejects nan and inf
        raise ConfigError(
            f"{PREFIX}{name}={raw!r} is not a duration: use a number of seconds above 0 and at most "
            f"{maximum:.0f}, e.g. 120."
        )
    return value


def _whole(env: Mapping[str, str], name: str, default: int, *, low: int, high: int) -> int:
    value = _whole_or_none(env, name, low=low, high=high)
    return default if value is None else value


def _whole_or_none(env: Mapping[str, str], name: str, *, low: int, high: int) -> int | None:
    raw = env.get(PREFIX + name, "")
    if not raw.strip():
        return None
    try:
        value = int(raw.strip())
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise ConfigError(f"{PREFIX}{name}={raw!r} is not accepted: use a whole number from {low} to {high}.")
    return value
