"""`score-shim logs` on the older Azure ML images' logs (issue 15): the Troubleshooting guide's world.

The samples are written here, in the formats those images wrote (azureml-defaults' JSON-line server under
runit or supervisord on ACI and AKS web services, 2018-2022, and its ``| root | INFO |`` text successor): one
JSON object per line with ``message``, ``host``, ``path``, ``tags``, ``level``, ``logger`` and ``stack_info``,
the server's own messages nested as ``{"requestId": ..., "message": ..., "apiName": ...}``, and runit's lines
(``gunicorn/finish 3 0``, ``Exit code 3 is not normal. Killing image.``). Each goes through the command as a
user runs it (``python -m shim logs FILE``, with and without ``--json``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests._logs import logs_json, logs_text, write

HOST = "wk-caas-5f0c1e9d2b7a4c3e8f6a9b0d1c2e3f40-77c1a2b3c4d5e6f70819aa"
GUNICORN = "/opt/miniconda/lib/python3.6/site-packages/gunicorn/glogging.py"
TAGS = "%(module)s, %(asctime)s, %(levelname)s, %(message)s"
NO_REQUEST = "00000000-0000-0000-0000-000000000000"
NOT_NONE = "Failures: none"


def gunicorn_line(timestamp: str, message: str, template: str) -> str:
    """gunicorn's own line in the old images: formatted in ``message``, its template in ``msg``."""
    return json.dumps(
        {
            "timestamp": timestamp,
            "message": message,
            "host": HOST,
            "path": GUNICORN,
            "tags": TAGS,
            "level": "INFO",
            "logger": "gunicorn.error",
            "msg": template,
            "stack_info": None,
        }
    )


def server_line(timestamp: str, level: str, message: str, request_id: str = NO_REQUEST, api: str = "") -> str:
    """The old server's own line (``aml_logger.py``): its message nested as a second JSON object."""
    nested = json.dumps({"requestId": request_id, "message": message, "apiName": api})
    return json.dumps(
        {
            "timestamp": timestamp,
            "message": nested,
            "host": HOST,
            "path": "/var/azureml-app/aml_logger.py",
            "tags": TAGS,
            "level": level,
            "logger": "root",
            "stack_info": None,
        }
    )


def group_of(data: dict[str, Any], stage: str) -> dict[str, Any]:
    groups = [group for group in data["failures"] if group["stage"] == stage]
    assert len(groups) == 1, data["failures"]
    return groups[0]


# -- 1. the old JSON-line server: init() failed, its chained exception, the container's exit ---------------

INIT_TRACEBACK = """\
Traceback (most recent call last):
  File "/var/azureml-app/score.py", line 14, in init
    model = joblib.load(os.path.join(os.getenv("AZUREML_MODEL_DIR"), "forest.pkl"))
  File "/opt/miniconda/lib/python3.6/site-packages/joblib/numpy_pickle.py", line 587, in load
    obj = _unpickle(fobj, filename, mmap_mode)
ModuleNotFoundError: No module named 'sklearn.ensemble._forest'

The above exception was the direct cause of the following exception:

Traceback (most recent call last):
  File "/var/azureml-app/aml_blueprint.py", line 109, in register
    main.init()
  File "/var/azureml-app/main.py", line 79, in init
    driver_module.init()
  File "/var/azureml-app/score.py", line 17, in init
    raise RuntimeError("the forest model could not be loaded") from error
RuntimeError: the forest model could not be loaded
"""

