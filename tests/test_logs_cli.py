"""`score-shim logs` on logs captured from the real server (with the shim and bare), as a user reads them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from shim.cli import cli
from shim.logs import story_text
from shim.logs import summary as _logs
from tests._server import running_server, wait_for

pytestmark = pytest.mark.server

JSON_HEADERS = {"Content-Type": "application/json"}


@dataclass
class Captured:
    shim: Path  # plain.py wrapped: good-1 and good-2 answer 200, bad-1 raises ValueError
    bare: Path  # plain.py through the bare server: one good, one failing request, text format
    bare_init: Path  # init_fails.py through the bare server: init() raises, the server exits 3
    console: Path  # plain.py wrapped, in the console format (a terminal's copy): good-1 answers 200, bad-1 raises


def _stopped(path: Path, process: Any) -> Path:
    assert wait_for(lambda: process.poll() is not None, timeout=30)
    return path


@pytest.fixture(scope="module")
def captured(scripts: Path, log_dir: Path) -> Iterator[Captured]:
    with running_server(scripts / "plain.py", log_dir) as server, server.client() as client:
        for request_id, body in (("good-1", '{"x": [1]}'), ("bad-1", '{"fail": "bad"}'), ("good-2", '{"x": [2]}')):
            client.post("/score", content=body, headers={**JSON_HEADERS, "x-request-id": request_id})
        server.wait_for_event("shim.run.ok", request_id="good-2")
    shim_log = server.log_path
    with running_server(scripts / "plain.py", log_dir, shim=False) as server, server.client() as client:
        client.post("/score", content='{"x": [1]}', headers=JSON_HEADERS)
        client.post("/score", content='{"fail": "bad"}', headers={**JSON_HEADERS, "x-request-id": "bare-bad"})
        assert wait_for(lambda: server.log_text().count("gunicorn.access") >= 2)
    bare_log = server.log_path
    with running_server(scripts / "init_fails.py", log_dir, shim=False, expect_healthy=False) as server:
        bare_init = _stopped(server.log_path, server.process)
    env = {"SCORE_SHIM_LOG_FORMAT": "console"}
    with running_server(scripts / "plain.py", log_dir, env=env) as server, server.client() as client:
        for request_id, body in (("good-1", '{"x": [1]}'), ("bad-1", '{"fail": "bad"}')):
            client.post("/score", content=body, headers={**JSON_HEADERS, "x-request-id": request_id})
        assert wait_for(lambda: 'HTTP/1.1" 500' in server.log_text())  # bad-1's access line: the last one
    yield Captured(shim_log, bare_log, bare_init, server.log_path)


def run(*args: str, stdin: str | bytes | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), input=stdin, catch_exceptions=False)


def summary(*args: str, stdin: str | bytes | None = None) -> dict[str, Any]:
    result = run(*args, "--json", stdin=stdin)
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def failure(data: dict[str, Any], kind: str) -> dict[str, Any]:
    found = [group for group in data["failures"] if group["type"] == kind]
    assert found, data["failures"]
    return found[0]


def test_shim_log_summary_names_the_failure_its_place_and_request(captured: Captured) -> None:
    result = run("logs", str(captured.shim))
    assert result.exit_code == 0, result.output
    assert "ValueError" in result.stdout
    assert "asked to fail: bad" in result.stdout
    assert "bad-1" in result.stdout

    data = summary("logs", str(captured.shim))
    group = failure(data, "ValueError")
    assert (group["stage"], group["count"], group["sample_request_id"]) == ("run", 1, "bad-1")
    assert group["place"].endswith("tests/scripts/plain.py:22")
    assert data["requests"]["by_status"] == {"200": 2, "500": 1}
    assert data["latency_ms"]["count"] == 3
    assert [(w["init"], w["replica"]) for w in data["workers"]] == [("ok", os.uname().nodename)]


def test_request_id_shows_only_that_requests_lines_in_order(captured: Captured) -> None:
    result = run("logs", str(captured.shim), "--request-id", "bad-1", "--raw")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines and all(line["request_id"] == "bad-1" for line in lines)
    events = [line["event"] for line in lines]
    assert "shim.run.failed" in events
    assert events.index("plain run printed") < events.index("shim.run.failed")  # the story, in order
    assert [line["timestamp"] for line in lines] == sorted(line["timestamp"] for line in lines)
    assert "good-1" not in result.stdout

    missing = run("logs", str(captured.shim), "--request-id", "no-such-request")
    assert missing.exit_code == 1
    assert "no line carries request id 'no-such-request'" in missing.stderr


def test_bare_server_text_log_with_failing_init_and_multiline_tracebacks(captured: Captured) -> None:
    data = summary("logs", str(captured.bare), str(captured.bare_init))
    # The failing init: the user's exception under the server's UserScriptException, in a multi-line traceback.
    init = failure(data, "FileNotFoundError")
    assert init["stage"] == "init"
    assert init["place"].endswith("tests/scripts/init_fails.py:8")
    failed = [w for w in data["workers"] if w["init"] == "failed"]
    assert len(failed) == 1
    assert failed[0]["error"]["type"] == "FileNotFoundError"
    assert failed[0]["ended"] == "exited with code 3"
    assert failed[0]["replica"] == str(captured.bare_init)
    # The failing request, read from the text traceback; counted once although two lines tell it.
    run_failure = failure(data, "ValueError")
    assert (run_failure["stage"], run_failure["count"]) == ("run", 1)
    assert run_failure["place"].endswith("tests/scripts/plain.py:22")
    assert data["requests"]["by_status"] == {"200": 1, "500": 1}
    assert data["worker_events"]["counts"]["exited with code 3"] == 1

    text = run("logs", str(captured.bare_init)).stdout
    assert "FileNotFoundError" in text and "failed" in text

    # A crash loop in one `docker logs`: every restart's worker gets the same pid, and each is told apart.
    looped = summary("logs", stdin=captured.bare_init.read_text() * 3)
    assert [w["init"] for w in looped["workers"]] == ["failed"] * 3
    assert looped["worker_events"]["server_starts"] == 3
    assert "crash loop" in run("logs", stdin=captured.bare_init.read_text() * 3).stdout

    # The bare server logs no request ids: say so instead of printing nothing.
    missing = run("logs", str(captured.bare), "--request-id", "bare-bad")
    assert missing.exit_code == 1
    assert "the bare server does not log request ids" in missing.stderr


def test_two_replicas_in_two_files_and_in_one_kubectl_prefix_stream(captured: Captured) -> None:
    data = summary("logs", str(captured.shim), str(captured.bare))
    assert [s["name"] for s in data["sources"]] == [str(captured.shim), str(captured.bare)]
    assert data["requests"]["by_status"] == {"200": 3, "500": 2}
    assert {w["replica"] for w in data["workers"]} == {os.uname().nodename, str(captured.bare)}
    assert failure(data, "ValueError")["count"] == 2

    # `kubectl logs --prefix`: two pods' lines interleaved one by one; tracebacks still belong to their record.
    one = captured.bare.read_text().splitlines()
    two = captured.bare_init.read_text().splitlines()
    mixed = []
    for i in range(max(len(one), len(two))):
        if i < len(one):
            mixed.append(f"[pod/blue-7d9c-a/inference-server] {one[i]}")
        if i < len(two):
            mixed.append(f"[pod/blue-7d9c-b/inference-server] {two[i]}")
    data = summary("logs", stdin="\n".join(mixed) + "\n")
    workers = {(w["replica"], w["init"]) for w in data["workers"]}
    assert workers == {("pod/blue-7d9c-a", "ok"), ("pod/blue-7d9c-b", "failed")}
    assert failure(data, "FileNotFoundError")["place"].endswith("init_fails.py:8")
    assert failure(data, "ValueError")["place"].endswith("plain.py:22")

    # `docker logs --timestamps` / `kubectl logs --timestamps`, on text and on the shim's JSON lines.
    stamped = "".join(f"2026-11-25T17:27:43.123456789Z {line}\n" for line in one + two)
    data = summary("logs", stdin=stamped)
    assert {w["init"] for w in data["workers"]} == {"ok", "failed"}
    assert failure(data, "ValueError")["count"] == 1
    prefixed = "".join(f"[pod/blue-7d9c-a/inference-server] {line}" for line in captured.shim.open())
    story = run("logs", "--request-id", "bad-1", "--raw", stdin=prefixed).stdout.splitlines()
    assert story and all('"request_id": "bad-1"' in line for line in story)
    assert any('"shim.run.failed"' in line for line in story)


def test_a_copy_of_the_console_format_is_read_as_the_json_it_was(captured: Captured, scripts: Path) -> None:
    """What `serve` prints on a terminal (colours and all), saved to a file: read as unknown text it said
    "Failures: none"."""
    assert "\x1b[" in captured.console.read_text()  # forced console format: coloured, as on a terminal
    data = summary("logs", str(captured.console))
    assert data["console_lines"] > 10 and data["json_lines"] == 0
    assert data["init"] == {"ok": 1}
    assert data["requests"]["by_status"] == {"200": 1, "500": 1}
    (failed,) = data["failures"]
    assert failed["type"] == "ValueError" and failed["request_ids"] == ["bad-1"]
    assert failed["place"] == f"{scripts / 'plain.py'}:22" and failed["message"] == "asked to fail: bad"
    assert failed["count"] == 1  # the traceback drawn under the line is not a second failure
    text = run("logs", str(captured.console)).stdout
    assert "in the console format" in text and "Failures: none" not in text

    story = run("logs", str(captured.console), "--request-id", "bad-1")
    assert story.exit_code == 0, story.output
    assert "shim.run.failed" in story.stdout and "good-1" not in story.stdout


def test_follow_prints_matching_lines_as_they_are_appended(captured: Captured, tmp_path: Path) -> None:
    log = tmp_path / "live.log"
    lines = captured.shim.read_text().splitlines(keepends=True)
    # The log up to the request's first line is there at the start; the rest (with its failure) comes later.
    first = next(index for index, line in enumerate(lines) if '"request_id": "bad-1"' in line)
    assert any('"shim.run.failed"' in line and '"bad-1"' in line for line in lines[first + 1 :])
    log.write_text("".join(lines[: first + 1]))
    process = subprocess.Popen(
        [sys.executable, "-m", "shim", "logs", str(log), "-f", "--request-id=bad-1", "--raw", "--follow-seconds=20"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        # Printed once read: the command has reached the end of the file as it was, and follows it from here.
        assert json.loads(process.stdout.readline())["request_id"] == "bad-1"
        with log.open("a") as out:
            out.writelines(lines[first + 1 :])
        followed = []  # what it prints of the appended lines; --follow-seconds bounds the wait if it never does
        while not any('"shim.run.failed"' in line for line in followed):
            line = process.stdout.readline()
            if not line:
                break
            followed.append(line)
        process.send_signal(signal.SIGINT)  # as a user stops it: Ctrl-C
        stdout, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, stderr
    # Only what was appended after the first line: printed as it came (the failure before Ctrl-C), then the rest.
    events = [json.loads(line) for line in [*followed, *stdout.splitlines()]]
    assert events and all(event["request_id"] == "bad-1" for event in events)
    assert any(event["event"] == "shim.run.failed" for event in events)
    assert "Traceback" not in stderr


def test_follow_stops_cleanly_on_ctrl_c_with_the_summary(captured: Captured, tmp_path: Path) -> None:
    log = tmp_path / "live.log"
    log.write_bytes(captured.shim.read_bytes())
    process = subprocess.Popen(
        [sys.executable, "-m", "shim", "logs", str(log), "--follow"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()  # the summary so far is printed before following
        assert first.startswith("--- so far")
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, stderr
    assert "--- final" in stdout and "ValueError" in stdout
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr


# -- formats not produced by the server here: gunicorn's own format, old servers ---------------------------

GUNICORN_AND_OLD_SERVER = """\
[2026-11-25 17:30:00 +0000] [1] [INFO] Starting gunicorn 20.1.0
[2026-11-25 17:30:00 +0000] [1] [INFO] Booting worker with pid: 41
[2026-11-25 17:30:00 +0000] [1] [INFO] Booting worker with pid: 42
2026-11-25 17:30:01,389 | root | INFO | Invoking user's init function
2026-11-25 17:30:01,390 | root | INFO | Users's init has completed successfully
2026-11-25 17:30:02,523 | root | INFO | 200
127.0.0.1 - - [25/Nov/2026:17:30:02 +0000] "POST /score HTTP/1.0" 200 2 "-" "python-requests/2.26.0"
2026-11-25 17:30:03,001 | root | ERROR | Encountered Exception: Traceback (most recent call last):
  File "/var/azureml-server/app.py", line 245, in run_scoring
    response = invoke_user_with_timer(service_input, request_headers)
  File "/var/azureml-app/onlinescoring/score.py", line 31, in run
    result = model.predict(data)
