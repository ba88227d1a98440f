"""The stream itself: one JSON object per line, whatever the values, whatever happens to stdout."""

from __future__ import annotations

import io
import json
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from shim import JSONFormatter, Settings, configure_logging, get_logger
from shim.runtime import wrap as _wrap
from shim.stream.configure import ShimHandler


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    buffer = io.StringIO()
    configure_logging(Settings(log_format="json"), stream=buffer)
    yield buffer
    configure_logging(Settings(log_format="json"), stream=io.StringIO())


def lines(buffer: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


def test_event_schema(stream: io.StringIO) -> None:
    get_logger("shim").info("shim.test.event", answer=42)
    [event] = lines(stream)
    assert list(event)[:4] == ["timestamp", "level", "event", "logger"]
    assert event["event"] == "shim.test.event" and event["answer"] == 42 and event["logger"] == "shim"
    assert event["timestamp"].endswith("Z") and isinstance(event["pid"], int)


def test_unserialisable_and_circular_values_never_break_the_line(stream: io.StringIO) -> None:
    class Odd:
        def __repr__(self) -> str:
            raise RuntimeError("no repr either")

    circular: list[Any] = []
    circular.append(circular)
    log = get_logger("shim")
    log.info("shim.test.odd", value=object(), odd=Odd())
    log.info("shim.test.circular", value=circular, bad_keys={(1, 2): "tuple key"})
    odd, circ = lines(stream)
    assert odd["value"].startswith("<object object") and odd["odd"] == "<unrepresentable Odd>"
    assert circ["event"] == "shim.test.circular" and "[[...]]" in circ["value"]


def test_an_exception_whose_str_raises_is_still_logged(stream: io.StringIO) -> None:
    class Nasty(Exception):
        def __str__(self) -> str:
            raise ValueError("str() is broken")

    def run(raw_data: str) -> None:
        raise Nasty()

    with pytest.raises(Nasty):
        _wrap.wrap_run(run)("x")
    [event] = lines(stream)
    assert event["event"] == "shim.run.failed"
    assert "Nasty" in event["error"]["type"] and "str() raised" in event["error"]["message"]


@pytest.mark.parametrize("broken", ["closed", "broken-pipe"])
def test_a_closed_or_broken_stdout_never_breaks_scoring(broken: str) -> None:
    class BrokenPipe(io.StringIO):
        def write(self, text: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

    stream: io.StringIO = BrokenPipe() if broken == "broken-pipe" else io.StringIO()
    if broken == "closed":
        stream.close()
    configure_logging(Settings(log_format="json"), stream=stream)
    try:
        wrapped = _wrap.wrap_run(lambda raw_data: raw_data.upper())
        assert wrapped("ok") == "OK"
        with pytest.raises(KeyError):
            _wrap.wrap_run(lambda raw_data: {}[raw_data])("missing")
    finally:
        configure_logging(Settings(log_format="json"), stream=io.StringIO())


def test_lines_from_threads_never_interleave(stream: io.StringIO) -> None:
    log = get_logger("shim")
    payload = "x" * 5000

    def spam(n: int) -> None:
        for i in range(200):
            log.info("shim.test.thread", thread=n, i=i, payload=payload)

    threads = [threading.Thread(target=spam, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    events = lines(stream)
    assert len(events) == 800
    assert {(e["thread"], e["i"]) for e in events} == {(n, i) for n in range(4) for i in range(200)}


def test_stdlib_records_render_alike(stream: io.StringIO) -> None:
    logger = logging.getLogger("tests.stdlib")
    logger.setLevel(logging.INFO)
    logger.addHandler(handler := ShimHandler())
    logger.propagate = False
    try:
        logger.info("hello %s", "world", extra={"model": "m1"})
        try:
            raise KeyError("k")
        except KeyError:
            logger.exception("it failed")
    finally:
        logger.removeHandler(handler)
    hello, failed = lines(stream)
    assert hello["event"] == "hello world" and hello["logger"] == "tests.stdlib" and hello["model"] == "m1"
    assert hello["level"] == "info"
    assert failed["level"] == "error" and failed["error"]["type"] == "KeyError"
    assert failed["error"]["where"]["function"] == "test_stdlib_records_render_alike"


def test_console_format_is_for_people(tmp_path: Path) -> None:
    buffer = io.StringIO()
    configure_logging(Settings(log_format="console"), stream=buffer)
    try:
        get_logger("shim").info("shim.test.console", answer=42)
    finally:
        configure_logging(Settings(log_format="json"), stream=io.StringIO())
    text = buffer.getvalue()
    assert "shim.test.console" in text and "answer" in text and "42" in text
    with pytest.raises(ValueError):
        json.loads(text)


def test_auto_format_is_json_when_not_a_terminal(stream: io.StringIO) -> None:
    buffer = io.StringIO()
    configure_logging(Settings(log_format="auto"), stream=buffer)
    get_logger("shim").info("shim.test.auto")
    assert json.loads(buffer.getvalue())["event"] == "shim.test.auto"


def test_json_formatter_for_the_servers_logging_json() -> None:
    record = logging.LogRecord("azmlinfsrv", logging.WARNING, __file__, 1, "disk %d%% full", (93,), None)
    event = json.loads(JSONFormatter().format(record))
    assert event["event"] == "disk 93% full" and event["level"] == "warning" and event["logger"] == "azmlinfsrv"


def test_level_filters_the_shims_events() -> None:
    buffer = io.StringIO()
    configure_logging(Settings(log_format="json", log_level="warning"), stream=buffer)
    try:
        _wrap.wrap_run(lambda raw_data: raw_data)("x")
        get_logger("shim").warning("shim.test.kept")
    finally:
        configure_logging(Settings(log_format="json"), stream=io.StringIO())
    assert [e["event"] for e in lines(buffer)] == ["shim.test.kept"]


def test_a_failure_inside_the_shim_is_a_warning_never_the_users_problem(
    stream: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shim.stream import context as _request

    def broken(*_: Any) -> int:
        raise RuntimeError("bug in the shim")

    monkeypatch.setattr(_request, "input_bytes", broken)
    assert _wrap.wrap_run(lambda raw_data: raw_data + "!")("ok") == "ok!"
    [event] = lines(stream)
    assert event["event"] == "shim.internal_error" and event["level"] == "warning"
    assert event["where"] == "_events.run_ok" and event["error"]["message"] == "bug in the shim"


def test_an_exception_with_a_cycle_in_its_cause_chain_is_logged(stream: io.StringIO) -> None:
    def run(raw_data: str) -> None:
        first, second = ValueError("first"), KeyError("second")
        first.__cause__, second.__context__ = second, first
        raise first

    with pytest.raises(ValueError):
        _wrap.wrap_run(run)("x")
    [event] = lines(stream)
    assert event["error"]["type"] == "ValueError" and "KeyError" in event["error"]["traceback"]


def test_huge_messages_are_cut_head_and_tail(stream: io.StringIO) -> None:
    def run(raw_data: str) -> None:
        raise ValueError("start " + "x" * 1_000_000 + " end")

    with pytest.raises(ValueError):
        _wrap.wrap_run(run)("x")
    [event] = lines(stream)
    message = event["error"]["message"]
    assert message.startswith("start ") and message.endswith(" end") and "characters cut" in message
    assert len(stream.getvalue()) < 40_000


@pytest.mark.parametrize("fmt", ["json", "console"])
def test_log_event_writes_the_very_line_the_structlog_logger_writes(fmt: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # The served request's line skips structlog's call layers (configure.log_event): the same bytes, whatever the
    # format. The clock is stopped so that the two lines can be compared whole.
    from shim.stream import configure, processors

    monkeypatch.setattr(processors.time, "time", lambda: 1_700_000_000.25)
    fields = {"duration_ms": 0.012, "input_bytes": 33, "http": {"method": "POST", "status": 200}, "odd": "é\n"}
    written = []
    for write in (
        lambda: get_logger("shim").info("shim.run.ok", **fields),
        lambda: configure.log_event("shim", "info", "shim.run.ok", dict(fields)),
    ):
        buffer = io.StringIO()
        configure_logging(Settings(log_format=fmt, log_level="info"), stream=buffer)
        write()
        written.append(buffer.getvalue())
    configure_logging(Settings(log_format="json"), stream=io.StringIO())
    assert written[0] == written[1] and "shim.run.ok" in written[0]


def test_log_event_below_the_level_writes_nothing() -> None:
    from shim.stream import configure

    buffer = io.StringIO()
    configure_logging(Settings(log_format="json", log_level="warning"), stream=buffer)
    try:
        configure.log_event("shim", "info", "shim.run.ok", {"duration_ms": 1.0})
        configure.log_event("shim", "warning", "shim.run.slow", {"elapsed_ms": 1.0})
    finally:
        configure_logging(Settings(log_format="json"), stream=io.StringIO())
    assert [json.loads(line)["event"] for line in buffer.getvalue().splitlines()] == ["shim.run.slow"]


def test_a_record_another_line_tells_is_skipped_before_the_handlers_lock(stream: io.StringIO) -> None:
    from shim.stream import configure

    handler = ShimHandler()
    seen: list[str] = []

    def skip(record: logging.LogRecord) -> bool:
        seen.append(record.getMessage())
        return record.getMessage() == "told elsewhere"

    configure.add_record_filter(skip)
    try:
        handler.acquire()  # another thread holds the handler: a skipped record must not wait for it
        try:
            done = threading.Thread(target=handler.handle, args=(logging.makeLogRecord({"msg": "told elsewhere"}),))
            done.start()
            done.join(timeout=5)
            assert not done.is_alive()
        finally:
            handler.release()
        handler.handle(
            logging.makeLogRecord({"name": "user.test", "msg": "kept", "levelno": logging.INFO, "levelname": "INFO"})
        )
    finally:
        configure._record_filters.remove(skip)
    assert seen == ["told elsewhere", "kept"]
    assert [event["event"] for event in lines(stream)] == ["kept"]
