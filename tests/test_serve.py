"""`score-shim serve`: the real server on 127.0.0.1, a URL to score, a clean stop."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from shim.cli.serve import ServeOptions, server_command, server_environment
from shim.cli.server_process import PARENT_PID_ENV
from tests._server import free_port, parse_lines, wait_for

pytestmark = pytest.mark.server


def _default_hangup() -> None:
    signal.signal(signal.SIGHUP, signal.SIG_DFL)


def serve(
    args: list[str], log_dir: Path, *, prefix: tuple[str, ...] = (), **env: str
) -> tuple[subprocess.Popen[bytes], Path, Path]:
    out, err = log_dir / f"serve-{len(list(log_dir.iterdir()))}.out", log_dir / "serve.err"
    process = subprocess.Popen(
        [*prefix, sys.executable, "-m", "shim", "serve", *args],
        stdout=out.open("wb"),
        stderr=err.open("wb"),
        env={**os.environ, "SCORE_SHIM_LOG_FORMAT": "json", **env},
        start_new_session=True,
        # As from a terminal: a test run under nohup would hand serve an ignored SIGHUP, which it keeps ignored.
        preexec_fn=_default_hangup,
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


def test_init_failure_exits_3_and_its_last_lines_say_why(scripts: Path, log_dir: Path, tmp_path: Path) -> None:
    model_dir = tmp_path / "models" / "iris" / "1"
    model_dir.mkdir(parents=True)
    (model_dir / "modle.pkl").write_bytes(b"a model")  # init_fails.py opens model.pkl: a typo in the file's name
    process, out, err = serve(
        [str(scripts / "init_fails.py"), "--port", str(free_port()), "--model-dir", str(model_dir)], log_dir
    )
    assert process.wait(timeout=60) == 3
    assert "shim.init.failed" in out.read_text()
    last = err.read_text().splitlines()[-5:]  # what a person reads when the command ends
    assert last[0] == "score-shim: init() failed, so the server stopped (exit code 3; on Azure: a crash loop)"
    assert last[1].startswith("score-shim:   FileNotFoundError: [Errno 2] No such file or directory:")
    assert last[2].endswith("init_fails.py:8 in init")
    assert last[3].startswith("score-shim:   why: ") and "modle.pkl" in last[3]
    assert last[4].startswith(f"score-shim:   fix it, then: score-shim check {scripts / 'init_fails.py'} --model-dir")


def test_debug_echoes_errors_in_responses_and_says_so(scripts: Path, log_dir: Path) -> None:
    port = free_port()
    process, _, err = serve([str(scripts / "plain.py"), "--port", str(port), "--debug"], log_dir)
    try:
        assert wait_for(lambda: healthy(port), 60), err.read_text()
        answer = httpx.post(f"http://127.0.0.1:{port}/score", json={"fail": "on purpose"}, timeout=30)
        assert answer.status_code == 500 and "asked to fail: on purpose" in answer.text
        assert "errors are echoed in responses (--debug)" in err.read_text()
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=40)
    plain = serve([str(scripts / "plain.py"), "--no-shim", "--debug"], log_dir)[0]
    assert plain.wait(timeout=30) == 2


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


# -- issue 12, finding 7: the server never outlives `serve` ------------------------------------------


def live_processes_in_group(group: int) -> list[int]:
    """The processes of process group ``group`` that have not exited (zombies do not count)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()  # after "pid (comm)": state, ppid, pgrp, ...
        if int(fields[2]) == group and fields[0] != "Z":
            found.append(int(entry.name))
    return found


def serving(scripts: Path, log_dir: Path, *extra: str) -> tuple[subprocess.Popen[bytes], Path, Path, int, int]:
    """`score-shim serve` answering on a free port, and the process group of the server it started."""
    port = free_port()
    process, out, err = serve([str(scripts / "plain.py"), "--port", str(port), *extra], log_dir)
    assert wait_for(lambda: f"http://127.0.0.1:{port}/score" in err.read_text(), timeout=60), err.read_text()
    assert httpx.post(f"http://127.0.0.1:{port}/score", content=b'{"x": [1]}').json()["doubled"] == [2]
    listening = [e for e in parse_lines(out.read_text())[0] if str(e.get("event")).startswith("Listening at:")]
    server = int(listening[0]["pid"])  # gunicorn's master: serve's child, leader of its own session
    assert server != process.pid and os.getpgid(server) == server
    return process, out, err, port, server


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process table from /proc")
def test_finding_7_serve_stops_on_sighup(scripts: Path, log_dir: Path) -> None:
    process, _, err, port, server = serving(scripts, log_dir, "--workers", "2")
    try:
        assert len(live_processes_in_group(server)) >= 3  # the master and its two workers
        process.send_signal(signal.SIGHUP)  # the terminal closed (or tmux kill-session)
        assert process.wait(timeout=40) == 0
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            if not wait_for(lambda: not live_processes_in_group(server), timeout=1):
                os.killpg(server, signal.SIGKILL)
    assert "score-shim: stopped" in err.read_text()  # the same stop as Ctrl-C
    assert not healthy(port)
    assert wait_for(lambda: not live_processes_in_group(server), timeout=10), live_processes_in_group(server)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process table from /proc")
