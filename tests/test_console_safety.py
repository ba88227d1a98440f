"""Issue 12, finding 5: the console format drew raw escape sequences from request content (a body the script
logged cleared the screen and set the terminal title). Every value drawn in console format is now
escaped, and no value can forge a line of its own."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from shim import Settings
from shim.stream import redaction
from shim.stream.configure import ShimHandler, configure_logging, get_logger
from tests._server import running_server

#: The renderer's own colours (SGR: ESC [ ... m); everything else that is a control character came from data.
OWN_COLOURS = re.compile(r"\x1b\[[0-9;]*m")
CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029]")
#: What an attacker puts in a body: clear screen, set the window title (OSC ... BEL), a C1 CSI, a carriage
#: return, a bidi override, and a newline followed by a line that looks like the log's own.
HOSTILE = (
    "\x1b[2J\x1b[H\x1b]0;pwned\x07 \x9b31m red \r overwritten \u202etxt.exe\n"
    "2026-01-01T00:00:00.000000Z [info     ] shim.run.ok   forged=1"
)
LINE_START = re.compile(r"^\d{4}-\d\d-\d\dT")


@pytest.fixture
def console() -> Iterator[io.StringIO]:
    buffer = io.StringIO()
    redaction.reset({})
    configure_logging(Settings(log_format="console"), stream=buffer)
    yield buffer
    configure_logging(Settings(log_format="json"), stream=io.StringIO())
    redaction.reset()


def drawn(buffer: io.StringIO) -> list[str]:
    return OWN_COLOURS.sub("", buffer.getvalue()).splitlines()


def assert_terminal_safe(lines: list[str], expected_lines: int) -> None:
    for line in lines:
        assert CONTROL.search(line) is None, repr(line)
    # Each event starts one line at column 0; every line of a block under it is indented.
    assert sum(1 for line in lines if not line.startswith(" ")) == expected_lines, lines
    assert not any(line.startswith("2026-01-01T00:00:00") for line in lines), "a value forged a line"


def test_finding_5_console_escapes_control_characters(console: io.StringIO) -> None:
    get_logger("shim").warning("shim.test.hostile", body=HOSTILE, nested={"k": [HOSTILE]}, **{HOSTILE: 1})
    get_logger(f"user{HOSTILE}").info(HOSTILE)
    lines = drawn(console)
    assert_terminal_safe(lines, expected_lines=2)
    text = "\n".join(lines)
    assert "\\x1b[2J" in text and "\\x07" in text and "\\x9b" in text and "\\u202e" in text  # shown, escaped
    assert "\\n2026-01-01T00:00:00.000000Z" in text


def test_finding_5_traceback_and_stack_blocks_cannot_forge_lines(console: io.StringIO) -> None:
    try:
        raise ValueError(HOSTILE)
    except ValueError as error:
        get_logger("shim").error("shim.test.failed", error=error)
    get_logger("shim").warning("shim.test.slow", stack=f"File x.py, line 1\n  {HOSTILE}")
    lines = drawn(console)
    assert_terminal_safe(lines, expected_lines=2)
    assert any(line.lstrip().startswith("Traceback (most recent call last):") for line in lines)
    assert any("ValueError: \\x1b[2J" in line for line in lines)


def test_finding_5_stdlib_records_are_escaped_too(console: io.StringIO) -> None:
    logger = logging.getLogger("test.console.safety")
    handler = ShimHandler()
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("request body: %s", HOSTILE, extra={"header": HOSTILE})
    finally:
        logger.removeHandler(handler)
    assert_terminal_safe(drawn(console), expected_lines=1)


def test_console_values_are_masked_as_in_json(console: io.StringIO) -> None:
    class Holder:
        def __repr__(self) -> str:
            return "Holder(password='Obj-Pw-123456')"

    get_logger("shim").info("shim.test.masked", obj=Holder(), password="Kw-Pw-123456")
    text = console.getvalue()
    assert "Obj-Pw-123456" not in text and "Kw-Pw-123456" not in text and "[REDACTED]" in text


@pytest.mark.server
def test_finding_5_console_escapes_a_body_logged_through_the_real_server(scripts: Path, log_dir: Path) -> None:
    env = {"SCORE_SHIM_LOG_FORMAT": "console"}
    with running_server(scripts / "trust_leaks.py", log_dir, env=env) as server, server.client() as client:
        response = client.post("/score", content=HOSTILE.encode(), headers={"x-case": "echo"})
        assert response.status_code == 200
        server.stop()
        text = OWN_COLOURS.sub("", server.log_text())
    assert "body: \\x1b[2J\\x1b[H\\x1b]0;pwned\\x07" in text
    for line in text.splitlines():
        assert CONTROL.search(line) is None, repr(line)
        assert not line.startswith("2026-01-01T00:00:00"), "a value forged a line"
