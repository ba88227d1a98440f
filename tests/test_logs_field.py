"""`score-shim logs` on what users paste from the field (issue 15): server noise, chained tracebacks, fragments.

The samples are written here, in the formats the real server (azureml-inference-server-http 1.5.1) writes,
as captured from it: bare (text lines) and with the shim (JSON lines). Each goes through the command as a user
runs it (``python -m shim logs FILE``, with and without ``--json``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests._logs import logs_json, logs_text, write

SERVER = "/azureml-envs/azureml_5b1/lib/python3.10/site-packages/azureml_inference_server_http/server"
SCORE = "/var/azureml-app/onlinescoring/score.py"
NOT_RECOGNISED = "No line from the inference server or the shim was recognised"


# -- 1. the bare server's start-up noise is never a failure ------------------------------------------------

NOISE_TEXT = f"""\
2026-12-03 09:14:02,101 I [61] gunicorn.error - Starting gunicorn 23.0.0
2026-12-03 09:14:02,104 I [63] gunicorn.error - Booting worker with pid: 63
2026-12-03 09:14:03,220 W [63] azmlinfsrv - Found extra keys in the config file that are not supported by the server.
Extra keys = ['AZUREML_ENTRY_SCRIPT', 'AZUREML_MODEL_DIR']
Initializing logger
2026-12-03 09:14:03,911 I [63] azmlinfsrv - Starting up app insights client
2026-12-03 09:14:03,912 E [63] azmlinfsrv.trace - Error while fetching model IDs
Traceback (most recent call last):
  File "{SERVER}/appinsights_client.py", line 230, in _get_model_ids
    versions = [int(version) for version in os.listdir(os.path.join(config.azureml_model_dir, model))]
  File "{SERVER}/appinsights_client.py", line 230, in <listcomp>
    versions = [int(version) for version in os.listdir(os.path.join(config.azureml_model_dir, model))]
