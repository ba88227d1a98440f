"""`score-shim vscode`: the attach configuration, printed or merged into an existing launch.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from shim.cli import cli
from shim.cli.vscode import DEFAULT_NAME, parse_jsonc

EXISTING = """\
{
    // Use IntelliSense to learn about possible attributes.
    "version": "0.2.0",
    "configurations": [
        {
            "name": "Python: current file", // keep me
            "type": "debugpy",
            "request": "launch",
            "program": "${file}",
        },
        /* the next one is ours and gets replaced */
    ],
}
"""


def run(folder: Path, *args: str, monkeypatch: pytest.MonkeyPatch) -> Result:
    monkeypatch.chdir(folder)
    return CliRunner().invoke(cli, ["vscode", *args], catch_exceptions=False)


def configurations(path: Path) -> list[dict[str, Any]]:
    value: list[dict[str, Any]] = parse_jsonc(path.read_text()).value["configurations"]
    return value


def test_prints_a_debugpy_attach_configuration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "onlinescoring").mkdir()
    result = run(tmp_path, "--local-root", "onlinescoring", "--port", "5679", monkeypatch=monkeypatch)
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    [config] = document["configurations"]
    assert config["type"] == "debugpy" and config["request"] == "attach"
    assert config["connect"] == {"host": "127.0.0.1", "port": 5679}
    assert config["pathMappings"] == [
        {"localRoot": "${workspaceFolder}/onlinescoring", "remoteRoot": "/var/azureml-app/onlinescoring"}
    ]
    assert config["justMyCode"] is True

    # Defaults: the current folder, mapped to /var/azureml-app/<its name>.
    config = json.loads(run(tmp_path, monkeypatch=monkeypatch).stdout)["configurations"][0]
    assert config["connect"]["port"] == 5678
    assert config["pathMappings"] == [
        {"localRoot": "${workspaceFolder}", "remoteRoot": f"/var/azureml-app/{tmp_path.name}"}
    ]


def test_local_prints_a_configuration_without_path_mapping(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = run(tmp_path, "--local", "--port", "5680", monkeypatch=monkeypatch)
    assert result.exit_code == 0, result.output
    [config] = json.loads(result.stdout)["configurations"]
    assert config["connect"] == {"host": "127.0.0.1", "port": 5680} and "pathMappings" not in config
    assert config["name"] != DEFAULT_NAME  # --write keeps the container's configuration beside it
    both = run(tmp_path, "--local", "--remote-root", "/var/azureml-app/x", monkeypatch=monkeypatch)
    assert both.exit_code == 2 and "--local needs no --local-root or --remote-root" in both.output


def test_write_merges_keeping_comments_and_other_configurations(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    launch = tmp_path / ".vscode" / "launch.json"
    launch.parent.mkdir()
    launch.write_text(EXISTING)

    result = run(tmp_path, "--write", "--remote-root", "/var/azureml-app/code", monkeypatch=monkeypatch)
    assert result.exit_code == 0, result.output
    text = launch.read_text()
    for kept in ("// Use IntelliSense", "// keep me", "/* the next one is ours", '"program": "${file}"'):
        assert kept in text
    names = [config["name"] for config in configurations(launch)]
    assert names == ["Python: current file", DEFAULT_NAME]

    # Again, with another port: the one with our name is replaced, nothing is duplicated.
    assert run(tmp_path, "--write", "--port", "6000", monkeypatch=monkeypatch).exit_code == 0
    ours = [config for config in configurations(launch) if config["name"] == DEFAULT_NAME]
    assert [config["connect"]["port"] for config in ours] == [6000]
    assert "// keep me" in launch.read_text()
    assert len(configurations(launch)) == 2


def test_write_creates_the_file_and_refuses_what_it_cannot_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run(tmp_path, "--write", monkeypatch=monkeypatch).exit_code == 0
    launch = tmp_path / ".vscode" / "launch.json"
    assert [config["type"] for config in json.loads(launch.read_text())["configurations"]] == ["debugpy"]

    broken = '{\n  "version": "0.2.0",\n  "configurations": [ { "name": "x" \n'  # cut short
    launch.write_text(broken)
    result = run(tmp_path, "--write", monkeypatch=monkeypatch)
    assert result.exit_code == 1
    assert "was left as it is" in result.stderr and "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1
    assert launch.read_text() == broken  # never destroyed


def test_configurations_key_missing_or_empty(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    launch = tmp_path / ".vscode" / "launch.json"
    launch.parent.mkdir()
    for text in ('{\n    "version": "0.2.0" // no list yet\n}\n', '{"version": "0.2.0", "configurations": []}'):
        launch.write_text(text)
        assert run(tmp_path, "--write", monkeypatch=monkeypatch).exit_code == 0
        assert [config["name"] for config in configurations(launch)] == [DEFAULT_NAME]
    assert run(tmp_path, "--port", "0", monkeypatch=monkeypatch).exit_code == 2


@pytest.mark.parametrize(
    ("after_item", "expected_line"),
    [("} // mine", "}, // mine"), ("}, // mine", "}, // mine"), ("} /* mine */", "}, /* mine */")],
)
def test_write_keeps_a_comment_after_the_last_configuration_on_its_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, after_item: str, expected_line: str
) -> None:
    launch = tmp_path / ".vscode" / "launch.json"
    launch.parent.mkdir()
    launch.write_text(
        '{\n    "configurations": [\n        {\n            "name": "mine"\n        ' + after_item + "\n    ]\n}\n"
    )
    assert run(tmp_path, "--local", "--write", monkeypatch=monkeypatch).exit_code == 0
    lines = launch.read_text().splitlines()
    assert lines[4] == "        " + expected_line  # the user's comment did not move to our configuration
    assert [c["name"] for c in configurations(launch)] == ["mine", "score-shim: attach to serve on this machine"]
