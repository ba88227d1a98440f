"""A broken entry script or setting stops the server as the bare server would (exit 3), and says why."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests._server import Server, running_server

pytestmark = pytest.mark.server

EXIT_BOOT_ERROR = 3  # what the server exits with when the script cannot load or init() raises


def exit_code(server: Server) -> int:
    return server.process.wait(timeout=60)


def failed_start(
    scripts: Path, log_dir: Path, script: str, *, shim: bool = True, env: dict[str, str] | None = None
) -> tuple[int, Server]:
    with running_server(scripts / script, log_dir, shim=shim, env=env, expect_healthy=False) as server:
        return exit_code(server), server


def init_failed(server: Server) -> dict:
    [event] = server.events("shim.init.failed")
    return event


@pytest.mark.parametrize("script", ["init_fails.py", "syntax_error.py", "no_run.py", "import_raises.py"])
def test_broken_scripts_stop_the_server_as_bare(scripts: Path, log_dir: Path, script: str) -> None:
    bare, _ = failed_start(scripts, log_dir, script, shim=False)
    wrapped, server = failed_start(scripts, log_dir, script)
    assert bare == wrapped == EXIT_BOOT_ERROR
    assert init_failed(server)["error"]["type"]


def test_init_failure_names_the_missing_file(scripts: Path, log_dir: Path) -> None:
    _, server = failed_start(scripts, log_dir, "init_fails.py", env={"AZUREML_MODEL_DIR": "/no/such/dir"})
    event = init_failed(server)
    assert event["phase"] == "init"
    assert event["error"]["type"] == "FileNotFoundError"
    assert "/no/such/dir/model.pkl" in event["error"]["message"]
    assert event["error"]["where"]["file"].endswith("init_fails.py")
    assert event["error"]["where"]["function"] == "init"
    assert isinstance(event["duration_ms"], float)


def test_syntax_error_is_reported_with_file_and_line(scripts: Path, log_dir: Path) -> None:
    _, server = failed_start(scripts, log_dir, "syntax_error.py")
    event = init_failed(server)
    assert event["phase"] == "import"
    assert event["error"]["type"] == "SyntaxError"
    assert 'syntax_error.py", line 5' in event["error"]["traceback"]


def test_script_without_run_says_what_is_missing(scripts: Path, log_dir: Path) -> None:
    _, server = failed_start(scripts, log_dir, "no_run.py")
    event = init_failed(server)
    assert event["phase"] == "load"
    assert "defines no run() function" in event["diagnosis"]
    assert "no_run.py" in event["diagnosis"]


def test_exception_at_import_is_the_users_own(scripts: Path, log_dir: Path) -> None:
    _, server = failed_start(scripts, log_dir, "import_raises.py")
    event = init_failed(server)
    assert event["phase"] == "import"
    assert event["error"]["type"] == "json.decoder.JSONDecodeError"
    assert event["error"]["where"]["file"].endswith("import_raises.py")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", "SCORE_SHIM_ENTRY_SCRIPT is not set"),
        ("missing_script.py", "no such file"),
        (".", "is a directory"),
    ],
)
def test_entry_script_setting_problems(scripts: Path, log_dir: Path, value: str, expected: str) -> None:
    code, server = failed_start(scripts, log_dir, "plain.py", env={"SCORE_SHIM_ENTRY_SCRIPT": value})
    assert code == EXIT_BOOT_ERROR
    event = init_failed(server)
    assert event["phase"] == "load"
    assert expected in event["diagnosis"]
    if value:
        assert value in event["diagnosis"]
    # No traceback from the shim's internals: the server shows one line of the entry file and the message.
    assert "shim/runtime/loader.py" not in server.log_text()
    assert expected in server.log_text().split("shim.init.failed", 1)[1]


def test_directory_hint_lists_the_likely_scripts_first(scripts: Path, log_dir: Path, tmp_path: Path) -> None:
    for name in ["a.py", "b.py", "c.py", "d.py", "e.py", "f.py", "g.py", "h.py", "i.py", "j.py", "my_score.py"]:
        (tmp_path / name).write_text("")
    _, server = failed_start(scripts, log_dir, "plain.py", env={"SCORE_SHIM_ENTRY_SCRIPT": str(tmp_path)})
    assert "It holds: my_score.py, a.py," in init_failed(server)["diagnosis"]
    assert "and 1 more." in init_failed(server)["diagnosis"]


@pytest.mark.parametrize(
    ("variable", "value", "accepted"),
    [
        ("SCORE_SHIM_LOG_FORMAT", "xml", "json, console, auto"),
        ("SCORE_SHIM_LOG_LEVEL", "loud", "debug, info, warning, error, critical"),
        ("SCORE_SHIM_DEBUG", "maybe", "1, 0, true, false"),
        ("SCORE_SHIM_DEBUG_PORT", "70000", "1 to 65535"),
    ],
)
def test_invalid_setting_names_the_variable_and_accepted_values(
    scripts: Path, log_dir: Path, variable: str, value: str, accepted: str
) -> None:
    code, server = failed_start(scripts, log_dir, "plain.py", env={variable: value})
    assert code == EXIT_BOOT_ERROR
    event = init_failed(server)
    assert event["phase"] == "config"
    assert variable in event["diagnosis"] and repr(value) in event["diagnosis"]
    assert accepted in event["diagnosis"]


def test_classes_defined_in_the_script_can_be_pickled_only_with_the_shim(scripts: Path, log_dir: Path) -> None:
    bare, server = failed_start(scripts, log_dir, "pickling.py", shim=False)
    assert bare == EXIT_BOOT_ERROR
    assert "PicklingError" in server.log_text() or "Can't pickle" in server.log_text()
    with running_server(scripts / "pickling.py", log_dir) as server, server.client() as client:
        response = client.post("/score", content=b"{}")
    assert response.status_code == 200
    assert response.json() == {"factor": 3, "point": [1, 2]}


def test_future_annotations_dataclass_imports_only_with_the_shim(scripts: Path, log_dir: Path) -> None:
    bare, _ = failed_start(scripts, log_dir, "future_dataclass.py", shim=False)
    assert bare == EXIT_BOOT_ERROR
    with running_server(scripts / "future_dataclass.py", log_dir) as server, server.client() as client:
        response = client.post("/score", content=b"{}")
    assert response.json() == {"name": "m", "size": 1}
