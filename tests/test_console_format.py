"""The console format is for people: every line in it, nested data readable, a failure told once, noise marked.

The real server with the shim (``SCORE_SHIM_LOG_FORMAT=console``, as a terminal gets by default), and with
JSON for what the folding of the server's copies leaves in the stream.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests._server import running_server, wait_for

pytestmark = pytest.mark.server

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _model_folder_that_trips_the_servers_model_ids(tmp_path: Path) -> Path:
    folder = tmp_path / "model"
    (folder / "sklearn_model").mkdir(parents=True)  # not a numeric version: the server's known noise
    (folder / "sklearn_model" / "model.txt").write_text("a model\n")
    return folder


def test_every_line_of_a_failed_start_is_console_text_with_the_failure_once(
    scripts: Path, log_dir: Path, tmp_path: Path
) -> None:
    model_dir = _model_folder_that_trips_the_servers_model_ids(tmp_path)
    env = {"SCORE_SHIM_LOG_FORMAT": "console"}
    with running_server(
        scripts / "init_fails.py", log_dir, model_dir=model_dir, env=env, expect_healthy=False
    ) as server:
        assert wait_for(lambda: server.process.poll() is not None, 60)
        text = ANSI.sub("", server.log_text())
    lines = [line for line in text.splitlines() if line.strip()]
    assert not [line for line in lines if line.lstrip().startswith("{")]  # no JSON object, from the first line
    probe = next(line for line in lines if "shim.model.probe" in line)
    assert "model='AZUREML_MODEL_DIR=" in probe and "'given'" not in probe  # a summary, not a Python dict
    failed = next(line for line in lines if "shim.init.failed" in line)
    assert failed.index("error=") < failed.index("diagnosis=")  # what failed, where, then why
    assert "diagnosis_facts=" not in failed and "server_logged=" not in failed  # data for machines: JSON only
    assert re.search(r"error=\"FileNotFoundError: .* at \S+init_fails\.py:8\"", failed)
    assert text.count("Traceback (most recent call last)") == 1  # the shim's; the server's copy is folded
    noise = next(line for line in lines if "Error while fetching model IDs" in line)
    assert "harmless=" in noise and "detail=" in noise


def test_a_failed_init_is_told_once_in_json_with_what_the_servers_copy_added(
    scripts: Path, log_dir: Path, tmp_path: Path
) -> None:
    with running_server(scripts / "init_fails.py", log_dir, model_dir=tmp_path, expect_healthy=False) as server:
        assert wait_for(lambda: server.process.poll() is not None, 60)
        events = server.events()
    [failed] = [e for e in events if e["event"] == "shim.init.failed"]
    assert failed["server_logged"].startswith("Encountered Exception: UserScriptException")
    assert not [e for e in events if str(e["event"]).startswith("Encountered Exception")]
    assert any(e["event"] == "User's init function failed" for e in events)  # the server's own word stays