OLD_JSON_INIT_FAILED = "\n".join(
    [
        "2019-02-01T07:06:48,399160286+00:00 - iot-server/run ",
        "2019-02-01T07:06:48,400936482+00:00 - rsyslog/run ",
        "2019-02-01T07:06:48,398921487+00:00 - nginx/run ",
        "2019-02-01T07:06:48,401976779+00:00 - gunicorn/run ",
        "EdgeHubConnectionString and IOTEDGE_IOTHUBHOSTNAME are not set. Exiting...",
        "2019-02-01T07:06:48,473102901+00:00 - iot-server/finish 1 0",
        "2019-02-01T07:06:48,474107899+00:00 - Exit code 1 is normal. Not restarting iot-server.",
        gunicorn_line("2019-02-01T07:06:48.693640Z", "Starting gunicorn 19.6.0", "Starting gunicorn %s"),
        gunicorn_line("2019-02-01T07:06:48.696014Z", "Booting worker with pid: 40", "Booting worker with pid: %s"),
        "Initializing logger",
        server_line("2019-02-01T07:06:53.374061Z", "INFO", "Starting up app insights client"),
        server_line("2019-02-01T07:06:53.374397Z", "INFO", "Starting up app insight hooks"),
        server_line("2019-02-01T07:06:53.374497Z", "INFO", "Invoking user's init function"),
        server_line("2019-02-01T07:06:55.751276Z", "ERROR", "User's init function failed"),
        server_line("2019-02-01T07:06:55.752141Z", "ERROR", "Encountered Exception " + INIT_TRACEBACK),
        gunicorn_line("2019-02-01T07:06:55.752386Z", "Worker exiting (pid: 40)", "Worker exiting (pid: %s)"),
        gunicorn_line("2019-02-01T07:06:55.983932Z", "Shutting down: Master", "Shutting down: %s"),
        gunicorn_line("2019-02-01T07:06:55.984298Z", "Reason: Worker failed to boot.", "Reason: %s"),
        "2019-02-01T07:06:56,008522386+00:00 - gunicorn/finish 3 0",
        "2019-02-01T07:06:56,009611284+00:00 - Exit code 3 is not normal. Killing image.",
    ]
)


def test_the_old_json_servers_init_failure_its_root_cause_the_users_frame_and_the_exit(tmp_path: Path) -> None:
    path = write(tmp_path, "container.log", OLD_JSON_INIT_FAILED + "\n")
    data = logs_json(path, in_folder=True)

    [worker] = data["workers"]
    assert worker["replica"] == HOST and worker["pid"] == 40  # the server's pid-less lines are worker 40's
    assert worker["init"] == "failed" and worker["ended"] == "exited with code 3"
    assert worker["error"]["where"]["file"] == "/var/azureml-app/score.py"

    group = group_of(data, "init")  # one failure: the exit is not counted again beside its traceback
    assert len(data["failures"]) == 1 and group["count"] == 1
    told = {group["type"], (group.get("cause") or {}).get("type")}
    assert "ModuleNotFoundError" in told  # the chain's root cause is named
    assert group["place"].startswith("/var/azureml-app/score.py:")  # the user's frame, not aml_blueprint's
    assert "aml_blueprint" not in group["place"] and "main.py" not in group["place"]

    [exit_code] = data["explained"]
    assert exit_code["kind"] == "exit-code-3" and exit_code["count"] == 1  # finish line and verdict: one exit
    assert exit_code["details"] == {"exit code": "3", "service": "gunicorn"}
    assert "init()" in exit_code["title"] and exit_code["fix"]
    assert {item["kind"] for item in data["harmless"]} >= {"iot-server-exit"}  # the IoT Edge server's exit
    assert data["worker_events"]["server_starts"] == 1

    text = logs_text(path, in_folder=True)
    assert "FAILED" in text and "in init()" in text and "ModuleNotFoundError" in text
    assert "exited with code 3" in text and NOT_NONE not in text


def test_the_old_servers_request_lines_count_and_carry_their_request_id(tmp_path: Path) -> None:
    request = "5d0e6c1a-93b8-4c7e-a1f2-6e0b9d8c7a51"
    run_traceback = (
        "Encountered Exception: Traceback (most recent call last):\n"
        '  File "/var/azureml-server/app.py", line 245, in run_scoring\n'
        "    response = invoke_user_with_timer(service_input, request_headers)\n"
        '  File "/var/azureml-app/score.py", line 31, in run\n'
        '    data = json.loads(raw_data)["data"]\n'
        "KeyError: 'data'\n"
    )
    lines = [
        gunicorn_line("2019-02-01T07:10:00.100000Z", "Booting worker with pid: 41", "Booting worker with pid: %s"),
        server_line("2019-02-01T07:10:01.000000Z", "INFO", "Invoking user's init function"),
        server_line("2019-02-01T07:10:02.000000Z", "INFO", "Users's init has completed successfully"),
        server_line(
            "2019-02-01T07:10:02.100000Z",
            "INFO",
            "Scoring timeout setting is not found. Use default timeout: 3600000 ms",
        ),
        server_line("2019-02-01T07:11:00.000000Z", "INFO", "200", request, "/score"),
        server_line("2019-02-01T07:11:05.000000Z", "ERROR", run_traceback, request, "/score"),
        server_line("2019-02-01T07:11:05.001000Z", "INFO", "500", request, "/score"),
    ]
    data = logs_json(write(tmp_path, "service.log", "\n".join(lines) + "\n"), in_folder=True)
    assert data["workers"] == [{"replica": HOST, "pid": 41, "init": "ok"}]
    assert data["requests"]["by_status"] == {"200": 1, "500": 1}
    group = group_of(data, "run")
    assert group["type"] == "KeyError" and group["place"] == "/var/azureml-app/score.py:31"
    assert group["sample_request_id"] == request
    assert data["explained"] == []


