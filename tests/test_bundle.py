"""`score-shim bundle`: the shim inside the deployment's code folder, for images that cannot be rebuilt.

The "done when" test serves a bundled code folder with the real server from a virtual environment that has
azureml-inference-server-http but neither score-shim nor structlog (created under
``.cache/bundle-server-venv/<python version>`` on first use and reused while it works: about 15 s here), and
compares every answer with the bare script's. The others run the command on real folders.
"""

from __future__ import annotations

import ast
import json
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from click.testing import CliRunner, Result

from shim import __version__
from shim.cli import cli
from shim.cli.bundle import ENTRY, FOLDER, MARKER
from shim.cli.serve import ServeOptions, server_environment, stop, wait_until_healthy
from tests._server import free_port, parse_lines

REPO = Path(__file__).resolve().parent.parent
SHIM_SOURCE = REPO / "shim"

SCORE = """\
import json

ready = False


def init():
    global ready
    ready = True


def run(raw_data):
    data = json.loads(raw_data)
    if data.get("fail"):
        raise ValueError("asked to fail")
    return {"doubled": data["x"] * 2, "ready": ready}
"""

SCORE_WITH_HELPER = """\
import json

from helper import double

model = None


def init():
    global model
    model = "loaded"


def run(raw_data):
    data = json.loads(raw_data)
    if data.get("fail"):
        raise ValueError("asked to fail")
    return {"doubled": double(data["x"]), "model": model}
"""

HELPER = "def double(value):\n    return value * 2\n"


def code_folder(parent: Path, *, helper: bool = True, name: str = "onlinescoring") -> Path:
    code = parent / name
    code.mkdir()
    (code / "score.py").write_text(SCORE_WITH_HELPER if helper else SCORE)
    if helper:
        (code / "helper.py").write_text(HELPER)
    return code


def bundle(*args: str) -> Result:
    return CliRunner().invoke(cli, ["bundle", *args], catch_exceptions=False)


