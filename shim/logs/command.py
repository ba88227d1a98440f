"""``score-shim logs``: inputs (files, standard input, ``--follow``), progress, and what is printed.

The reading and the summary live in `shim.logs.summary`; the tables in `shim.logs.render`.
"""

from __future__ import annotations

import io
import json
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO, TextIO

import click

from .summary import MAX_LINE, SizingAsk, Summary, feed_handle, read_file
from .terminal import safe, story_line

STDIN_NAME = "<stdin>"
#: --follow: how often appended lines are looked for, and how often the summary is printed again.
POLL_SECONDS = 0.2
SUMMARY_EVERY_SECONDS = 5.0
CHUNK = 1 << 20


class LogsError(Exception):
    """A problem with the inputs, said in one line (the CLI prints it without a traceback)."""


@dataclass
class LogsOptions:
    files: Sequence[str]
    request_id: str | None = None
    follow: bool = False
    as_json: bool = False
    follow_seconds: float | None = None  # stop --follow after this long (tests); None: until Ctrl-C
    sizing: SizingAsk | None = None  # --target-rps, --target-utilization, --max-concurrent-per-replica
    #: ``--raw``: the story's lines as they were written (for grep and jq); else as text for a person.
    raw: bool = False


class _Progress:
    """``reading app.log: 412 MB of 1.0 GB (40 %), 1,204,332 lines`` on stderr, when stderr is a terminal."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.enabled = _isatty(stream)
        self.shown = False
        self.last = 0.0

    def __call__(self, name: str, done: int, size: int, lines: int) -> None:
        now = time.monotonic()
        if now - self.last < 0.25:
            return
        self.last = now
        share = f" ({100 * done // size} %)" if size else ""
        self.stream.write(f"\rreading {name}: {done / 1e6:,.0f} MB of {size / 1e6:,.0f} MB{share}, {lines:,} lines ")
        self.stream.flush()
        self.shown = True

    def clear(self) -> None:
        if self.shown:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self.shown = False


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _check_inputs(files: Sequence[str]) -> None:
    for path in files:
        if path == "-":
            continue
        if not os.path.exists(path):
            raise LogsError(f"{path}: no such file")
        if os.path.isdir(path):
            raise LogsError(f"{path} is a folder: give the log file(s) inside it")
        if not os.access(path, os.R_OK):
            raise LogsError(f"{path}: permission denied")


class _Tail:
    """One followed file: complete lines as they are appended (a partial last line waits for its end)."""

    def __init__(self, path: str, name: str) -> None:
        self.path = path
        self.name = name
        self.raw: BinaryIO = open(path, "rb")  # noqa: SIM115 - kept open while following
        self.pending = b""

    def read(self, summary: Summary) -> int:
        fed = 0
        summary.select_source(self.name)
        while True:
            chunk = self.raw.read(CHUNK)
            if not chunk:
                break
            data = self.pending + chunk
            cut = data.rfind(b"\n")
            if cut < 0:
                self.pending = data
                if len(self.pending) >= MAX_LINE:  # a line too long to keep: cut it
                    summary.feed(self.pending[:MAX_LINE].decode("utf-8", "replace"))
                    self.pending, fed = b"", fed + 1
                continue
            self.pending = data[cut + 1 :]
            for line in data[:cut].decode("utf-8", "replace").split("\n"):
                summary.feed(line[:-1] if line[-1:] == "\r" else line)
                fed += 1
        try:
            if os.stat(self.path).st_size < self.raw.tell():  # truncated or replaced: start again
                self.raw.close()
                self.raw = open(self.path, "rb")  # noqa: SIM115
                self.pending = b""
        except OSError:
            pass
        return fed

    def close(self) -> None:
        self.raw.close()


def _stdin_text() -> TextIO:
    binary = getattr(sys.stdin, "buffer", None)
    if binary is None:  # already text (an embedding application's stdin)
        return sys.stdin
    return io.TextIOWrapper(binary, encoding="utf-8", errors="replace")


def _print_story(summary: Summary, several: bool, readable: bool) -> None:
    for source, lines in summary.story_lines_sorted():
        for line in lines:
            click.echo(story_line(source, line, several, readable=readable))
    if summary.story_dropped:
        click.echo(f"... {summary.story_dropped:,} more matching records not shown", err=True)


def _emit(summary: Summary, options: LogsOptions, several: bool) -> None:
    result = summary.result()
    if options.request_id is not None:
        if options.as_json:
            lines = [
                {"source": source, "line": line} for source, chunk in summary.story_lines_sorted() for line in chunk
            ]
            click.echo(json.dumps({"request_id": options.request_id, "lines": lines, "summary": result}, indent=2))
        else:
            _print_story(summary, several, readable=not options.raw)
        return
    if options.as_json:
        click.echo(json.dumps(result, indent=2))
        return
    from .render import render_summary

    render_summary(safe(result), click.echo)


def _not_found(summary: Summary, request_id: str) -> str:
    message = f"no line carries request id {request_id!r}"
    if summary.json_lines == 0:
        message += " (the bare server does not log request ids: serve the script through score-shim to get them)"
    return message


def run(options: LogsOptions) -> int:
    """Read, summarise, print; returns the exit code (1: ``--request-id`` matched nothing)."""
    files = list(options.files)
    _check_inputs(files)
    summary = Summary(options.request_id, options.sizing)
    several = len(files) > 1
    progress = _Progress(sys.stderr)
    if not files and _isatty(sys.stdin):
        raise LogsError(
            "no log given: name a file, or pipe one in (kubectl logs POD | score-shim logs); see score-shim logs -h"
        )
    if options.follow:
        return _follow(summary, options, files, several, progress)
    try:
        for path in files or ["-"]:
            if path == "-":
                summary.start_source(STDIN_NAME)
                feed_handle(summary, _stdin_text())
                summary.close_records()
                continue
            try:
                read_file(summary, path, path, progress if progress.enabled else None)
            except OSError as error:
                raise LogsError(f"cannot read {path}: {error.strerror or error}") from None
    finally:
        progress.clear()
    _emit(summary, options, several)
    if options.request_id is not None and not summary.story:
        click.echo(f"score-shim logs: {_not_found(summary, options.request_id)}", err=True)
        return 1
    return 0


def _follow(summary: Summary, options: LogsOptions, files: list[str], several: bool, progress: _Progress) -> int:
    """Like ``tail -f``: the story's lines as they come (``--request-id``), else the summary now and then."""
    deadline = time.monotonic() + options.follow_seconds if options.follow_seconds is not None else None
    live = options.request_id is not None and not options.as_json
    updates = not live and not options.as_json  # --json prints one document, at the end

    def announce(source: str, lines: list[str]) -> None:
        for line in lines:
            click.echo(story_line(source, line, several, readable=not options.raw))

    if live:
        summary.on_story = announce
    tails: list[_Tail] = []
    try:
        if "-" in files and len(files) > 1:
            raise LogsError("--follow reads either files or standard input (-), not both")
        if not files or files == ["-"]:
            summary.start_source(STDIN_NAME)
            last_print = time.monotonic()
            for line in _stdin_text():
                summary.feed(line.rstrip("\n"))
                if updates and time.monotonic() - last_print > SUMMARY_EVERY_SECONDS:
                    _emit_follow(summary, options, several, "updated")
                    last_print = time.monotonic()
                if deadline is not None and time.monotonic() > deadline:
                    break
            summary.close_records()
        else:
            for path in files:
                try:
                    tails.append(_Tail(path, path))
                except OSError as error:
                    raise LogsError(f"cannot read {path}: {error.strerror or error}") from None
            for tail in tails:
                tail.read(summary)
            if updates:
                _emit_follow(summary, options, several, "so far")
            last_print, changed = time.monotonic(), False
            while deadline is None or time.monotonic() < deadline:
                time.sleep(POLL_SECONDS)
                fed = sum(tail.read(summary) for tail in tails)
                if not fed:
                    summary.close_records()  # a quiet moment: the records that are open are complete
                changed = changed or fed > 0
                if changed and updates and time.monotonic() - last_print >= SUMMARY_EVERY_SECONDS:
                    _emit_follow(summary, options, several, "updated")
                    last_print, changed = time.monotonic(), False
            summary.close_records()
    except KeyboardInterrupt:  # Ctrl-C is how --follow ends: finish cleanly, with the summary
        summary.close_records()
    finally:
        progress.clear()
        for tail in tails:
            tail.close()
    if not live:
        _emit_follow(summary, options, several, "final")
    return 0


def _emit_follow(summary: Summary, options: LogsOptions, several: bool, label: str) -> None:
    if not options.as_json:
        click.echo(f"--- {label}, {time.strftime('%H:%M:%S')} ---")
    _emit(summary, options, several)
