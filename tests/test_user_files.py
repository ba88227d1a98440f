"""Issue 14: the user's own ``config.json`` and ``logging.json`` beside score.py count under every adoption path.

The server reads both when it imports its config module, before it imports the entry script, and looks for
them beside the entry script, which with the shim is ``score_wrappers/entry.py`` or a one-line file. Each test
sets ``AML_APP_ROOT`` to an empty folder elsewhere, so that only the file beside score.py can be found, and
compares the wrapped server with the bare one (the user's score.py as its entry script) over HTTP.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import httpx
import pytest

from shim.cli.serve import LOOPBACK, ServeOptions, server_environment, stop, wait_until_healthy, wrapper_entry_script
from tests._server import STARTUP_SECONDS, Server, free_port, parse_lines, running_server

ROOT = Path(__file__).resolve().parent.parent

SLEEPY = """\
import time


def init():
    pass


def run(raw_data):
    time.sleep(1.5)
    return "slept"
"""

ONE_LINE_ENTRY = "from score_wrappers.entry import init, run  # noqa: F401\n"
TIMED_OUT = {"status": 500, "body": {"message": "Scoring timeout after 300 ms"}, "failed": "True"}


def answer(response: httpx.Response) -> dict[str, Any]:
    return {
        "status": response.status_code,
        "body": response.json(),
        "failed": response.headers.get("x-ms-run-function-failed"),
    }


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def sleepy_app(folder: Path, *, config: Mapping[str, Any] | None = None) -> Path:
    """A score.py whose run() sleeps 1.5 s, with a config.json beside it that allows 300 ms."""
    script = write(folder / "score.py", SLEEPY)
    write(folder / "config.json", json.dumps(config if config is not None else {"SCORING_TIMEOUT_MS": 300}))
    return script


@pytest.fixture
def app_root(tmp_path: Path) -> Path:
    """AML_APP_ROOT: an empty folder that is not the script's, as with ``serve`` run from elsewhere."""
    root = tmp_path / "app-root"
    root.mkdir()
    return root


def score(server: Server) -> httpx.Response:
    with server.client() as client:
        return client.post("/score", content=b"{}", headers={"Content-Type": "application/json"})


@contextmanager
def running_gunicorn(env: Mapping[str, str], log_path: Path, cwd: Path) -> Iterator[Server]:
    """The server as Azure ML's images start it: gunicorn on the server's app, the environment set beforehand,
    no ``score-shim serve`` anywhere (the arguments of ``amlserver_linux.run``, bound to 127.0.0.1)."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "-b",
        f"{LOOPBACK}:{port}",
        "-w",
        "1",
        "--timeout",
        "300",
        "--access-logfile",
        "-",
        "--error-logfile",
        "/dev/null",
        "azureml_inference_server_http.server.entry:app",
    ]
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, env=full_env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = Server(process, port, log_path)
    try:
        yield server
    finally:
        stop(process, grace=20)
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)


def entry_alone_env(script: Path, app_root: Path) -> dict[str, str]:
    """Path (a) in a custom image: AZUREML_ENTRY_SCRIPT names the shim's entry, nothing else is arranged."""
    return {
        "AML_APP_ROOT": str(app_root),
        "AZUREML_ENTRY_SCRIPT": str(wrapper_entry_script()),
        "SCORE_SHIM_ENTRY_SCRIPT": str(script),
        "SCORE_SHIM_LOG_FORMAT": "json",
        "AML_APP_INSIGHTS_ENABLED": "false",
    }


# -- config.json ------------------------------------------------------------------------------------


@pytest.mark.server
@pytest.mark.slow
def test_bare_server_applies_the_config_json_beside_score_py(tmp_path: Path, app_root: Path, log_dir: Path) -> None:
    script = sleepy_app(tmp_path / "code")
    with running_server(script, log_dir, shim=False, env={"AML_APP_ROOT": str(app_root)}) as bare:
        assert answer(score(bare)) == TIMED_OUT