def test_the_old_servers_scoring_timeout_and_a_requests_story(tmp_path: Path) -> None:
    request = "0c9b8a7d-6e5f-4a3b-9c2d-1e0f9a8b7c6d"
    timeout = (
        "Encountered Exception: Traceback (most recent call last):\n"
        '  File "/var/azureml-server/app.py", line 198, in run_scoring\n'
        "    response = invoke_user_with_timer(service_input, request_headers)\n"
        '  File "/var/azureml-app/score.py", line 40, in run\n'
        "    time.sleep(120)\n"
        '  File "/var/azureml-server/app.py", line 221, in alarm_handler\n'
        "    raise TimeoutException(error_message)\n"
        "timeout_exception.TimeoutException: Scoring timeout after 60000 ms\n"
    )
    lines = [
        server_line("2019-02-01T07:12:00.000000Z", "INFO", "Scoring Timer is set to 60.0 seconds", request, "/score"),
        server_line("2019-02-01T07:13:00.000000Z", "ERROR", timeout, request, "/score"),
        server_line("2019-02-01T07:13:00.001000Z", "INFO", "500", request, "/score"),
    ]
    path = write(tmp_path, "timeout.log", "\n".join(lines) + "\n")
    data = logs_json(path, in_folder=True)
    assert data["timeouts"]["count"] == 1 and data["timeouts"]["samples"][0]["request_id"] == request
    assert data["requests"]["by_status"] == {"500": 1}

    # The id is nested in the old server's message: --raw shows the lines that carry it as they are.
    story = logs_text(path, "--request-id", request, "--raw", in_folder=True)
    assert story.count(request) >= 3 and "Scoring timeout after 60000 ms" in story


# -- 2. the crash lines alone: an exit-code-3 explanation and a failed init() ------------------------------

RUNIT_CRASH = """\
2021-03-02T10:11:12,100000000+00:00 - gunicorn/run
2021-03-02T10:11:12,100000001+00:00 - nginx/run
2021-03-02T10:11:12,100000002+00:00 - rsyslog/run
Starting gunicorn 19.9.0
Booting worker with pid: 41
Initializing logger
2021-03-02 10:11:15,389 | root | INFO | Starting up app insights client
2021-03-02 10:11:15,390 | root | INFO | Invoking user's init function
2021-03-02T10:11:16,008522386+00:00 - gunicorn/finish 3 0
2021-03-02T10:11:16,009611284+00:00 - Exit code 3 is not normal. Killing image.
"""

SUPERVISORD_CRASH = """\
2018-11-30 09:33:03,756 CRIT Supervisor running as root (no user in config file)
2018-11-30 09:33:05,049 INFO spawned: 'gunicorn' with pid 11
EdgeHubConnectionString and IOTEDGE_IOTHUBHOSTNAME are not set. Exiting...
2018-11-30 09:33:06,449 INFO exited: iot (exit status 1; expected)
2018-11-30 09:33:12,001 INFO exited: gunicorn (exit status 3; not expected)
2018-11-30 09:33:12,002 INFO gave up: gunicorn entered FATAL state, too many start retries too quickly
"""


def test_runits_crash_lines_explain_exit_code_3_and_fail_the_init_under_way(tmp_path: Path) -> None:
    path = write(tmp_path, "crash.log", RUNIT_CRASH)
    data = logs_json(path, in_folder=True)
    [finding] = data["explained"]
    assert finding["kind"] == "exit-code-3" and finding["count"] == 1
    assert finding["evidence"] == ["gunicorn/finish 3 0"]
    assert finding["guide"].startswith("https://learn.microsoft.com/")
    [worker] = data["workers"]  # gunicorn's worker 41, whose init() the server started
    assert worker["pid"] == 41 and worker["init"] == "failed" and worker["ended"] == "exited with code 3"
    group = group_of(data, "init")
    assert group["type"] == "exit code 3" and "traceback is not in these lines" in group["message"]

    text = logs_text(path, in_folder=True)
    assert NOT_NONE not in text and "FAILED" in text and "exited with code 3" in text
    assert "init() failed, or score.py failed to import" in text