def listing(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` with its content: to show that nothing was written."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def bundled(code: Path) -> set[str]:
    return {p.relative_to(code / FOLDER).as_posix() for p in (code / FOLDER).rglob("*")}


# -- what is written ---------------------------------------------------------------------------------------


def test_writes_the_runtime_its_dependencies_and_the_entry(tmp_path: Path) -> None:
    code = code_folder(tmp_path)
    result = bundle(str(code))
    assert result.exit_code == 0, result.output
    files = bundled(code)

    # The runtime parts of the shim, file for file, and nothing of the terminal's code.
    runtime = {"__init__.py", "_version.py", "settings.py"}
    for part in ("stream", "models", "runtime"):
        runtime |= {p.relative_to(SHIM_SOURCE).as_posix() for p in (SHIM_SOURCE / part).rglob("*.py")}
    assert {f.removeprefix("shim/") for f in files if f.startswith("shim/") and f.endswith(".py")} == runtime
    assert not [f for f in files if f.startswith(("shim/cli", "shim/logs", "shim/deploy", "click"))]
    assert "shim/__main__.py" not in files
    assert not [f for f in files if "__pycache__" in f or f.endswith(".pyc")]

    assert {"score_wrappers/__init__.py", "score_wrappers/entry.py", "score_wrappers/logging.json"} <= files
    assert "structlog/__init__.py" in files and "typing_extensions.py" in files
    for name in ("structlog", "typing_extensions"):
        [info] = [f for f in files if re.fullmatch(rf"{name}-[^/]+\.dist-info", f)]
        assert f"{info}/METADATA" in files
        assert [f for f in files if f.startswith(f"{info}/") and "LICENSE" in f.upper()], f"{name}'s licence"
    assert (code / ENTRY).is_file()
    assert sorted(p.name for p in code.iterdir()) == sorted([FOLDER, ENTRY, "score.py", "helper.py"])
    # As mkdir and open make them (not tempfile's private 0700/0600): a container's other user reads them.
    umask = os.umask(0)
    os.umask(umask)
    assert (code / FOLDER).stat().st_mode & 0o777 == 0o777 & ~umask
    assert (code / ENTRY).stat().st_mode & 0o777 == 0o666 & ~umask


def test_bundle_json_says_what_is_in_it(tmp_path: Path) -> None:
    code = code_folder(tmp_path)
    (code / "src").mkdir()
    (code / "src" / "main.py").write_text(SCORE)
    assert bundle(str(code), "--scoring-script", "src/main.py").exit_code == 0
    manifest = json.loads((code / FOLDER / "BUNDLE.json").read_text())
    from importlib.metadata import version

    assert manifest["score_shim"] == __version__
    assert manifest["scoring_script"] == "src/main.py" and manifest["entry"] == ENTRY
    assert manifest["distributions"] == {
        "structlog": version("structlog"),
        "typing_extensions": version("typing_extensions"),
    }


def test_the_entry_is_short_marked_and_defines_only_init_and_run(tmp_path: Path) -> None:
    code = code_folder(tmp_path)
    bundle(str(code))
    text = (code / ENTRY).read_text()
    assert text.startswith(f"{MARKER} (score-shim {__version__})")
    assert "To remove: delete _score_shim/ and this file" in text
    assert 'os.environ.setdefault("SCORE_SHIM_ENTRY_SCRIPT", os.path.join(_here, "score.py"))' in text
    assert "sys.path.append(_bundle)" in text and "sys.path.insert" not in text
    assert text.rstrip().endswith("from score_wrappers.entry import init, run  # noqa: E402, F401")
    assert "driver_module" not in text and len(text.splitlines()) < 20
    compile(text, ENTRY, "exec")


ISOLATED = """\
import importlib.metadata, importlib.util, json, sys
sys.path.append(sys.argv[1])
import shim, shim.runtime.entry, structlog
print(json.dumps({
    "shim": shim.__file__,
    "structlog": structlog.__file__,
    "structlog_version": importlib.metadata.version("structlog"),
    "click": importlib.util.find_spec("click") is not None,
    "terminal": sorted(m for m in sys.modules if m.startswith(("shim.cli", "shim.logs", "shim.deploy", "click"))),
}))
"""


def test_the_bundle_imports_on_the_standard_library_alone(tmp_path: Path) -> None:
    # -I -S: no site-packages at all (no structlog, no click, no installed score-shim), only the bundle.
    code = code_folder(tmp_path)
    bundle(str(code))
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", ISOLATED, str(code / FOLDER)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found["shim"].startswith(str(code / FOLDER)) and found["structlog"].startswith(str(code / FOLDER))
    assert found["click"] is False and found["terminal"] == []
    from importlib.metadata import version

    assert found["structlog_version"] == version("structlog")


#: As a managed endpoint loads the scoring script: AML_APP_ROOT and the code folder on sys.path (aml_blueprint),
#: the entry script relative to AML_APP_ROOT, imported under the name "entry_module" (user_script.load_script).
LOAD_AS_THE_SERVER_DOES = """\
import importlib.util, json, os, sys
root = os.environ["AML_APP_ROOT"]
sys.path.append(root)
sys.path.append(os.path.join(root, os.environ["AZUREML_SOURCE_DIRECTORY"]))
spec = importlib.util.spec_from_file_location("entry_module", os.path.join(root, os.environ["AZUREML_ENTRY_SCRIPT"]))
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
module.init()
import shim, structlog
print(json.dumps({
    "result": module.run(raw_data='{"x": 21}'),
    "entry_script": os.environ["SCORE_SHIM_ENTRY_SCRIPT"],
    "last_path": sys.path[-1],
    "shim": shim.__file__,
    "structlog": structlog.__file__,
    "names": sorted(n for n in vars(module) if not n.startswith("__")),
}))
"""


@pytest.mark.parametrize("explicit", [None, "score.py"], ids=["default-absolute", "deployment-sets-relative"])
def test_the_entry_loads_the_script_and_the_environments_packages_win(tmp_path: Path, explicit: str | None) -> None:
    code = code_folder(tmp_path)
    bundle(str(code))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SCORE_SHIM_", "AML_APP_ROOT", "AZUREML_"))}
    env.update(
        AML_APP_ROOT=str(tmp_path),  # /var/azureml-app: the code folder is below it, as on a managed endpoint
        AZUREML_SOURCE_DIRECTORY=code.name,
        AZUREML_ENTRY_SCRIPT=f"{code.name}/{ENTRY}",
        SCORE_SHIM_LOG_FORMAT="json",
    )
    if explicit is not None:
        env["SCORE_SHIM_ENTRY_SCRIPT"] = explicit  # found beside the server's entry script (the loader's rule)
    done = subprocess.run(
        [sys.executable, "-c", LOAD_AS_THE_SERVER_DOES],
        capture_output=True,
        text=True,
        cwd=tmp_path,  # not the code folder: the script is not found through the working directory
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.splitlines()[-1])
    assert found["result"] == {"doubled": 42, "model": "loaded"}
    assert found["entry_script"] == (explicit or str(code / "score.py"))
    assert found["last_path"] == str(code / FOLDER)
    # This Python has score-shim and structlog installed: they win over the bundled copies (appended, not inserted).
    assert not found["shim"].startswith(str(code)) and not found["structlog"].startswith(str(code))
    assert found["names"] == ["_bundle", "_here", "init", "os", "run", "sys"]


# -- running it again ------------------------------------------------------------------------------------


def test_a_second_run_replaces_the_bundle_in_place(tmp_path: Path) -> None:
    code = code_folder(tmp_path)
    first = bundle(str(code))
    assert first.stdout.startswith(f"bundled score-shim {__version__} into ")
    (code / FOLDER / "stale.txt").write_text("from an older bundle")
    (code / ENTRY).write_text((code / ENTRY).read_text() + "# edited by hand\n")
    before = listing(code)

    again = bundle(str(code))
    assert again.exit_code == 0, again.output
    assert again.stdout.startswith(f"updated the score-shim {__version__} bundle in ")
    assert not (code / FOLDER / "stale.txt").exists()
    assert "edited by hand" not in (code / ENTRY).read_text()
    after = listing(code)
    assert set(after) == set(before) - {f"{FOLDER}/stale.txt"}
    # Nothing left beside it: no temporary folder or file.
    assert sorted(p.name for p in code.iterdir()) == sorted([FOLDER, ENTRY, "score.py", "helper.py"])


def test_a_bundle_from_another_version_is_replaced_and_said_so(tmp_path: Path) -> None:
    code = code_folder(tmp_path)
    bundle(str(code))
    manifest = code / FOLDER / "BUNDLE.json"
    manifest.write_text(manifest.read_text().replace(f'"score_shim": "{__version__}"', '"score_shim": "0.0.9"'))
    entry = code / ENTRY
    entry.write_text(entry.read_text().replace(f"(score-shim {__version__})", "(score-shim 0.0.9)"))

    result = bundle(str(code))
    assert result.exit_code == 0, result.output
    assert f"replaced the score-shim 0.0.9 bundle with {__version__}" in result.stdout
    assert json.loads(manifest.read_text())["score_shim"] == __version__
    assert f"(score-shim {__version__})" in entry.read_text()


def test_a_score_shim_entry_of_the_users_own_is_never_overwritten(tmp_path: Path) -> None:
    code = code_folder(tmp_path)
    (code / ENTRY).write_text("# my own file\nfrom score import init, run\n")
    before = listing(code)
    result = bundle(str(code))
    assert result.exit_code == 2
    assert result.stdout == "" and len(result.stderr.strip().splitlines()) == 1
    assert "was not written by score-shim bundle" in result.stderr
    assert listing(code) == before and not (code / FOLDER).exists()


def test_a_folder_of_the_users_own_named_like_the_bundle_is_left_alone(tmp_path: Path) -> None:
    code = code_folder(tmp_path)
    (code / FOLDER).mkdir()
    (code / FOLDER / "notes.txt").write_text("mine")
    before = listing(code)
    result = bundle(str(code))
    assert result.exit_code == 2 and "is not a score-shim bundle" in result.stderr
    assert listing(code) == before


# -- bad input: one line, exit 2, nothing written -----------------------------------------------------------


BAD_INPUT = {
    "no-such-folder": (["missing"], "missing: no such folder"),
    "folder-is-a-file": (["onlinescoring/score.py"], "is a file: give the folder that holds it"),
    "no-such-script": (["onlinescoring", "--scoring-script", "main.py"], "main.py: no such file in"),
    "not-python": (["onlinescoring", "--scoring-script", "notes.txt"], "is not a .py file"),
    "outside": (["onlinescoring", "--scoring-script", "../outside.py"], "is outside"),
    "absolute-outside": (["onlinescoring", "--scoring-script", "{tmp}/outside.py"], "is outside"),
    "the-entry-itself": (["onlinescoring", "--scoring-script", ENTRY], "is the bundle's own file"),
    "inside-the-bundle": (["onlinescoring", "--scoring-script", f"{FOLDER}/x.py"], "is the bundle's own file"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUT))
def test_bad_input_is_one_line_exit_2_and_writes_nothing(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = code_folder(tmp_path, helper=False)
    (code / "notes.txt").write_text("not a script")
    (tmp_path / "outside.py").write_text(SCORE)
    monkeypatch.chdir(tmp_path)
    args, expected = BAD_INPUT[case]
    before = listing(tmp_path)
    result = bundle(*(arg.replace("{tmp}", str(tmp_path)) for arg in args))
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("Error: ") and expected in line, line
    assert listing(tmp_path) == before


def test_the_default_script_is_score_py_and_a_missing_one_names_the_scripts_there(tmp_path: Path) -> None:
    code = tmp_path / "code"
    code.mkdir()
    (code / "main.py").write_text(SCORE)
    result = bundle(str(code))
    assert result.exit_code == 2
    assert "--scoring-script score.py: no such file" in result.stderr and "It holds: main.py." in result.stderr
    assert bundle(str(code), "--scoring-script", "main.py").exit_code == 0


# -- what it prints --------------------------------------------------------------------------------------


def yaml_block(output: str) -> str:
    """The printed ``code_configuration`` block, as the user copies it."""
    lines = output.splitlines()
    start = lines.index("code_configuration:")
    end = next(i for i in range(start + 1, len(lines)) if not lines[i].startswith("  "))
    return "\n".join(lines[start:end]) + "\n"


def test_the_printed_yaml_change_loads_with_azure_ai_ml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    load_online_deployment = pytest.importorskip("azure.ai.ml").load_online_deployment
    code_folder(tmp_path)
    monkeypatch.chdir(tmp_path)
    result = bundle("onlinescoring")
    assert result.exit_code == 0, result.output
    block = yaml_block(result.stdout)
    assert block == (
        "code_configuration:\n"
        "  code: ./onlinescoring  # unchanged\n"
        "  scoring_script: score_shim_entry.py  # was score.py\n"
    )
    change = yaml.safe_load(block)
    assert change == {"code_configuration": {"code": "./onlinescoring", "scoring_script": ENTRY}}

    deployment = {
        "$schema": "https://azuremlschemas.azureedge.net/latest/managedOnlineDeployment.schema.json",
        "name": "blue",
        "endpoint_name": "my-endpoint",
        "model": "azureml:my-model:1",
        "environment": {"image": "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04:latest"},
        "instance_type": "Standard_DS3_v2",
        "instance_count": 1,
        **change,
    }
    (tmp_path / "blue-deployment.yml").write_text(yaml.safe_dump(deployment, sort_keys=False))
    loaded = load_online_deployment(tmp_path / "blue-deployment.yml")
    assert loaded.code_configuration.scoring_script == ENTRY
    assert Path(loaded.code_configuration.code).resolve() == (tmp_path / "onlinescoring").resolve()
    assert (Path(loaded.code_configuration.code) / loaded.code_configuration.scoring_script).is_file()

    assert (
        "To remove: delete onlinescoring/_score_shim and onlinescoring/score_shim_entry.py and set scoring_script "
        "back to score.py." in result.stdout
    )
    assert re.search(r"\(\d+ kB in \d+ files, with structlog [\d.]+, typing_extensions [\d.]+\)", result.stdout)


def test_an_ignore_file_that_leaves_the_bundle_out_is_warned_about(tmp_path: Path) -> None:
    pytest.importorskip("azure.ai.ml")  # the upload's own matcher
    code = code_folder(tmp_path)
    (code / ".gitignore").write_text("_*\n*.json\n")
    result = bundle(str(code))
    assert result.exit_code == 0, result.output
    [warning] = result.stderr.strip().splitlines()
    assert warning.startswith(f"warning: {code}/.gitignore leaves ") and "_score_shim/BUNDLE.json" in warning
    assert "add these two lines at its end: !_score_shim  and  !score_shim_entry.py" in warning

    # The fix it gives works (checked with azure-ai-ml's own matcher, file by file as the upload does).
    (code / ".gitignore").write_text("_*\n*.json\n!_score_shim\n!score_shim_entry.py\n")
    again = bundle(str(code))
    assert again.exit_code == 0 and again.stderr == ""

    (code / ".gitignore").write_text("*.pkl\n")
    assert bundle(str(code)).stderr == ""


# -- done when: the real server, in an environment without score-shim or structlog ----------------------------

SERVER_VENV = REPO / ".cache" / "bundle-server-venv" / "{}.{}".format(*sys.version_info[:2])
SERVER = "azureml-inference-server-http"  # pinned to nothing: what a user's image would get today
_venv_lock = threading.Lock()


def _venv_python() -> Path:
    return SERVER_VENV / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")


def _probe(python: Path, code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(python), "-c", code], capture_output=True, text=True, cwd=cwd, env=_clean_env(), timeout=120, check=False
    )


def _venv_works() -> bool:
    """The server imports, and neither structlog nor score-shim does (else the test would prove nothing)."""
    if not _venv_python().exists():
        return False
    server = _probe(_venv_python(), "import azureml_inference_server_http.amlserver_linux, flask", SERVER_VENV)
    shim = _probe(_venv_python(), "import importlib.util as u; assert not u.find_spec('structlog')", SERVER_VENV)
    return server.returncode == 0 and shim.returncode == 0


def _clean_env() -> dict[str, str]:
    """This environment minus what would let another Python see this repository or the shim's settings."""
    dropped = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP", "PYTHONSAFEPATH")
    return {k: v for k, v in os.environ.items() if k not in dropped and not k.startswith(("SCORE_SHIM_", "AZUREML_"))}


@pytest.fixture(scope="module")
def server_python() -> Path:
    """A virtual environment with azureml-inference-server-http only (pinned to nothing): made once, then reused."""
    with _venv_lock:
        if not _venv_works():
            SERVER_VENV.parent.mkdir(parents=True, exist_ok=True)
            subprocess.run([sys.executable, "-m", "venv", "--clear", str(SERVER_VENV)], check=True, timeout=120)
            install = subprocess.run(
                [str(_venv_python()), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", SERVER],
                capture_output=True,
                text=True,
                timeout=900,
                check=False,
            )
            if install.returncode != 0 or not _venv_works():
                pytest.fail(f"could not make {SERVER_VENV}:\n{install.stderr[-3000:]}")
        return _venv_python()


#: azmlinfsrv's own start-up (as ``shim.cli.server_process`` runs it), bound to 127.0.0.1 instead of 0.0.0.0.
START_SERVER = """\
import os, sys
from azureml_inference_server_http import amlserver_linux
from azureml_inference_server_http.constants import PACKAGE_ROOT
from azureml_inference_server_http.log_config import load_logging_config

load_logging_config(PACKAGE_ROOT)
sys.path.append(os.environ["AML_APP_ROOT"])
sys.argv = ["azmlinfsrv"]
amlserver_linux.run("127.0.0.1", int(os.environ["SERVER_PORT"]), int(os.environ["WORKER_COUNT"]))
"""


@contextmanager
def served(python: Path, code: Path, entry: str, logs: Path) -> Iterator[tuple[str, Path]]:
    """The real server of ``python``'s environment for ``code/entry``; its URL and its stdout's file."""
    port = free_port()
    start = logs / "start_server.py"  # in a folder of its own: sys.path[0] is where it lies
    start.write_text(START_SERVER)
    base = {**_clean_env(), "AML_APP_ROOT": str(code)}
    env = server_environment(ServeOptions(script=code / entry, port=port, shim=False), base=base)
    stdout, stderr = logs / f"{Path(entry).stem}-{port}.out", logs / f"{Path(entry).stem}-{port}.err"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = subprocess.Popen(
            [str(python), str(start)], env=env, cwd=code, stdout=out, stderr=err, start_new_session=True
        )
    try:
        if not wait_until_healthy(process, port, 60):
            text = stdout.read_text(errors="replace") + stderr.read_text(errors="replace")
            raise AssertionError(f"{entry} did not start (exit {process.poll()}):\n{text[-4000:]}")
        yield f"http://127.0.0.1:{port}", stdout
    finally:
        stop(process, grace=20)
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)


REQUESTS: list[tuple[str, str, dict[str, Any] | None, str]] = [
    ("POST", "/score", {"x": 21}, "bundle-ok"),
    ("POST", "/score", {"fail": True}, "bundle-fail"),
    ("GET", "/", None, "bundle-health"),
    ("GET", "/score", None, "bundle-get-score"),
]


def answers(url: str, kind: str) -> list[tuple[int, str, str | None]]:
    """Status, body and the server's run-failed header of every request in `REQUESTS`."""
    found = []
    with httpx.Client(base_url=url, timeout=30) as client:
        for method, path, body, request_id in REQUESTS:
            headers = {"x-request-id": f"{request_id}-{kind}"}
            response = client.request(method, path, json=body, headers=headers)
            found.append((response.status_code, response.text, response.headers.get("x-ms-run-function-failed")))
    return found


@pytest.mark.server
@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.parametrize("kind", ["plain", "helper"])
def test_a_bundled_code_folder_serves_in_an_image_without_the_shim(
    kind: str, tmp_path: Path, server_python: Path
) -> None:
    code = code_folder(tmp_path, helper=kind == "helper")
    logs = tmp_path / "logs"
    logs.mkdir()
    for module in ("structlog", "shim", "score_wrappers"):
        missing = _probe(server_python, f"import {module}", code)
        assert missing.returncode != 0 and "No module named" in missing.stderr, module

    with served(server_python, code, "score.py", logs) as (url, _):
        bare = answers(url, kind)
    result = bundle(str(code))
    assert result.exit_code == 0, result.output
    with served(server_python, code, ENTRY, logs) as (url, stdout):
        shimmed = answers(url, kind)

    assert shimmed == bare
    assert [status for status, _, _ in bare] == [200, 500, 200, 500]
    assert json.loads(bare[0][1])["doubled"] == 42 and bare[1][2] == "True"

    events, _ = parse_lines(stdout.read_text(errors="replace"))
    names = [event.get("event") for event in events]
    assert "shim.init.start" in names and "shim.init.ok" in names, names
    # The server's own lines after the entry's import are in the stream too (the few before it stay text).
    assert any(str(name).startswith("Scoring timeout is set to") for name in names), names
    [start] = [event for event in events if event.get("event") == "shim.init.start"]
    assert start["shim_version"] == __version__ and start["entry_script"] == str(code / "score.py")
    [ok] = [e for e in events if e.get("event") == "shim.run.ok" and e.get("request_id") == f"bundle-ok-{kind}"]
    assert ok["duration_ms"] >= 0
    failed = {e["request_id"]: e for e in events if e.get("event") == "shim.run.failed"}
    # GET /score calls run() too, with an empty body: it fails in both servers alike.
    assert set(failed) == {f"bundle-fail-{kind}", f"bundle-get-score-{kind}"}
    assert failed[f"bundle-fail-{kind}"]["error"]["type"] == "ValueError"
    assert failed[f"bundle-fail-{kind}"]["error"]["message"] == "asked to fail"
    assert failed[f"bundle-fail-{kind}"]["error"]["where"]["file"] == str(code / "score.py")


def test_a_script_name_with_a_newline_cannot_write_code_into_the_entry(tmp_path: Path) -> None:
    code = tmp_path / "onlinescoring"
    code.mkdir()
    name = 'x\nimport os; os.system("touch pwned")\n#.py'
    (code / name).write_text("def init():\n    pass\n\ndef run(data):\n    return data\n")
    result = CliRunner().invoke(cli, ["bundle", str(code), "--scoring-script", name])
    assert result.exit_code == 0, result.output
    entry = (code / "score_shim_entry.py").read_text()
    tree = ast.parse(entry)
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Attribute) and node.attr == "system"]
    assert not calls, entry  # the name is data in a string literal and escaped in the comments, never code
