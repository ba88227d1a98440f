"""Where the shim's microseconds go on the served path, measured through the server's own Flask app.

    .venv-test-3.11/bin/python scripts/profile_request.py                 # the figure and the table
    .venv-test-3.11/bin/python scripts/profile_request.py --json          # the same, as JSON
    .venv-test-3.11/bin/python scripts/profile_request.py --access-lines keep
    .venv-test-3.11/bin/python scripts/profile_request.py --sink devnull --no-orjson --tree /tmp/shim-before

One worker process, set up as gunicorn's sync worker sets it up with the drop-in entry: gunicorn's logger first,
then ``azureml_inference_server_http.server.entry:app`` imported (the server applies the wrapper's ``logging.json``
and loads ``score_wrappers/entry.py``, which starts the shim). Requests are served by calling the app as WSGI the
way ``gunicorn.workers.sync.SyncWorker.handle_request`` does: the app, its body iterated, gunicorn's own access
logger (``glogging.Logger.access``), then ``close()``. The worker's stdout is a pipe drained by ``cat``, as a
container's stdout is a pipe drained by the runtime (the shim takes its lock per line there); ``--sink`` puts it
on /dev/null or a file instead, where a line costs a system call and no more.

The worker serves blocks of requests in turns (the order flips every round), in variants that go from the shim's
full path down to the bare server, one stage of the shim taken away at a time (scripts/_request_stages.py): the
``shim.run.ok`` line's write, its renderer, its redaction, the other processors, the logger call, the shim's
handling of the server's two access records, the ``request_finished`` hook, the wrapper around ``run()``, and
last the shim's logging (the server's text handlers back, the root logger at WARNING): the bare server. Every
request is timed; what a stage costs is the difference of the percentiles of the variants with and without it,
and the µs added per served request is the shim's full path against the bare server. One process for all of
them, so that the comparison does not depend on two processes' memory layout or CPU placement on a busy
machine; a low percentile is the headline (``--percentile``, 10 by default: a busy machine's interruptions land
in the upper ones, while the shim's work shifts them all), the median is printed beside it.

Only what the test extra installs (the server, gunicorn, Flask, werkzeug); ``benchmarks/`` is not used.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BODY = b'{"data": [[1.0, 2.0, 3.0, 4.0]]}'
SCORE_PY = "def init():\n    pass\n\n\ndef run(raw_data):\n    return [len(raw_data)]\n"


# -- the parent: a worker whose stdout is the sink ---------------------------------------------------------------


class Options:
    """What to measure: the blocks, the rounds, the shim's tree and settings, where the lines go."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.requests: int = args.requests
        self.rounds: int = args.rounds
        self.access_lines: str = args.access_lines
        self.sink: str = args.sink
        self.orjson: bool = not args.no_orjson
        self.percentile: int = args.percentile
        self.tree = Path(args.tree or ROOT).resolve()


def _environment(options: Options, app_root: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("SCORE_SHIM_", "AZUREML_"))}
    env.update(
        {
            "AML_APP_ROOT": str(app_root),
            "AZUREML_ENTRY_SCRIPT": str(options.tree / "score_wrappers" / "entry.py"),
            "PROFILE_SHIM_TREE": str(options.tree),
            "PROFILE_SHIM_ORJSON": "1" if options.orjson else "0",
            "SCORE_SHIM_ENTRY_SCRIPT": str(app_root / "score.py"),
            "SCORE_SHIM_LOG_FORMAT": "json",
            "SCORE_SHIM_ACCESS_LINES": options.access_lines,
        }
    )
    return env


def measure(options: Options) -> dict[str, Any]:
    """Run the worker with its stdout on the sink; its result comes back on a pipe of its own."""
    with tempfile.TemporaryDirectory() as folder:
        app_root = Path(folder)
        (app_root / "score.py").write_text(SCORE_PY, encoding="utf-8")
        read_fd, write_fd = os.pipe()
        command = [sys.executable, __file__, "--worker", str(write_fd)]
        command += [str(value) for value in (options.requests, options.rounds, options.percentile)]
        reader = None
        if options.sink == "pipe":  # a container's stdout: a pipe its runtime drains
            reader = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
            sink: Any = reader.stdin
        else:
            sink = open(os.devnull if options.sink == "devnull" else app_root / "lines.log", "wb")  # noqa: SIM115
        errors = app_root / "worker.err"
        with sink, errors.open("wb") as error_file:
            worker = subprocess.Popen(
                command,
                stdout=sink,
                stderr=error_file,
                env=_environment(options, app_root),
                cwd=folder,
                pass_fds=(write_fd,),
            )
            os.close(write_fd)
            with os.fdopen(read_fd) as answer:
                text = answer.read()
            code = worker.wait()
        if reader is not None:
            reader.wait()
        if code or not text:
            raise RuntimeError(f"the worker failed (exit {code}):\n{errors.read_text(errors='replace')[-3000:]}")
    result: dict[str, Any] = json.loads(text)
    result.update(access_lines=options.access_lines, sink=options.sink)
    return result


# -- the worker ----------------------------------------------------------------------------------------------------


class _GunicornResponse:
    """What ``gunicorn.glogging.Logger.atoms`` reads of gunicorn's response."""

    def __init__(self, status: str, headers: list[tuple[str, str]], sent: int) -> None:
        self.status, self.headers, self.sent = status, headers, sent


class _GunicornRequest:
    def __init__(self, headers: list[tuple[str, str]]) -> None:
        self.headers = headers