def test_the_verdict_line_alone_and_supervisords_exit_tell_the_same(tmp_path: Path) -> None:
    alone = logs_json(write(tmp_path, "alone.log", RUNIT_CRASH.splitlines()[-1] + "\n"), in_folder=True)
    assert [item["kind"] for item in alone["explained"]] == ["exit-code-3"]
    assert [worker["init"] for worker in alone["workers"]] == ["failed"]
    assert group_of(alone, "init")["type"] == "exit code 3"

    supervised = logs_json(write(tmp_path, "supervisord.log", SUPERVISORD_CRASH), in_folder=True)
    [finding] = supervised["explained"]
    assert finding["kind"] == "exit-code-3" and finding["details"]["service"] == "gunicorn"
    assert group_of(supervised, "init")["type"] == "exit code 3"
    assert [item["kind"] for item in supervised["harmless"]] == ["iot-server-exit"]
    assert NOT_NONE not in logs_text(tmp_path / "supervisord.log", in_folder=True)


def test_a_healthy_old_container_has_no_failure_and_no_exit(tmp_path: Path) -> None:
    healthy = RUNIT_CRASH.replace(
        "2021-03-02T10:11:16,008522386+00:00 - gunicorn/finish 3 0\n"
        "2021-03-02T10:11:16,009611284+00:00 - Exit code 3 is not normal. Killing image.\n",
        "2021-03-02 10:11:17,153 | root | INFO | Users's init has completed successfully\n"
        "2021-03-02 10:11:17,157 | root | INFO | Scoring timeout is found from os.environ: 60000 ms\n"
        "2021-03-02 10:11:20,074 | root | INFO | 200\n",
    )
    data = logs_json(write(tmp_path, "healthy.log", healthy), in_folder=True)
    assert data["failures"] == [] and data["explained"] == []
    assert data["workers"] == [{"replica": "healthy.log", "pid": 41, "init": "ok"}]


# -- 3. an init() that started and never finished ------------------------------------------------------------

HUNG = """\
2026-11-25 17:27:42,101 I [63] gunicorn.error - Booting worker with pid: 63
2026-11-25 17:27:43,913 I [63] azmlinfsrv.user_script - Found user script at /var/azureml-app/onlinescoring/score.py
2026-11-25 17:27:43,913 I [63] azmlinfsrv.user_script - Invoking user's init function
2026-11-25 17:27:44,001 I [63] azmlinfsrv.print - loading 38 GB of weights from /var/azureml-app/azureml-models/llm/1
"""

NEVER_FINISHED = "init() started and never finished in these lines"


def test_an_init_that_started_and_never_finished_is_flagged(tmp_path: Path) -> None:
    path = write(tmp_path, "hung.log", HUNG)
    data = logs_json(path, in_folder=True)
    [worker] = data["workers"]
    assert worker["init"] == "started" and worker["init_finished"] is False
    assert worker["note"].startswith(NEVER_FINISHED) and "SIGKILL/OOM" in worker["note"]
    text = logs_text(path, in_folder=True)
    assert NEVER_FINISHED in text and "probe failure" in text

    # The shim's own start event, with no end: the same.
    shim_start = json.dumps(
        {
            "timestamp": "2026-11-25T17:27:43.913000Z",
            "level": "info",
            "event": "shim.init.start",
            "logger": "shim",
            "pid": 63,
            "host": "blue-7d9c",
        }
    )
    [worker] = logs_json(write(tmp_path / "shim", "hung.log", shim_start + "\n"), in_folder=True)["workers"]
    assert worker["init"] == "started" and worker["note"].startswith(NEVER_FINISHED)

    # Ended by gunicorn before it finished: said so, with how it ended.
    killed = HUNG + "[2026-11-25 17:32:43 +0000] [1] [CRITICAL] WORKER TIMEOUT (pid:63)\n"
    [worker] = logs_json(write(tmp_path / "killed", "hung.log", killed), in_folder=True)["workers"]
    assert worker["note"] == "init() did not finish: the worker ended first (WORKER TIMEOUT)"

    # Finished: no note.
    done = HUNG + "2026-11-25 17:29:01,950 I [63] azmlinfsrv.user_script - Users's init has completed successfully\n"
    [worker] = logs_json(write(tmp_path / "done", "hung.log", done), in_folder=True)["workers"]
    assert worker["init"] == "ok" and "note" not in worker and "init_finished" not in worker