ValueError: invalid literal for int() with base 10: 'sklearn_model'
2026-12-03 09:14:03,913 I [63] azmlinfsrv.user_script - Found user script at {SCORE}
2026-12-03 09:14:03,913 I [63] azmlinfsrv.user_script - Invoking user's init function
2026-12-03 09:14:03,950 I [63] azmlinfsrv.user_script - Users's init has completed successfully
2026-12-03 09:14:04,310 I [63] azmlinfsrv - POST /score 200 3.102ms 18
"""

# The same start-up with the shim: the server's lines arrive as JSON events (the print stays a bare line).
NOISE_JSON = (
    "\n".join(
        [
            json.dumps(
                {
                    "timestamp": "2026-12-03T09:14:03.220000Z",
                    "level": "warning",
                    "event": "Found extra keys in the config file that are not supported by the server.\n"
                    "Extra keys = ['AZUREML_ENTRY_SCRIPT', 'AZUREML_MODEL_DIR']",
                    "logger": "azmlinfsrv",
                    "pid": 63,
                    "host": "blue-7d9c",
                }
            ),
            "Initializing logger",
            json.dumps(
                {
                    "timestamp": "2026-12-03T09:14:03.912000Z",
                    "level": "error",
                    "event": "Error while fetching model IDs",
                    "logger": "azmlinfsrv.trace",
                    "error": {
                        "type": "ValueError",
                        "message": "invalid literal for int() with base 10: 'sklearn_model'",
                        "where": {"file": f"{SERVER}/appinsights_client.py", "line": 230, "function": "<listcomp>"},
                    },
                    "pid": 63,
                    "host": "blue-7d9c",
                }
            ),
            json.dumps(
                {
                    "timestamp": "2026-12-03T09:14:03.950000Z",
                    "level": "info",
                    "event": "shim.init.ok",
                    "logger": "shim",
                    "duration_ms": 36.5,
                    "pid": 63,
                    "host": "blue-7d9c",
                }
            ),
        ]
    )
    + "\n"
)


@pytest.mark.parametrize("sample", [NOISE_TEXT, NOISE_JSON], ids=["bare-text", "shim-json"])
def test_server_noise_is_harmless_and_never_a_failure(tmp_path: Path, sample: str) -> None:
    path = write(tmp_path, "noise.log", sample)
    data = logs_json(path)
    assert data["failures"] == []
    assert [worker["init"] for worker in data["workers"]] == ["ok"]
    kinds = {item["kind"]: item for item in data["harmless"]}
    assert set(kinds) == {"model-ids", "extra-config-keys", "logger-print"}
    assert kinds["extra-config-keys"]["detail"] == "Extra keys = ['AZUREML_ENTRY_SCRIPT', 'AZUREML_MODEL_DIR']"
    assert all(item["count"] == 1 for item in kinds.values())

    text = logs_text(path)
    assert "Failures: none." in text and "ValueError" not in text.split("Harmless")[0]
    harmless = text.split("Harmless", 1)[1]
    for said in ("Error while fetching model IDs", "Found extra keys in the config file", "Initializing logger"):
        assert said in harmless
    assert harmless.count("harmless:") == 3
    assert NOT_RECOGNISED not in text


def test_a_user_traceback_after_the_noise_is_still_a_failure(tmp_path: Path) -> None:
    # The model-IDs message must not swallow what follows it: a bare traceback pasted right after it.
    sample = NOISE_TEXT.replace(
        "2026-12-03 09:14:03,913 I [63]",
        f'Traceback (most recent call last):\n  File "{SCORE}", line 9, in run\n    return model.predict(data)\n'
        "NameError: name 'model' is not defined\n2026-12-03 09:14:03,913 I [63]",
        1,
    )
    data = logs_json(write(tmp_path, "noise-and-failure.log", sample))
    assert [(f["type"], f["place"], f["stage"]) for f in data["failures"]] == [("NameError", f"{SCORE}:9", "run")]


# -- 2. chained tracebacks: the user's exception, the user's frame, the right phase ------------------------

IMPORT_FAILS = f"""\
2026-12-03 09:20:11,402 I [71] gunicorn.error - Booting worker with pid: 71
2026-12-03 09:20:12,583 E [71] azmlinfsrv - Traceback (most recent call last):
  File "{SERVER}/user_script.py", line 77, in load_script
    main_module_spec.loader.exec_module(user_module)
  File "<frozen importlib._bootstrap_external>", line 883, in exec_module
  File "<frozen importlib._bootstrap>", line 241, in _call_with_frames_removed
  File "{SCORE}", line 4, in <module>
    import lightgbm
ModuleNotFoundError: No module named 'lightgbm'

The above exception was the direct cause of the following exception:

Traceback (most recent call last):
  File "{SERVER}/aml_blueprint.py", line 91, in setup
    self.user_script.load_script(config.app_root)
  File "{SERVER}/user_script.py", line 79, in load_script
    raise UserScriptImportException(ex) from ex
azureml_inference_server_http.server.user_script.UserScriptImportException: Failed to import user script because \
it raised an unhandled exception

2026-12-03 09:20:12,584 I [71] gunicorn.error - Worker exiting (pid: 71)
2026-12-03 09:20:12,843 E [70] gunicorn.error - Worker (pid:71) exited with code 3.
2026-12-03 09:20:12,844 E [70] gunicorn.error - Reason: Worker failed to boot.
"""

INIT_RAISES_FROM = f"""\
2026-12-03 09:22:40,120 I [81] gunicorn.error - Booting worker with pid: 81
2026-12-03 09:22:41,925 I [81] azmlinfsrv.user_script - Invoking user's init function
2026-12-03 09:22:41,925 E [81] azmlinfsrv - User's init function failed
2026-12-03 09:22:41,926 E [81] azmlinfsrv - Encountered Exception Traceback (most recent call last):
  File "{SCORE}", line 12, in init
    load_config()
  File "{SCORE}", line 7, in load_config
    return CONFIG["model_name"]
