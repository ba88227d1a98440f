"""`score-shim check` as a user runs it: a real process, real scripts and model folders, the server's own analyser.

Each check runs in its own ``python -m shim check`` process, as from a terminal: the check imports the
user's script, sets the environment and ``@rawhttp``'s process-wide flag, which must not leak between
tests. Errors found before anything is loaded are driven in process with click's runner.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from shim.cli import cli
from tests.conftest import SCRIPTS


def check(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("SCORE_SHIM_") and k not in ("AZUREML_MODEL_DIR", "AML_APP_ROOT", "AZUREML_ENTRY_SCRIPT")
    }
    env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).parent.parent), env.get("PYTHONPATH", "")])
    return subprocess.run(
        [sys.executable, "-m", "shim", "check", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )


def report(*args: str, cwd: Path) -> tuple[dict[str, Any], subprocess.CompletedProcess[str]]:
    done = check(*args, "--json", cwd=cwd)
    data: dict[str, Any] = json.loads(done.stdout)  # the whole of stdout is the report
    assert data["exit_code"] == done.returncode
    return data, done


def rawhttp_script(tmp_path: Path, run: str) -> Path:
    """A score.py whose ``@rawhttp`` run() is ``run`` (its ``def`` line and body), with AMLResponse imported."""
    script = tmp_path / "score.py"
    script.write_text(
        "import json\n"
        "from azureml.contrib.services.aml_request import rawhttp\n"
        "from azureml.contrib.services.aml_response import AMLResponse\n"
        "def init():\n    pass\n"
        "@rawhttp\n" + run,
        encoding="utf-8",
    )
    return script


def in_process(*args: str) -> Result:
    return CliRunner().invoke(cli, ["check", *args], catch_exceptions=False)


def test_a_working_script_exits_0_and_shows_its_result(tmp_path: Path) -> None:
    done = check(str(SCRIPTS / "plain.py"), "--input", '{"x": [1, 2]}', cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert '"doubled": [2, 4]' in done.stdout
    assert "init    ok" in done.stdout and "run     ok" in done.stdout
    assert "(exit 0)" in done.stdout and "memory  rss" in done.stdout
    # The user's print() and the shim's log lines are on stderr, never in the report.
    assert "plain run printed" in done.stderr and "plain run printed" not in done.stdout
    assert '"event": "shim.run.ok"' in done.stderr and '"event"' not in done.stdout


def test_the_v2_model_folder_trap_exits_3_naming_the_near_miss(tmp_path: Path) -> None:
    version = tmp_path / "azureml-models" / "m" / "1"
    (version / "model").mkdir(parents=True)
    (version / "model" / "model.pkl").write_bytes(pickle.dumps({"weights": [1, 2]}))
    script = SCRIPTS / "model_v2_trap.py"
    relative = os.path.relpath(version, tmp_path)  # made absolute by check, as by serve

    done = check(str(script), "--model-dir", relative, cwd=tmp_path)
    assert done.returncode == 3, done.stdout + done.stderr
    assert "init    FAILED" in done.stdout and "FileNotFoundError" in done.stdout
    assert f"{version / 'model' / 'model.pkl'}" in done.stdout and "one folder down" in done.stdout
    assert f"{script}:10 in init" in done.stdout
    assert "run " not in done.stdout  # the server never gets as far as a request

    data, _ = report(str(script), "--model-dir", relative, cwd=tmp_path)
    assert data["azureml_model_dir"] == str(version)
    assert data["init"]["diagnosis"]["facts"]["same_name_at"] == [str(version / "model" / "model.pkl")]
    assert data["model_probe"]["models"] == {"m": {"versions": ["1"], "where": "AZUREML_MODEL_DIR"}}
    assert "run" not in data


def test_rawhttp_script_gets_a_flask_request(tmp_path: Path) -> None:
    data, done = report(str(SCRIPTS / "rawhttp.py"), "--input", '{"a": 1}', cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert data["load"]["mode"] == "rawhttp"
    assert json.loads(data["run"]["output"]["text"]) == {"length": 8, "content_type": "application/json"}


def test_a_status_that_run_chooses_is_the_status_reported(tmp_path: Path) -> None:
    script = rawhttp_script(
        tmp_path,
        "def run(request):\n    return AMLResponse({'error': 'field x is missing'}, 422)\n",
    )
    done = check(str(script), "--input", "{}", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "the client gets HTTP 422" in done.stdout
    assert "the server would answer 422" in done.stdout and "answer 200" not in done.stdout


def test_a_binary_body_is_sent_as_it_is_with_its_content_type(tmp_path: Path) -> None:
    script = rawhttp_script(
        tmp_path,
        "def run(request):\n"
        "    data = request.get_data()\n"
        "    seen = {'bytes': len(data), 'png': data[:4] == b'\\x89PNG', 'type': request.headers['Content-Type']}\n"
        "    return AMLResponse(seen, 200, json_str=True)\n",
    )
    image = tmp_path / "cat.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))  # not UTF-8, not JSON
    data, done = report(str(script), "--input", f"@{image}", "--content-type", "image/png", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert data["input"]["bytes"] == 264 and data["input"]["content_type"] == "image/png"
    assert json.loads(data["run"]["output"]["text"]) == {"bytes": 264, "png": True, "type": "image/png"}


def test_a_form_upload_reaches_request_files_and_form(tmp_path: Path) -> None:
    script = rawhttp_script(
        tmp_path,
        "def run(request):\n"
        "    upload = request.files['image']\n"
        "    data = upload.read()\n"
        "    seen = {'name': upload.filename, 'type': upload.mimetype, 'bytes': len(data),\n"
        "            'same': data == open(upload.filename, 'rb').read(), 'threshold': request.form['threshold']}\n"
        "    return AMLResponse(seen, 200, json_str=True)\n",
    )
    image = tmp_path / "cat.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4 + b"\r\n--")  # CRLF and dashes inside
    data, done = report(str(script), "--form", "image=@cat.png", "--form", "threshold=0.5", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    seen = json.loads(data["run"]["output"]["text"])
    assert seen == {"name": "cat.png", "type": "image/png", "bytes": 1036, "same": True, "threshold": "0.5"}
    assert data["input"]["source"] == "--form" and data["input"]["content_type"].startswith("multipart/form-data")
    assert "image=@cat.png (1,036 bytes)" in data["input"]["body"]


def test_bad_form_fields_say_how_to_write_them(tmp_path: Path) -> None:
    script = str(SCRIPTS / "plain.py")
    cases = {
        ("--form", "image"): "write NAME=VALUE for a text field or NAME=@FILE for a file",
        ("--form", "image=@"): "name a file after the @",
        ("--form", f"image=@{tmp_path / 'nope.png'}"): "--form @" + str(tmp_path / "nope.png") + ": no such file",
        ("--form", "a=1", "--input", "{}"): "either as --input or as --form fields, not both",
    }
    for args, message in cases.items():
        result = in_process(script, *args)
        assert result.exit_code == 1, (args, result.output)
        errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
        assert len(errors) == 1 and message in errors[0], (args, result.stderr)


def test_what_the_script_returns_or_raises_reaches_the_terminal_escaped(tmp_path: Path) -> None:
    script = tmp_path / "score.py"
    script.write_text(
        "import json\n"
        "def init():\n    pass\n"
        "def run(raw_data):\n"
        "    text = json.loads(raw_data)['text']\n"
        "    if text.startswith('raise'):\n"
        "        raise ValueError(text)\n"
        "    return text\n",
        encoding="utf-8",
    )
    hostile = "\x1b]0;pwned\x07\x1b[2J\nFAKE: all good"
    for text, code in ((hostile, 0), ("raise " + hostile, 4)):
        done = check(str(script), "--input", json.dumps({"text": text}), cwd=tmp_path)
        assert done.returncode == code, done.stdout + done.stderr
        assert "\x1b" not in done.stdout and "\x07" not in done.stdout  # piped: no styles, so no ESC at all
        assert "pwned" in done.stdout and "all good" in done.stdout  # the text is there, escaped
        assert not any(line.startswith("FAKE") for line in done.stdout.splitlines())


def test_input_schema_script_without_input_uses_the_schema_sample(tmp_path: Path) -> None:
    data, done = report(str(SCRIPTS / "schema.py"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert data["load"]["mode"] == "input_schema" and data["load"]["parameters"] == ["data", "factor"]
    assert data["input"]["source"] == "the @input_schema sample"
    assert json.loads(data["input"]["body"]) == {"data": [[1.0, 2.0, 3.0]], "factor": 2.0}
    # Split into keyword arguments and decoded by inference-schema, as under the server: a numpy array arrived.
    assert json.loads(data["run"]["output"]["text"]) == {"sums": [12.0], "type": "ndarray"}


def test_request_headers_and_input_from_a_file(tmp_path: Path) -> None:
    body = tmp_path / "request.json"
    body.write_text('{"rows": [1, 2]}')
    data, done = report(str(SCRIPTS / "headers.py"), "--input", f"@{body}", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert data["load"]["request_headers"] is True
    assert json.loads(data["run"]["output"]["text"])["data"] == {"rows": [1, 2]}


def test_a_failing_run_exits_4_naming_the_users_file_and_line(tmp_path: Path) -> None:
    script = SCRIPTS / "plain.py"
    failing_line = next(n for n, text in enumerate(script.read_text().splitlines(), 1) if "raise ValueError" in text)
    done = check(str(script), "--input", '{"fail": "boom"}', cwd=tmp_path)
    assert done.returncode == 4
    assert "ValueError: asked to fail: boom" in done.stdout
    assert f"{script}:{failing_line} in run" in done.stdout
    assert '"event": "shim.run.failed"' in done.stderr

    data, _ = report(str(script), "--input", '{"unserialisable": true}', cwd=tmp_path)
    assert data["exit_code"] == 4 and data["init"]["ok"] is True
    assert data["run"]["output"]["serialisable"] is False and data["run"]["http_status"] == 500
    assert "not JSON-serialisable" in data["run"]["problem"]


def test_a_script_that_cannot_load_exits_3_at_its_line(tmp_path: Path) -> None:
    script = SCRIPTS / "syntax_error.py"
    data, done = report(str(script), cwd=tmp_path)
    assert done.returncode == 3
    assert data["load"]["error"]["type"] == "SyntaxError"
    assert data["load"]["error"]["where"]["file"] == str(script)
    assert "init" not in data


def test_usage_and_input_errors_are_one_line(tmp_path: Path) -> None:
    script = str(SCRIPTS / "plain.py")
    binary = tmp_path / "image.json"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    cases = {
        (str(tmp_path / "nope.py"),): (1, "nope.py: no such file"),
        (str(tmp_path),): (1, "is a folder"),
        (script, "--input", "{bad"): (1, "--input is not valid JSON"),
        (script, "--input", "sample.json"): (1, "looks like a file name: to send a file, use --input @sample.json"),
        (script, "--input", f"@{tmp_path / 'missing.json'}"): (1, "missing.json: no such file"),
        (script, "--input", f"@{binary}"): (1, "not UTF-8"),
        (script, "--model-dir", str(tmp_path / "no-models")): (1, "no-models: no such folder"),
        (script, "--bogus"): (2, "No such option '--bogus'"),
        (): (2, "name your score.py, or a deployment YAML with --deployment"),
        (script, "--model-path", str(tmp_path)): (2, "--model-path goes with --deployment"),
        (script, "--deployment", str(tmp_path / "d.yml")): (2, "give either SCORE_PY"),
    }
    for args, (code, message) in cases.items():
        result = in_process(*args)
        assert result.exit_code == code, (args, result.output)
        errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
        assert len(errors) == 1 and message in errors[0], (args, result.stderr)
        assert "Traceback" not in result.output

    bad_setting = CliRunner().invoke(cli, ["check", script], env={"SCORE_SHIM_LOG_FORMAT": "bogus"})
    assert bad_setting.exit_code == 1 and bad_setting.stdout == ""
    assert bad_setting.stderr.strip() == (
        "Error: SCORE_SHIM_LOG_FORMAT='bogus' is not accepted: use one of json, console, auto."
    )


def test_without_the_server_it_says_what_to_install(tmp_path: Path) -> None:
    # The server package hidden from this interpreter, as when score-shim is installed without [server].
    code = (
        "import sys; sys.modules['azureml_inference_server_http'] = None; "
        "from shim.cli import main; sys.argv = ['score-shim', 'check', sys.argv[1]]; main()"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(SCRIPTS / "plain.py")],
        cwd=Path(__file__).parent.parent,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "pip install azureml-inference-server-http" in done.stderr


def test_help_documents_the_exit_codes_with_an_example() -> None:
    result = in_process("--help")
    assert result.exit_code == 0
    assert "Example" in result.stdout and "score-shim check score.py" in result.stdout
    for code in ("0  init() and run() work", "3  the script cannot be loaded", "4  run() fails"):
        assert code in result.stdout


def test_a_model_folder_above_its_version_names_the_folder_to_pass(tmp_path: Path) -> None:
    """The script is right (AZUREML_MODEL_DIR/model/prices.pkl); the folder given is one above the version."""
    version = tmp_path / "azureml-models" / "price" / "1"
    (version / "model").mkdir(parents=True)
    (version / "model" / "prices.pkl").write_bytes(pickle.dumps({"apple": 1}))
    script = tmp_path / "score.py"
    script.write_text(
        "import os, pickle\n"
        "def init():\n"
        "    global model\n"
        "    with open(os.path.join(os.environ['AZUREML_MODEL_DIR'], 'model', 'prices.pkl'), 'rb') as f:\n"
        "        model = pickle.load(f)\n"
        "def run(raw_data):\n    return len(model)\n",
        encoding="utf-8",
    )
    data, done = report(str(script), "--model-dir", str(version.parent), cwd=tmp_path)
    assert done.returncode == 3, done.stdout + done.stderr
    diagnosis = data["init"]["diagnosis"]
    assert diagnosis["facts"]["model_dir_to_pass"] == str(version)
    assert diagnosis["text"].endswith(f"pass --model-dir {version}")
    assert "use " + str(version / "model" / "prices.pkl") not in diagnosis["text"]  # not a hard-coded path

    fixed = check(str(script), "--model-dir", diagnosis["facts"]["model_dir_to_pass"], cwd=tmp_path)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr  # the advice, followed, works
