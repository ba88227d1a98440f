from __future__ import annotations

import pytest

from shim import ConfigError, Settings


def test_defaults_are_safe() -> None:
    settings = Settings.from_env({})
    assert settings.debug is False and settings.debug_port is None
    assert settings.debug_host == "127.0.0.1"
    assert (settings.log_format, settings.log_level) == ("auto", "info")
    assert (settings.debug_mode, settings.debug_wait_timeout, settings.wait_for_debugger) == ("listen", 300.0, False)


def test_debugger_settings_are_parsed() -> None:
    settings = Settings.from_env({"SCORE_SHIM_DEBUG_MODE": " Connect ", "SCORE_SHIM_DEBUG_WAIT_TIMEOUT": "12.5"})
    assert (settings.debug_mode, settings.debug_wait_timeout) == ("connect", 12.5)


def test_values_are_parsed() -> None:
    settings = Settings.from_env(
        {
            "SCORE_SHIM_ENTRY_SCRIPT": "score.py",
            "SCORE_SHIM_DEBUG": "TRUE",
            "SCORE_SHIM_DEBUG_PORT": " 5678 ",
            "SCORE_SHIM_WAIT_FOR_DEBUGGER": "yes",
            "SCORE_SHIM_LOG_FORMAT": "Console",
            "SCORE_SHIM_LOG_LEVEL": "DEBUG",
        }
    )
    assert settings == Settings(
        entry_script="score.py",
        debug=True,
        debug_port=5678,
        wait_for_debugger=True,
        log_format="console",
        log_level="debug",
    )


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("SCORE_SHIM_DEBUG", "2", "SCORE_SHIM_DEBUG='2' is not a valid switch: use one of 1, 0, true"),
        ("SCORE_SHIM_DEBUG_PORT", "http", "SCORE_SHIM_DEBUG_PORT='http' is not a TCP port"),
        ("SCORE_SHIM_DEBUG_PORT", "0", "whole number from 1 to 65535"),
        (
            "SCORE_SHIM_DEBUG_MODE",
            "attach",
            "DEBUG_MODE='attach' is not accepted: use one of listen, connect",
        ),
        ("SCORE_SHIM_DEBUG_WAIT_TIMEOUT", "soon", "SCORE_SHIM_DEBUG_WAIT_TIMEOUT='soon' is not a duration: use a"),
        ("SCORE_SHIM_DEBUG_WAIT_TIMEOUT", "0", "a number of seconds above 0 and at most 86400"),
        ("SCORE_SHIM_DEBUG_WAIT_TIMEOUT", "nan", "a number of seconds above 0"),
        ("SCORE_SHIM_LOG_FORMAT", "yaml", "SCORE_SHIM_LOG_FORMAT='yaml' is not accepted: use one of json, console"),
        ("SCORE_SHIM_LOG_LEVEL", "verbose", "use one of debug, info, warning, error, critical"),
        ("SCORE_SHIM_ACCESS_LINES", "drop", "SCORE_SHIM_ACCESS_LINES='drop' is not accepted: use one of fold, keep"),
    ],
)
def test_bad_values_name_the_variable_and_the_accepted_values(name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({name: value})
    assert message in str(caught.value)


def test_access_lines_are_folded_unless_kept() -> None:
    assert Settings.from_env({}).access_lines == "fold"
    assert Settings.from_env({"SCORE_SHIM_ACCESS_LINES": " Keep "}).access_lines == "keep"


def test_settings_are_read_only_values() -> None:
    # A plain class now, not a frozen dataclass (issue 17: dataclasses imports inspect): the same behaviour.
    settings = Settings(log_format="json")
    assert settings == Settings(log_format="json") and hash(settings) == hash(Settings(log_format="json"))
    assert settings != Settings() and settings.log_level == "info"
    assert "log_format='json'" in repr(settings)
    with pytest.raises(AttributeError, match="read-only"):
        settings.debug = True
    with pytest.raises(TypeError, match="no field 'log_fromat'"):
        Settings(log_fromat="json")