# -- 4. a paste whose line breaks were lost reads as the original --------------------------------------------

SERVER_TEXT = """\
2026-11-25 17:27:42,101 I [63] gunicorn.error - Booting worker with pid: 63
2026-11-25 17:27:43,913 I [63] azmlinfsrv.user_script - Invoking user's init function
2026-11-25 17:27:43,950 I [63] azmlinfsrv.user_script - Users's init has completed successfully
2026-11-25 17:27:44,310 I [63] azmlinfsrv - POST /score 200 3.102ms 18
2026-11-25 17:27:45,001 E [63] azmlinfsrv - Encountered Exception: Traceback (most recent call last):
  File "/var/azureml-app/onlinescoring/score.py", line 31, in run
    prediction = model.predict(data)
ValueError: X has 3 features, but LinearRegression is expecting 10 features as input.
2026-11-25 17:27:45,002 I [63] azmlinfsrv - POST /score 500 4.102ms 92
[2026-11-25 17:35:00 +0000] [1] [CRITICAL] WORKER TIMEOUT (pid:63)
"""

OLD_TEXT = """\
2021-09-28 07:06:41,389 | root | INFO | Starting up app insights client
2021-09-28 07:06:41,390 | root | INFO | Invoking user's init function
2021-09-28 07:06:43,102 | root | INFO | Users's init has completed successfully
2021-09-28 07:06:50,523 | root | INFO | 200
2021-09-28 07:06:51,001 | root | ERROR | Encountered Exception: Traceback (most recent call last):
  File "/var/azureml-server/app.py", line 245, in run_scoring
    response = invoke_user_with_timer(service_input, request_headers)
  File "/var/azureml-app/score.py", line 31, in run
    result = model.predict(data)
KeyError: 'data'
2021-09-28 07:06:51,002 | root | INFO | 500
2021-09-28T07:06:52,008522386+00:00 - gunicorn/finish 137 0
2021-09-28T07:06:52,009611284+00:00 - Exit code 137 is not normal. Killing image.
"""

COMPARED = ("workers", "failures", "requests", "explained", "harmless", "worker_events", "init")


def test_a_joined_paste_reads_the_same_as_the_original(tmp_path: Path) -> None:
    for name, original in (("server", SERVER_TEXT), ("old-json", OLD_JSON_INIT_FAILED + "\n"), ("old", OLD_TEXT)):
        joined = " ".join(original.splitlines()) + "\n"  # what a chat box makes of it
        assert joined.count("\n") == 1
        whole = logs_json(write(tmp_path / name / "lines", "pasted.log", original), in_folder=True)
        flat = logs_json(write(tmp_path / name / "joined", "pasted.log", joined), in_folder=True)
        assert whole["failures"] or whole["explained"], name  # the sample tells something
        for key in COMPARED:
            assert flat[key] == whole[key], (name, key)
        assert (flat["first_timestamp"], flat["last_timestamp"]) == (whole["first_timestamp"], whole["last_timestamp"])
        assert NOT_NONE not in logs_text(tmp_path / name / "joined" / "pasted.log", in_folder=True)


def test_joined_json_objects_and_a_line_that_only_mentions_a_time(tmp_path: Path) -> None:
    objects = [
        gunicorn_line("2019-02-01T07:10:00.100000Z", "Booting worker with pid: 41", "Booting worker with pid: %s"),
        server_line("2019-02-01T07:10:01.000000Z", "INFO", "Invoking user's init function"),
        server_line("2019-02-01T07:10:02.000000Z", "INFO", "Users's init has completed successfully"),
    ]
    # not even a space between them
    data = logs_json(write(tmp_path, "objects.log", "".join(objects) + "\n"), in_folder=True)
    assert data["json_lines"] == 3 and data["workers"] == [{"replica": HOST, "pid": 41, "init": "ok"}]

    # A record that mentions a time in its message is one record.
    mention = "2026-11-25 17:27:44,001 I [63] azmlinfsrv.print - cache built at 2026-11-25 17:20:01,000 from disk\n"
    data = logs_json(write(tmp_path, "mention.log", mention), in_folder=True)
    assert data["records"] == 1