KeyError: 'model_name'

The above exception was the direct cause of the following exception:

Traceback (most recent call last):
  File "{SERVER}/user_script.py", line 119, in invoke_init
    self._user_init()
  File "{SCORE}", line 14, in init
    raise RuntimeError("model_name missing from the config") from error
RuntimeError: model_name missing from the config

The above exception was the direct cause of the following exception:

Traceback (most recent call last):
  File "{SERVER}/aml_blueprint.py", line 109, in setup
    self.user_script.invoke_init()
  File "{SERVER}/user_script.py", line 121, in invoke_init
    raise UserScriptException(ex) from ex
azureml_inference_server_http.server.user_script.UserScriptException: Caught an unhandled exception from the user script

2026-12-03 09:22:42,130 E [80] gunicorn.error - Worker (pid:81) exited with code 3.
"""

# A run() failing inside pandas' compiled code: the place is the user's line, never a .pyx/.pxi file.
RUN_FAILS_IN_PYX = f"""\
2026-12-03 09:30:05,001 E [63] azmlinfsrv - Encountered Exception: Traceback (most recent call last):
  File "/azureml-envs/azureml_5b1/lib/python3.10/site-packages/pandas/core/indexes/base.py", line 3653, in get_loc
    return self._engine.get_loc(casted_key)
  File "pandas/_libs/index.pyx", line 147, in pandas._libs.index.IndexEngine.get_loc
  File "pandas/_libs/hashtable_class_helper.pxi", line 7080, in pandas._libs.hashtable.PyObjectHashTable.get_item
KeyError: 'price'

The above exception was the direct cause of the following exception:

Traceback (most recent call last):
  File "{SERVER}/user_script.py", line 132, in invoke_run
    run_output = self._wrapped_user_run(**run_parameters, request_headers=dict(request.headers))
  File "{SCORE}", line 30, in run
    value = frame["price"]
  File "/azureml-envs/azureml_5b1/lib/python3.10/site-packages/pandas/core/indexes/base.py", line 3655, in get_loc
    raise KeyError(key) from err
KeyError: 'price'

The above exception was the direct cause of the following exception:

Traceback (most recent call last):
  File "{SERVER}/routes.py", line 222, in handle_score
    timed_result = main_blueprint.user_script.invoke_run(request, timeout_ms=config.scoring_timeout)
  File "{SERVER}/user_script.py", line 139, in invoke_run
    raise UserScriptException(ex) from ex
azureml_inference_server_http.server.user_script.UserScriptException: Caught an unhandled exception from the user script

