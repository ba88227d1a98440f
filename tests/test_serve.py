"""`score-shim serve`: the real server on 127.0.0.1, a URL to score, a clean stop."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests._server import free_port, parse_lines, wait_for

pytestmark = pytest.mark.server


def serve(args: list[str], log_dir: Path, **env: str) -> tuple[subprocess.Popen[bytes], Path, Path]:
    out, err = log_dir / f"serve-{len(list(log_dir.iterdir()))}.out", log_dir / "serve.err"
    process = subprocess.Popen(
        [sys.executable, "-m", "shim", "serve", *args],
        stdout=out.open("wb"),
        stderr=err.open("wb"),
        env={**os.environ, "SCORE_SHIM_LOG_FORMAT": "json", **env},
        start_new_session=True,
    )
    return process, out, err


def healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_serves_prints_the_url_and_stops_cleanly(scripts: Path, log_dir: Path, stop_signal: int) -> None:
    port = free_port()
    process, out, err = serve([str(scripts / "plain.py"), "--port", str(port)], log_dir)
    try:
        assert wait_for(lambda: f"http://127.0.0.1:{port}/score" in err.read_text(), timeout=60), err.read_text()
        response = httpx.post(
            f"http://127.0.0.1:{port}/score", content=b'{"x": [1]}', headers={"x-request-id": "serve-1"}
        )
        assert response.json()["doubled"] == [2]
        process.send_signal(stop_signal)
        assert process.wait(timeout=40) == 0
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert "stopped" in err.read_text()
    assert not healthy(port)  # the server went with it
    events, _ = parse_lines(out.read_text())
    assert any(e["event"] == "shim.run.ok" and e.get("request_id") == "serve-1" for e in events)
    assert any(e["event"] == f"Listening at: http://127.0.0.1:{port} ({e['pid']})" for e in events)


def test_no_shim_serves_the_bare_server(scripts: Path, log_dir: Path) -> None:
    port = free_port()
    process, out, err = serve([str(scripts / "plain.py"), "--port", str(port), "--no-shim"], log_dir)
    try:
        assert wait_for(lambda: healthy(port), timeout=60), err.read_text()
        assert httpx.post(f"http://127.0.0.1:{port}/score", content=b"{}").status_code == 200
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=40) == 0
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert "WITHOUT the shim" in err.read_text()
    assert "shim.run.ok" not in out.read_text()


def test_init_failure_exits_3_and_says_where_to_look(scripts: Path, log_dir: Path) -> None:
    process, out, err = serve([str(scripts / "init_fails.py"), "--port", str(free_port())], log_dir)
    assert process.wait(timeout=60) == 3
    assert "shim.init.failed" in err.read_text()
    assert "shim.init.failed" in out.read_text()


def test_port_in_use_is_a_one_line_error(scripts: Path, log_dir: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        process, _, err = serve([str(scripts / "plain.py"), "--port", str(port)], log_dir)
        assert process.wait(timeout=30) == 1
    text = err.read_text()
    assert f"port {port} on 127.0.0.1 is already in use" in text
    assert "Traceback" not in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.py"], "missing.py: no such file"),
        (["{scripts}/plain.py", "--model-dir", "/no/such/models"], "--model-dir /no/such/models: no such directory"),
        (["{scripts}/plain.py", "--port", "99999"], "99999 is not in the range 1<=x<=65535"),
    ],
)
def test_bad_arguments_are_one_line_errors(scripts: Path, log_dir: Path, args: list[str], message: str) -> None:
    process, _, err = serve([a.format(scripts=scripts) for a in args], log_dir)
    assert process.wait(timeout=30) in (1, 2)
    text = err.read_text()
    assert message in text and "Traceback" not in text