def test_finding_7_server_stops_when_serve_is_killed(scripts: Path, log_dir: Path) -> None:
    process, out, _, port, server = serving(scripts, log_dir, "--workers", "2")
    try:
        process.kill()  # SIGKILL: serve cannot forward anything
        process.wait(timeout=10)
        assert wait_for(lambda: not healthy(port), timeout=40), "the server still answers after serve was killed"
        assert wait_for(lambda: not live_processes_in_group(server), timeout=40), live_processes_in_group(server)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server, signal.SIGKILL)
    # A graceful stop (SIGTERM), as with Ctrl-C: gunicorn says so.
    assert any(e.get("event") == "Handling signal: term" for e in parse_lines(out.read_text())[0])


def ignored_signals(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("SigIgn:")), 16)


@pytest.mark.skipif(shutil.which("nohup") is None or not Path("/proc/self/status").exists(), reason="nohup, /proc")
def test_finding_7_nohup_still_outlives_the_terminal(scripts: Path, log_dir: Path) -> None:
    """Stopping on SIGHUP must not undo `nohup score-shim serve ...`, which asks for the opposite."""
    port = free_port()
    process, _, err = serve([str(scripts / "plain.py"), "--port", str(port)], log_dir, prefix=("nohup",))
    try:
        assert wait_for(lambda: f"http://127.0.0.1:{port}/score" in err.read_text(), timeout=60), err.read_text()
        assert ignored_signals(process.pid) & (1 << (signal.SIGHUP - 1))  # still ignored once serve is up
        process.send_signal(signal.SIGHUP)
        assert httpx.post(f"http://127.0.0.1:{port}/score", content=b'{"x": [2]}').json()["doubled"] == [4]
        assert process.poll() is None and "stopped" not in err.read_text()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=40) == 0
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert not healthy(port)


def test_finding_7_server_does_not_start_when_serve_is_already_gone(scripts: Path) -> None:
    """The race: serve died before its child could ask to be stopped with it; the child sees a new parent."""
    gone = subprocess.Popen([sys.executable, "-c", "pass"])  # a pid that is not the child's parent
    gone.wait(timeout=30)
    port = free_port()
    env = server_environment(ServeOptions(script=scripts / "plain.py", port=port))
    env[PARENT_PID_ENV] = str(gone.pid)
    child = subprocess.run(server_command(), env=env, capture_output=True, text=True, timeout=60)
    assert child.returncode == 1
    assert "serve has gone; the server does not start" in child.stderr
    assert not healthy(port)


WATCHED = """
import os, subprocess, sys, time
from shim.cli.server_process import _watch_parent
if sys.argv[1:] == ["grandchild"]:
    _watch_parent(os.getppid())
    print(os.getpid(), flush=True)
    time.sleep(60)
else:
    subprocess.Popen([sys.executable, "-c", sys.argv[1], "grandchild"])
    time.sleep(60)
"""


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process table from /proc")
def test_finding_7_without_prctl_a_thread_stops_the_server_when_its_parent_dies() -> None:
    """macOS and the BSDs have no PR_SET_PDEATHSIG: the fallback (a thread watching getppid), run here on Linux."""
    parent = subprocess.Popen(
        [sys.executable, "-c", WATCHED, WATCHED], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        assert parent.stdout is not None
        grandchild = int(parent.stdout.readline())
        assert alive(grandchild)
        parent.kill()
        parent.wait(timeout=10)
        assert wait_for(lambda: not alive(grandchild), timeout=20), "the watched process outlived its parent"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(parent.pid, signal.SIGKILL)