KeyError: 'data'

2026-11-25 17:30:03,002 | root | INFO | 500
127.0.0.1 - - [25/Nov/2026:17:30:03 +0000] "POST /score HTTP/1.0" 500 40 "-" "python-requests/2.26.0"
[2026-11-25 17:35:00 +0000] [1] [CRITICAL] WORKER TIMEOUT (pid:41)
[2026-11-25 17:35:01 +0000] [1] [ERROR] Worker (pid:42) was sent SIGKILL! Perhaps out of memory?
[2026-11-25 17:35:01 +0000] [1] [INFO] Booting worker with pid: 77
"""


def test_gunicorn_format_old_server_format_worker_kills() -> None:
    data = summary("logs", stdin=GUNICORN_AND_OLD_SERVER)
    assert data["requests"]["by_status"] == {"200": 1, "500": 1}
    group = failure(data, "KeyError")
    assert group["place"] == "/var/azureml-app/onlinescoring/score.py:31"
    assert data["worker_events"]["counts"] == {"WORKER TIMEOUT": 1, "SIGKILL (out of memory?)": 1}
    ended = {w["pid"]: w.get("ended") for w in data["workers"]}
    assert ended[41] == "WORKER TIMEOUT" and ended[42] == "SIGKILL (out of memory?)"

    text = run("logs", stdin=GUNICORN_AND_OLD_SERVER).stdout
    assert "WORKER TIMEOUT" in text and "out of memory" in text


def test_the_sliced_fast_path_agrees_with_json_parsing(captured: Captured, tmp_path: Path) -> None:
    # The same lines with their keys reordered cannot take the fast path: both readings must agree.
    reordered = tmp_path / "reordered.log"
    with captured.shim.open() as lines, reordered.open("w") as out:
        for line in lines:
            try:
                out.write(json.dumps(json.loads(line), sort_keys=True) + "\n")
            except ValueError:
                out.write(line)
    fast, slow = summary("logs", str(captured.shim)), summary("logs", str(reordered))
    for key in ("requests", "failures", "workers", "timeouts", "worker_events", "init"):
        assert fast[key] == slow[key], key
    assert fast["latency_ms"]["count"] == slow["latency_ms"]["count"]
    assert fast["latency_ms"]["p50"] == pytest.approx(slow["latency_ms"]["p50"], rel=0.05)


def test_memory_stays_bounded_whatever_the_log_holds() -> None:
    summary_ = _logs.Summary()
    for i in range(20_000):
        summary_.feed(
            json.dumps(
                {
                    "timestamp": "2026-11-25T17:27:36.733505Z",
                    "level": "error",
                    "event": "shim.run.failed",
                    "logger": "shim",
                    "error": {"type": f"Error{i}", "message": "x", "where": {"file": f"/app/s{i}.py", "line": i}},
                    "pid": i,
                    "host": f"host-{i}",
                    "request_id": f"r{i}",
                }
            )
        )
        summary_.feed(json.dumps({"timestamp": "2026-11-25T17:27:36Z", "event": "shim.init.ok", "pid": i}))
        summary_.feed(f"2026-11-25 17:27:43,844 I [1] azmlinfsrv - GET /path-{i} 404 0.5ms 9")
    summary_.feed("[2026-11-25 17:30:00 +0000] [1] [ERROR] Exception in worker process")
    summary_.feed("Traceback (most recent call last):")
    for _ in range(50_000):  # an endless traceback
        summary_.feed('  File "/app/score.py", line 1, in run')
    result = summary_.result()
    assert len(result["failures"]) == _logs.MAX_GROUPS and result["failure_groups_not_shown"] > 0
    assert len(result["workers"]) <= _logs.MAX_WORKERS
    assert len(result["requests"]["by_route"]) <= _logs.MAX_ROUTES + 1
    assert all(len(group["request_ids"]) <= _logs.MAX_SAMPLES for group in result["failures"])
    assert all(len(record.lines) <= _logs.MAX_RECORD_LINES for record in summary_.reader.text.open.values())


# -- errors: one line, no traceback ------------------------------------------------------------------------


def test_clear_errors_for_missing_files_folders_bad_flags(tmp_path: Path) -> None:
    missing = run("logs", str(tmp_path / "nope.log"))
    assert missing.exit_code == 1
    assert missing.stderr.strip() == f"Error: {tmp_path / 'nope.log'}: no such file"

    folder = run("logs", str(tmp_path))
    assert folder.exit_code == 1 and "is a folder" in folder.stderr

    bad = run("logs", "--bogus")
    assert bad.exit_code == 2 and "No such option '--bogus'" in bad.stderr

    for result in (missing, folder, bad):
        assert "Traceback" not in result.output


def test_binary_and_undecodable_input_does_not_crash(captured: Captured, tmp_path: Path) -> None:
    noise = tmp_path / "binary.log"
    noise.write_bytes(bytes(range(256)) * 64 + b"\xff\xfe\n" + captured.shim.read_bytes() + b"\x00\xc3\x28\n")
    data = summary("logs", str(noise))
    assert failure(data, "ValueError")["sample_request_id"] == "bad-1"  # the log inside is still read

    result = run("logs", stdin=b"\x89PNG\r\n\x1a\n\x00\x00\xff\xd8")
    assert result.exit_code == 0 and "Traceback" not in result.output


def test_help_has_an_example() -> None:
    for command in ("logs", "vscode"):
        result = run(command, "--help")
        assert result.exit_code == 0
        assert "Example" in result.stdout


# -- issue 12: trust only the shim's own lines; print nothing that drives the terminal ----------------------


def test_finding_6_user_lines_named_like_shim_events_are_user_lines(scripts: Path, log_dir: Path) -> None:
    with running_server(scripts / "impostor.py", log_dir) as server, server.client() as client:
        for index in range(3):
            response = client.post("/score", content=b"{}", headers={"x-request-id": f"impostor-{index}"})
            assert response.status_code == 200
        server.wait_for_event("shim.run.ok", request_id="impostor-2", logger="shim")
    # The stream itself never lets a stdlib record claim the shim's logger.
    assert not [e for e in server.events() if e["logger"] == "shim" and e.get("error", {}).get("message") == "forged"]
    data = summary("logs", str(server.log_path))
    assert data["failures"] == []
    assert [worker["init"] for worker in data["workers"]] == ["ok"]
    assert data["requests"]["total"] == 3 and data["requests"]["by_status"] == {"200": 3}


def test_finding_5_logs_output_is_safe_for_terminals(tmp_path: Path) -> None:
    evil = "\x1b]0;pwned\x07\x1b[2J\x1b[1;31mFAKE\r\nforged line\u202e"
    log = tmp_path / "evil.log"
    lines = [
        {
            "timestamp": "2026-01-01T00:00:00.000000Z",
            "level": "info",
            "event": "shim.init.start",
            "logger": "shim",
            "pid": 7,
            "host": "h",
        },
        {
            "timestamp": "2026-01-01T00:00:01.000000Z",
            "level": "error",
            "event": "shim.run.failed",
            "logger": "shim",
            "pid": 7,
            "host": "h",
            "request_id": f"id-{evil}",
            "duration_ms": 1.0,
            "error": {
                "type": "ValueError",
                "message": evil,
                "where": {"file": f"/app/{evil}.py", "line": 3, "function": "run"},
                "traceback": f"Traceback\nValueError: {evil}",
            },
        },
    ]
    raw = f"raw text of request id-evil: {evil}"  # a text line, as a script's print may leave in a pasted log
    log.write_text("\n".join([*(json.dumps(line) for line in lines), raw]) + "\n", encoding="utf-8")
    for args in (["logs", str(log)], ["logs", str(log), "--request-id", "id-evil"]):
        result = run(*args)
        assert result.exit_code == 0, result.output
        assert "\x1b" not in result.output and "\x07" not in result.output and "\u202e" not in result.output
        assert "\r" not in result.output
        assert "\\x1b" in result.output  # shown, escaped


def test_a_requests_story_is_text_with_one_traceback(captured: Captured) -> None:
    """By default the story reads as text, on a terminal or in a pager alike; --raw keeps the lines (above)."""
    done = subprocess.run(
        [sys.executable, "-m", "shim", "logs", str(captured.shim), "--request-id", "bad-1"],
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    text = done.stdout.decode()
    assert '{"timestamp"' not in text  # no raw JSON object
    assert text.count("Traceback (most recent call last)") == 1  # the shim's, once; the server's copy is named
    failed = next(line for line in text.splitlines() if "shim.run.failed" in line)
    assert failed.split()[1] == "error"
    assert "ValueError: asked to fail: bad" in text
    assert '"POST /score HTTP/1.1" 500' in text  # the access line of the failed request stays
    # A log of a shim that did not fold the server's copy yet: that line is named, not shown a second time.
    old = json.dumps(
        {
            "timestamp": "2026-11-25T17:27:43.857Z",
            "level": "error",
            "logger": "azmlinfsrv",
            "event": "Encountered Exception: Traceback (most recent call last):\n  File ...\nValueError: x",
        }
    )
    assert story_text.readable(old) == [
        "17:27:43.857 error   [azmlinfsrv] Encountered Exception: the server's copy of the traceback "
        "(shim.run.failed has it)"
    ]