def _server() -> tuple[Any, Any]:
    """The server's app and gunicorn's logger, set up in the order a worker sets them up."""
    from gunicorn.config import Config
    from gunicorn.glogging import Logger

    config = Config()
    config.set("accesslog", "-")  # as azmlinfsrv starts gunicorn (amlserver_linux.py)
    config.set("errorlog", "/dev/null")
    gunicorn_log = Logger(config)
    from azureml_inference_server_http.server.entry import app  # applies the wrapper's logging.json

    return app, gunicorn_log


def make_requests(count: int, first: int) -> list[tuple[dict[str, Any], _GunicornRequest]]:
    """WSGI environs (and gunicorn's view of the request) with ``x-request-id`` ``profile-<n>``."""
    from werkzeug.test import EnvironBuilder

    built = []
    for index in range(first, first + count):
        request_id = f"profile-{index:09d}"
        headers = {"Content-Type": "application/json", "x-request-id": request_id}
        environ = EnvironBuilder(path="/score", method="POST", data=BODY, headers=headers).get_environ()
        environ.update({"RAW_URI": "/score", "REMOTE_ADDR": "127.0.0.1"})
        raw_headers = [("HOST", "localhost"), ("CONTENT-TYPE", "application/json"), ("X-REQUEST-ID", request_id)]
        built.append((environ, _GunicornRequest(raw_headers)))
    return built


def _serve(app: Any, gunicorn_log: Any, environ: dict[str, Any], request: _GunicornRequest) -> None:
    """One request as ``gunicorn.workers.sync.SyncWorker.handle_request`` serves it."""
    from datetime import datetime

    started = datetime.now()
    answer: list[Any] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
        answer[:] = [status, headers]
        return lambda data: None

    body = app(environ, start_response)
    try:
        sent = sum(len(chunk) for chunk in body)
    finally:
        gunicorn_log.access(_GunicornResponse(answer[0], answer[1], sent), request, environ, datetime.now() - started)
        close = getattr(body, "close", None)
        if close is not None:
            close()


def _worker(answer_fd: int, requests: int, rounds: int, percentile: int) -> None:
    sys.path.insert(0, os.environ.get("PROFILE_SHIM_TREE") or str(ROOT))
    sys.path.insert(0, str(ROOT / "scripts"))
    from _request_stages import States, alternate, table

    app, gunicorn_log = _server()
    if os.environ.get("PROFILE_SHIM_ORJSON") == "0":
        from shim.stream import fast_json

        fast_json.enabled = False

    def serve(environ: dict[str, Any], request: Any) -> None:
        _serve(app, gunicorn_log, environ, request)

    for environ, request in make_requests(1000, 10**9):  # warm-up: imports, caches, the watchdog's thread
        serve(environ, request)
    import shim

    timings = alternate(States(app), serve, make_requests, requests, rounds)
    result = {
        "python": sys.version.split()[0],
        "shim": str(Path(shim.__file__).parent.parent),
        "orjson": _orjson_version() if os.environ.get("PROFILE_SHIM_ORJSON") != "0" else "switched off (--no-orjson)",
        "requests_per_block": requests,
        "rounds": rounds,
        "low": table(timings, percentile),
        "median": table(timings, 50),
    }
    with os.fdopen(answer_fd, "w") as answer:
        answer.write(json.dumps(result))


def _orjson_version() -> str | None:
    try:
        import orjson

        return str(orjson.__version__)
    except ImportError:
        return None


# -- the report ----------------------------------------------------------------------------------------------


def _table(result: dict[str, Any]) -> str:
    low, median = result["low"], result["median"]
    p = f"p{low['percentile']}"
    lines = [
        f"Python {result['python']}, shim from {result['shim']}, orjson {result['orjson'] or 'not installed'}, "
        f"SCORE_SHIM_ACCESS_LINES={result['access_lines']}, lines to {result['sink']}",
        f"{result['rounds']} rounds, each a block of {result['requests_per_block']} requests per variant, in turns",
        f"a served request ({p}): bare {low['bare_us']} µs, with the shim {low['shim_us']} µs",
        f"µs added per served request: {low['added']} ({p}), {median['added']} (median)",
        "",
        f"| stage (what taking it away takes off a served request) | µs, {p} | µs, median |",
        "| --- | ---: | ---: |",
    ]
    for (name, value), (_, middle) in zip(low["rows"], median["rows"], strict=True):
        lines.append(f"| {name} | {value:.2f} | {middle:.2f} |")
    lines.append(f"| **the shim's stages** | **{low['shim_total']:.2f}** | **{median['shim_total']:.2f}** |")
    lines.append(
        f"| the bare server's two text lines, which the shim does not write | {low['bare_lines']:.2f} | "
        f"{median['bare_lines']:.2f} |"
    )
    lines.append(f"| **µs added per served request** | **{low['added']:.2f}** | **{median['added']:.2f}** |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--worker", nargs=4, type=int, help=argparse.SUPPRESS)
    parser.add_argument("--percentile", type=int, default=10, help="the headline's percentile (default 10)")
    parser.add_argument("--requests", type=int, default=50, help="requests per block (default 50)")
    parser.add_argument("--rounds", type=int, default=120, help="rounds, each a block per variant (default 120)")
    parser.add_argument("--tree", help="profile the shim of another source tree (e.g. an unpacked `git archive`)")
    parser.add_argument(
        "--sink",
        choices=("pipe", "devnull", "file"),
        default="pipe",
        help="where the worker's stdout goes: a pipe drained by cat (a container's stdout; the default), "
        "/dev/null, or a regular file",
    )
    parser.add_argument("--no-orjson", action="store_true", help="render with the standard library's encoder")
    parser.add_argument("--access-lines", choices=("fold", "keep"), default="fold")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args()
    if args.worker:
        _worker(*args.worker)
        return
    result = measure(Options(args))
    print(json.dumps(result, indent=2) if args.json else _table(result))


if __name__ == "__main__":
    main()