2026-12-03 09:30:05,002 I [63] azmlinfsrv - POST /score 500 4.211ms 92
"""


def test_import_failure_is_named_by_its_root_cause_in_the_users_file_at_import(tmp_path: Path) -> None:
    path = write(tmp_path, "import.log", IMPORT_FAILS)
    data = logs_json(path)
    [group] = data["failures"]
    assert (group["type"], group["message"]) == ("ModuleNotFoundError", "No module named 'lightgbm'")
    assert (group["place"], group["stage"]) == (f"{SCORE}:4", "import")
    [worker] = data["workers"]
    assert (worker["init"], worker["phase"], worker["error"]["type"]) == ("failed", "import", "ModuleNotFoundError")

    text = logs_text(path)
    assert f"1 x ModuleNotFoundError on import of the entry script at {SCORE}:4" in text
    assert "No module named 'lightgbm'" in text
    for wrong in ("UserScriptImportException", "user_script.py", "site-packages", "in run()", "<frozen"):
        assert wrong not in text


def test_init_raising_from_another_exception_names_the_users_exception_and_its_cause(tmp_path: Path) -> None:
    path = write(tmp_path, "init.log", INIT_RAISES_FROM)
    [group] = logs_json(path)["failures"]
    assert (group["type"], group["message"]) == ("RuntimeError", "model_name missing from the config")
    assert (group["place"], group["stage"]) == (f"{SCORE}:14", "init")
    assert group["cause"] == {"type": "KeyError", "message": "'model_name'"}
    text = logs_text(path)
    assert f"RuntimeError in init() at {SCORE}:14" in text
    assert "caused by KeyError: 'model_name'" in text
    assert "UserScriptException" not in text


def test_run_failing_in_compiled_code_is_placed_at_the_users_line(tmp_path: Path) -> None:
    [group] = logs_json(write(tmp_path, "run.log", RUN_FAILS_IN_PYX))["failures"]
    assert (group["type"], group["message"]) == ("KeyError", "'price'")
    assert (group["place"], group["stage"]) == (f"{SCORE}:30", "run")


def test_a_traceback_whose_frames_name_no_phase_has_none(tmp_path: Path) -> None:
    helper = "/var/azureml-app/onlinescoring/helpers.py"
    sample = f'Traceback (most recent call last):\n  File "{helper}", line 3, in load\n    open(p)\nOSError: disk\n'
    path = write(tmp_path, "nophase.log", sample)
    [group] = logs_json(path)["failures"]
    assert (group["type"], group["place"], group["stage"]) == ("OSError", f"{helper}:3", None)
    text = logs_text(path)
    assert f"1 x OSError at {helper}:3" in text and "run()" not in text


# -- 3. fragments: the same failure however it was pasted --------------------------------------------------

WHOLE = IMPORT_FAILS.split(" azmlinfsrv - ", 1)[1].split("\n\n2026-", 1)[0] + "\n"
_LINES = WHOLE.splitlines()
FRAGMENTS = {
    "whole": WHOLE,
    "last-lines": "\n".join(_LINES[3:8]) + "\n",  # frames and the error line, no header
    "json-escaped": json.dumps(WHOLE) + "\n",  # one line, literal \n and \" as in a JSON string
    "space-joined": " ".join(line.strip() for line in _LINES if line.strip()) + "\n",
    "quoted": "".join(f"> {line}\n" if line else ">\n" for line in _LINES),
    "error-line": "ModuleNotFoundError: No module named 'lightgbm'\n",
}


@pytest.mark.parametrize("form", list(FRAGMENTS))
def test_every_pasted_form_gives_the_same_cause(tmp_path: Path, form: str) -> None:
    path = write(tmp_path, f"{form}.txt", FRAGMENTS[form])
    [group] = logs_json(path)["failures"]
    assert (group["type"], group["message"]) == ("ModuleNotFoundError", "No module named 'lightgbm'")
    if form != "error-line":  # a lone exception line tells no place and no phase
        assert (group["place"], group["stage"]) == (f"{SCORE}:4", "import")
    text = logs_text(path)
    assert "ModuleNotFoundError" in text and "No module named 'lightgbm'" in text
    assert NOT_RECOGNISED not in text  # a traceback was recognised: the summary does not contradict itself


def test_fragment_forms_really_are_the_forms_users_paste() -> None:
    assert "Traceback" not in FRAGMENTS["last-lines"] and FRAGMENTS["last-lines"].startswith("  File ")
    for form in ("json-escaped", "space-joined", "error-line"):
        assert FRAGMENTS[form].count("\n") == 1
    assert "\\n" in FRAGMENTS["json-escaped"] and '\\"' in FRAGMENTS["json-escaped"]
    assert all(line.startswith(">") for line in FRAGMENTS["quoted"].splitlines())


def test_text_that_is_no_log_still_says_so(tmp_path: Path) -> None:
    path = write(tmp_path, "notes.txt", "hello\nFile report.csv, line 3 written\nFutureWarning: soon\n")
    assert logs_json(path)["failures"] == []  # look-alikes of a frame or an exception line are not failures
    assert NOT_RECOGNISED in logs_text(path)