@pytest.mark.server
@pytest.mark.slow
def test_serve_applies_the_config_json_beside_score_py(tmp_path: Path, app_root: Path, log_dir: Path) -> None:
    # Path (a) through `score-shim serve`: the server is told where the file is (AZUREML_CONFIG_FILE).
    script = sleepy_app(tmp_path / "code")
    with running_server(script, log_dir, env={"AML_APP_ROOT": str(app_root)}) as wrapped:
        assert answer(score(wrapped)) == TIMED_OUT
        assert "Scoring timeout is set to 300" in wrapped.log_text()


@pytest.mark.server
@pytest.mark.slow
def test_entry_alone_applies_the_config_json_beside_score_py(tmp_path: Path, app_root: Path, log_dir: Path) -> None:
    # Path (a) in a container: nothing tells the server where the file is; the entry finds it and updates the
    # server's settings object before the first request.
    script = sleepy_app(tmp_path / "code", config={"SCORING_TIMEOUT_MS": 300, "SERVICE_NAME": "from-config-json"})
    log_path = log_dir / f"entry-alone-{free_port()}.log"
    with running_gunicorn(entry_alone_env(script, app_root), log_path, cwd=tmp_path) as wrapped:
        assert wait_until_healthy(wrapped.process, wrapped.port, STARTUP_SECONDS), wrapped.log_text()[-4000:]
        assert answer(score(wrapped)) == TIMED_OUT
        event = wrapped.wait_for_event("shim.config.file")
        assert event["file"] == str(script.parent / "config.json")
        assert event["applied"] == {"SCORING_TIMEOUT_MS": 300, "SERVICE_NAME": "from-config-json"}
        # Read by the server after the entry was imported, as the bare server reads it: the swagger's title.
        with wrapped.client() as client:
            assert client.get("/swagger.json").json()["info"]["title"] == "from-config-json"


@pytest.mark.server
@pytest.mark.slow
def test_one_line_entry_beside_score_py_applies_its_config_json(tmp_path: Path, app_root: Path, log_dir: Path) -> None:
    # Path (b), as the README's managed online endpoint: the server itself finds the file beside shim_entry.py.
    script = sleepy_app(tmp_path / "onlinescoring")
    entry = write(script.parent / "shim_entry.py", ONE_LINE_ENTRY)
    env = {"AML_APP_ROOT": str(app_root), "SCORE_SHIM_ENTRY_SCRIPT": "score.py"}
    with running_server(entry, log_dir, shim=False, env=env) as wrapped:
        assert answer(score(wrapped)) == TIMED_OUT
        assert wrapped.events("shim.init.ok")


@pytest.mark.server
@pytest.mark.slow
def test_one_line_entry_with_score_py_in_a_subfolder(tmp_path: Path, app_root: Path, log_dir: Path) -> None:
    # Path (b) with score.py one folder down: the server looks beside shim_entry.py only; the bare server,
    # with src/score.py as its entry, would read src/config.json, and so does the shim.
    script = sleepy_app(tmp_path / "onlinescoring" / "src")
    entry = write(tmp_path / "onlinescoring" / "shim_entry.py", ONE_LINE_ENTRY)
    env = {"AML_APP_ROOT": str(app_root), "SCORE_SHIM_ENTRY_SCRIPT": "src/score.py"}
    with running_server(entry, log_dir, shim=False, env=env) as wrapped:
        assert answer(score(wrapped)) == TIMED_OUT
        assert wrapped.events("shim.config.file", file=str(script.parent / "config.json"))


@pytest.mark.server
@pytest.mark.slow
def test_a_config_json_in_aml_app_root_still_comes_first(tmp_path: Path, app_root: Path, log_dir: Path) -> None:
    # The server's order is kept: AML_APP_ROOT's config.json wins over the one beside score.py, bare or wrapped.
    script = sleepy_app(tmp_path / "code", config={"SCORING_TIMEOUT_MS": 5000})
    write(app_root / "config.json", json.dumps({"SCORING_TIMEOUT_MS": 300}))
    log_path = log_dir / f"app-root-first-{free_port()}.log"
    with running_gunicorn(entry_alone_env(script, app_root), log_path, cwd=tmp_path) as wrapped:
        assert wait_until_healthy(wrapped.process, wrapped.port, STARTUP_SECONDS), wrapped.log_text()[-4000:]
        assert answer(score(wrapped)) == TIMED_OUT
        assert not wrapped.events("shim.config.file")


@pytest.mark.server
@pytest.mark.slow
def test_a_config_json_the_server_refuses_stops_it_wrapped_as_bare(
    tmp_path: Path, app_root: Path, log_dir: Path
) -> None:
    script = sleepy_app(tmp_path / "code", config={"SCORING_TIMEOUT_MS": "soon"})
    with running_server(script, log_dir, shim=False, env={"AML_APP_ROOT": str(app_root)}, expect_healthy=False) as bare:
        assert bare.process.wait(timeout=60) == 3
    log_path = log_dir / f"refused-{free_port()}.log"
    with running_gunicorn(entry_alone_env(script, app_root), log_path, cwd=tmp_path) as wrapped:
        assert wrapped.process.wait(timeout=60) == 3
        failed = wrapped.wait_for_event("shim.init.failed")
        assert "config.json: a value the server cannot use: SCORING_TIMEOUT_MS" in failed["diagnosis"]
    assert "Configuration Error" in bare.log_text() and "Configuration Error" in wrapped.log_text()


def test_serve_names_the_config_json_beside_the_script(tmp_path: Path, app_root: Path) -> None:
    script = sleepy_app(tmp_path / "code")
    base = {"AML_APP_ROOT": str(app_root)}
    env = server_environment(ServeOptions(script=script), base=base)
    assert env["AZUREML_CONFIG_FILE"] == str(script.parent / "config.json")
    # An explicit AZUREML_CONFIG_FILE wins; --no-shim leaves it to the server, which looks beside score.py.
    explicit = server_environment(ServeOptions(script=script, env={"AZUREML_CONFIG_FILE": "/etc/mine.json"}), base)
    assert explicit["AZUREML_CONFIG_FILE"] == "/etc/mine.json"
    assert "AZUREML_CONFIG_FILE" not in server_environment(ServeOptions(script=script, shim=False), base=base)
    # One in AML_APP_ROOT is found by the server first: nothing to name.
    write(app_root / "config.json", "{}")
    assert "AZUREML_CONFIG_FILE" not in server_environment(ServeOptions(script=script), base=base)
    # An empty config.json does not count for the server (config.py: size 0), nor here.
    (app_root / "config.json").unlink()
    (script.parent / "config.json").write_text("")
    assert "AZUREML_CONFIG_FILE" not in server_environment(ServeOptions(script=script), base=base)


def test_the_entry_updates_the_servers_settings_in_place(tmp_path: Path, app_root: Path) -> None:
    # The server's own config module, imported as a worker imports it, then the shim's adoption: the object
    # that routes.py reads per request changes; a value read before the entry (the debug port) is reported.
    config = {"SCORING_TIMEOUT_MS": 300, "AZUREML_DEBUG_PORT": 5678, "AZUREML_SOURCE_DIRECTORY": "src"}
    script = sleepy_app(tmp_path / "code", config=config)
    code = textwrap.dedent(
        """
        import json, sys
        from pathlib import Path
        from azureml_inference_server_http.server import config as module
        from azureml_inference_server_http.server import routes
        from shim.runtime import user_files

        before = (routes.config.scoring_timeout, routes.config.debug_port)
        done = {"changed": user_files.adopt_config(Path(sys.argv[1]))["changed"]}
        user_files.log_config_file({"file": sys.argv[1], **done})
        print(json.dumps({"before": before, "after": [routes.config.scoring_timeout, routes.config.debug_port],
                          "same": routes.config is module.config, "done": done, "path": sys.path}))
        """
    )
    env = {**entry_alone_env(script, app_root), "PYTHONPATH": str(ROOT)}
    env.pop("SCORING_TIMEOUT_MS", None)
    done = subprocess.run(
        [sys.executable, "-c", code, str(script)],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["before"] == [3_600_000, None]
    assert result["after"] == [300, 5678]
    assert result["same"] is True
    assert result["done"]["changed"] == config
    # AZUREML_SOURCE_DIRECTORY goes on sys.path, under AML_APP_ROOT, as the server's aml_blueprint puts it.
    assert result["path"][-1] == str(app_root / "src")
    # The debug port was read when the server started: too late, and the log line says so.
    events, _ = parse_lines(done.stdout)
    warning = next(e for e in events if e.get("event") == "shim.config.file")
    assert warning["level"] == "warning" and warning["too_late"] == ["AZUREML_DEBUG_PORT"]
    assert "AZUREML_DEBUG_PORT" in warning["diagnosis"]


# -- score-shim check -------------------------------------------------------------------------------


def run_check(script: Path, cwd: Path, **env: str) -> tuple[dict[str, Any], subprocess.CompletedProcess[str]]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("SCORE_SHIM_")
        and k not in ("AZUREML_MODEL_DIR", "AML_APP_ROOT", "AZUREML_ENTRY_SCRIPT", "SCORING_TIMEOUT_MS")
        and k != "AZUREML_CONFIG_FILE"
    }
    clean["PYTHONPATH"] = os.pathsep.join([str(ROOT), clean.get("PYTHONPATH", "")])
    done = subprocess.run(
        [sys.executable, "-m", "shim", "check", str(script), "--json"],
        cwd=cwd,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    return json.loads(done.stdout), done


def test_check_applies_the_config_json_beside_the_script(tmp_path: Path, app_root: Path) -> None:
    script = sleepy_app(tmp_path / "code")
    report, done = run_check(script, cwd=app_root)
    assert done.returncode == 4, done.stdout + done.stderr
    run = report["run"]
    assert run["scoring_timeout_ms"] == 300
    assert run["scoring_timeout_from"] == str(script.parent / "config.json")
    assert run["http_status"] == 500 and run["error"]["type"] == "TimeoutError"
    assert "'Scoring timeout after 300 ms'" in run["problem"] and "config.json" in run["problem"]


def test_check_lets_the_environment_win_over_config_json(tmp_path: Path, app_root: Path) -> None:
    # As the server's settings: the environment first, then the file.
    script = sleepy_app(tmp_path / "code")
    report, done = run_check(script, cwd=app_root, SCORING_TIMEOUT_MS="20000")
    assert done.returncode == 0, done.stdout + done.stderr
    assert report["run"]["scoring_timeout_ms"] == 20000
    assert report["run"]["scoring_timeout_from"] == "SCORING_TIMEOUT_MS"


# -- logging.json -----------------------------------------------------------------------------------

LOGGING_SCRIPT = """\
import logging

log = logging.getLogger("myapp")


def init():
    log.info("myapp init line")


def run(raw_data):
    log.info("myapp run line")
    log.debug("myapp debug line, below the level the user set")
    print("printed from run")
    return "ok"
"""


def logging_app(folder: Path, log_file: Path) -> Path:
    """score.py and a logging.json beside it: the user's logger ``myapp`` to a file and the console, in the
    user's own format, not propagated (the server's loggers are left to dictConfig's default: disabled)."""
    script = write(folder / "score.py", LOGGING_SCRIPT)
    config = {
        "version": 1,
        "formatters": {"mine": {"format": "MINE %(name)s %(levelname)s %(message)s"}},
        "handlers": {
            "file": {"class": "logging.FileHandler", "filename": str(log_file), "formatter": "mine"},
            "console": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout", "formatter": "mine"},
        },
        "loggers": {"myapp": {"level": "INFO", "handlers": ["file", "console"], "propagate": False}},
    }
    write(folder / "logging.json", json.dumps(config, indent=2))
    return script


MYAPP_LINES = ["MINE myapp INFO myapp init line", "MINE myapp INFO myapp run line"]


@pytest.mark.server
@pytest.mark.slow
@pytest.mark.parametrize("path", ["serve", "one_line_entry"])
def test_users_logging_json_feeds_their_file_and_the_json_stream(
    tmp_path: Path, app_root: Path, log_dir: Path, path: str
) -> None:
    bare_file, wrapped_file = tmp_path / "bare-myapp.log", tmp_path / "wrapped-myapp.log"
    bare_script = logging_app(tmp_path / "bare", bare_file)
    with running_server(bare_script, log_dir, shim=False, env={"AML_APP_ROOT": str(app_root)}) as bare:
        assert score(bare).status_code == 200
    # The bare server applies the user's logging.json: their file gets their lines, in their format.
    assert bare_file.read_text().splitlines() == MYAPP_LINES
    _, bare_text = parse_lines(bare.log_text())
    assert "MINE myapp INFO myapp run line" in bare_text and any("printed from run" in line for line in bare_text)

    script = logging_app(tmp_path / "wrapped", wrapped_file)
    env = {"AML_APP_ROOT": str(app_root)}
    if path == "serve":  # path (a): the server applied the shim's logging.json; the entry applies the user's
        started = running_server(script, log_dir, env=env)
    else:  # path (b): the server applies the user's logging.json beside shim_entry.py itself
        entry = write(script.parent / "shim_entry.py", ONE_LINE_ENTRY)
        started = running_server(entry, log_dir, shim=False, env={**env, "SCORE_SHIM_ENTRY_SCRIPT": "score.py"})
    with started as wrapped:
        response = score(wrapped)
        assert response.status_code == 200
        wrapped.wait_for_event("shim.run.ok")
        events, text = parse_lines(wrapped.log_text())
    # 1. The user's file receives exactly what it receives under the bare server.
    assert wrapped_file.read_text().splitlines() == MYAPP_LINES
    # 2. The same records are JSON lines of the shim's stream, with the request's id on the run's line.
    mine = [e for e in events if e.get("logger") == "myapp"]
    assert [e["event"] for e in mine] == ["myapp init line", "myapp run line"]
    assert mine[1]["request_id"] == response.headers["x-request-id"]
    # 3. The user's console handler no longer writes text into the stream; print() still reaches it.
    assert not [line for line in text if "MINE" in line]
    assert any(e.get("event") == "printed from run" and e.get("logger") == "azmlinfsrv.print" for e in events)
    adopted = [e for e in events if e.get("event") == "shim.logging.file"]
    assert adopted and adopted[0]["file"] == str(script.parent / "logging.json")
    assert adopted[0]["applied_by"] == ("shim" if path == "serve" else "server")
    assert adopted[0]["loggers"] == ["myapp"]


def test_the_shims_own_failure_here_never_stops_a_start_up(tmp_path: Path) -> None:
    # Another server version whose config module lacks what the shim reads (AMLInferenceServerConfig): the
    # shim reports its own failure and the script starts, as it would bare.
    (tmp_path / "config.json").write_text('{"SCORING_TIMEOUT_MS": 1000}')
    (tmp_path / "score.py").write_text("def init():\n    pass\n\ndef run(data):\n    return data\n")
    code = textwrap.dedent(
        """
        import sys, types
        from pathlib import Path
        other = types.ModuleType("azureml_inference_server_http.server.config")
        other.config = types.SimpleNamespace(scoring_timeout=3600000)
        other.get_config_file = lambda: None
        sys.modules[other.__name__] = other
        from shim.runtime import user_files
        user_files.adopt(Path(sys.argv[1]), "info")
        print("started", flush=True)
        """
    )
    env = {**os.environ, "SCORE_SHIM_LOG_FORMAT": "json", "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "score.py")], capture_output=True, text=True, timeout=60, env=env
    )
    assert done.returncode == 0, done.stderr
    events, others = parse_lines(done.stdout)
    assert "started" in others
    assert any(event.get("event") == "shim.internal_error" for event in events), done.stdout
