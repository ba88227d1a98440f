"""``score-shim logs``: lines per second, on the shim's JSON lines and on the bare server's text lines.

A realistic log is written to a temporary folder (what a busy replica writes: mostly successful requests,
some user log lines and health probes, 1 % failing requests with their tracebacks, gunicorn's lines), then
read through the same function the command uses (`shim.logs.summary.read_file`), decoding included. The median
of the rounds is reported. Target: 400,000 lines/s on the JSON lines (issue 15: no slower than before the
field formats). The older images' and the platform's formats (`write_field_log`) are reported, not held to one.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from shim.logs.summary import Summary, read_file

from . import targets

_TRACEBACK = (
    "Traceback (most recent call last):\n"
    '  File "/var/azureml-app/onlinescoring/score.py", line 31, in run\n'
    "    prediction = model.predict(data)\n"
    "                 ^^^^^^^^^^^^^^^^^^^\n"
    '  File "/azureml-envs/azureml_abc/lib/python3.11/site-packages/sklearn/linear_model/_base.py", line 386,'
    " in predict\n"
    "    return self._decision_function(X)\n"
    "ValueError: X has 3 features, but LinearRegression is expecting 10 features as input."
)


_ACCESS = '127.0.0.1 - - [25/Nov/2026:17:27:36 +0000] "{request}" {status} {size} "-" "{agent}"'
_AGENT = "python-requests/2.32.3"


def _ts(i: int) -> str:
    seconds, micro = divmod(i * 1737, 1_000_000)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"2026-11-25T{hours % 24:02d}:{minutes:02d}:{seconds:02d}.{micro:06d}Z"


def _json_line(**fields: Any) -> str:
    return json.dumps(fields) + "\n"


def write_json_log(path: Path, lines: int) -> int:
    """The shim's stream for ``lines`` lines (about); returns the number written."""
    written = 0
    host = "blue-7d9c4b8f5-x2lqz"
    with path.open("w", encoding="utf-8") as out:
        i = 0
        while written < lines:
            i += 1
            ts, rid, pid = _ts(i), f"2b1c{i:08x}-5d3e-4f7a-9b2c-7e1f0a6d{i % 9999:04d}", 40 + i % 4
            if i % 10 == 0:  # a user log line inside the request
                out.write(
                    _json_line(
                        timestamp=ts,
                        level="info",
                        event="scored 12 rows",
                        logger="score",
                        pid=pid,
                        host=host,
                        request_id=rid,
                    )
                )
                written += 1
            if i % 50 == 0:  # the liveness probe
                out.write(
                    _json_line(
                        timestamp=ts,
                        level="info",
                        event=_ACCESS.format(request="GET / HTTP/1.1", status=200, size=7, agent="kube-probe/1.29"),
                        logger="gunicorn.access",
                        http={"method": "GET", "path": "/", "status": 200, "duration_ms": 0.61},
                        pid=pid,
                        host=host,
                    )
                )
                written += 1
            if i % 100 == 0:  # a failing request: the shim's line, the server's three
                error = {
                    "type": "ValueError",
                    "message": "X has 3 features, but LinearRegression is expecting 10",
                    "where": {"file": "/var/azureml-app/onlinescoring/score.py", "line": 31, "function": "run"},
                    "traceback": _TRACEBACK,
                }
                out.write(
                    _json_line(
                        timestamp=ts,
                        level="error",
                        event="shim.run.failed",
                        logger="shim",
                        duration_ms=3.2,
                        input_bytes=58,
                        error=error,
                        pid=pid,
                        host=host,
                        request_id=rid,
                    )
                )
                out.write(
                    _json_line(
                        timestamp=ts,
                        level="error",
                        event="Encountered Exception: " + _TRACEBACK,
                        logger="azmlinfsrv",
                        pid=pid,
                        host=host,
                        request_id=rid,
                    )
                )
                out.write(
                    _json_line(
                        timestamp=ts,
                        level="info",
                        event="POST /score 500 4.102ms 92",
                        logger="azmlinfsrv",
                        pid=pid,
                        host=host,
                        request_id=rid,
                    )
                )
                out.write(
                    _json_line(
                        timestamp=ts,
                        level="info",
                        event=_ACCESS.format(request="POST /score HTTP/1.1", status=500, size=92, agent=_AGENT),
                        logger="gunicorn.access",
                        http={"method": "POST", "path": "/score", "status": 500, "duration_ms": 4.9},
                        request_id=rid,
                        pid=pid,
                        host=host,
                    )
                )
                written += 4
                continue
            out.write(
                _json_line(
                    timestamp=ts,
                    level="info",
                    event="shim.run.ok",
                    logger="shim",
                    duration_ms=round(1.5 + (i * 7919) % 9973 / 1000, 3),
                    input_bytes=58,
                    http={
                        "method": "POST",
                        "path": "/score",
                        "status": 200,
                        "bytes": 38,
                        "duration_ms": round(2.1 + (i * 7919) % 9973 / 1000, 3),
                    },
                    request_id=rid,
                    pid=pid,
                    host=host,
                )
            )
            written += 1
    return written


def _text_ts(i: int) -> str:
    stamp = _ts(i)
    return f"2026-11-25 {stamp[11:19]},{stamp[20:23]}"


def write_text_log(path: Path, lines: int) -> int:
    """The bare server's stream (its text format, gunicorn's access lines, multi-line tracebacks)."""
    written = 0
    with path.open("w", encoding="utf-8") as out:
        i = 0
        while written < lines:
            i += 1
            ts, pid = _text_ts(i), 40 + i % 4
            if i % 10 == 0:
                out.write(f"{ts} I [{pid}] azmlinfsrv.print - scored 12 rows\n")
                written += 1
            if i % 100 == 0:
                out.write(f"{ts} E [{pid}] azmlinfsrv - Encountered Exception: {_TRACEBACK}\n\n")
                out.write(f"{ts} I [{pid}] azmlinfsrv - POST /score 500 4.102ms 92\n")
                written += _TRACEBACK.count("\n") + 3
                status, size = 500, 92
            else:
                out.write(f"{ts} I [{pid}] azmlinfsrv - POST /score 200 {2.1 + (i * 7919) % 9973 / 1000:.3f}ms 38\n")
                written += 1
                status, size = 200, 38
            out.write(
                f'{ts} I [{pid}] gunicorn.access - 127.0.0.1 - - [25/Nov/2026:17:27:43 +0000] "POST /score HTTP/1.1" '
                f'{status} {size} "-" "python-requests/2.32.3"\n'
            )
            written += 1
    return written


_DESCRIBE = """\
Name:         blue-7d9c4b8f5-x2lqz
Namespace:    azureml-workspace
Containers:
  inference-server:
    State:          Waiting
      Reason:       CrashLoopBackOff
    Last State:     Terminated
      Reason:       OOMKilled
      Exit Code:    137
    Ready:          False
    Restart Count:  7
    Limits:
      memory:  1Gi
Events:
  Type     Reason     Age                 From     Message
  ----     ------     ----                ----     -------
  Warning  Unhealthy  3m (x12 over 9m)    kubelet  Liveness probe failed: HTTP probe failed with statuscode: 502
  Warning  BackOff    2m (x25 over 8m)    kubelet  Back-off restarting failed container
"""


def write_field_log(path: Path, lines: int) -> int:
    """What users paste from older images and the platform: the azureml-defaults JSON server's lines, runit's,
    the old ``| root |`` text, and now and then a ``kubectl describe pod`` with its events."""
    written = 0
    describe = _DESCRIBE.count("\n")
    with path.open("w", encoding="utf-8") as out:
        i = 0
        while written < lines:
            i += 1
            stamp = _ts(i)
            old = {"requestId": f"{i:08x}-5d3e-4f7a-9b2c-7e1f0a6d0000", "message": "Scoring request", "apiName": ""}
            out.write(
                _json_line(
                    timestamp=stamp,
                    message=json.dumps(old),
                    host="wk-caas-5d2e",
                    path="/var/azureml-server/app.py",
                    tags="%(module)s, %(asctime)s, %(levelname)s, %(message)s",
                    level="INFO",
                    logger="root",
                    stack_info=None,
                )
            )
            out.write(f"{_text_ts(i)} | root | INFO | 200\n")
            written += 2
            if i % 50 == 0:
                out.write(f"{stamp[:19]},{stamp[20:26]}000+00:00 - gunicorn/run \n")
                written += 1
            if i % 500 == 0:
                out.write(_DESCRIBE)
                written += describe
    return written


def result_lines(summary: Summary) -> int:
    return sum(source.lines for source in summary.sources)


def _lines_per_second(path: Path, rounds: int) -> tuple[float, list[float], dict[str, Any]]:
    rates: list[float] = []
    result: dict[str, Any] = {}
    for _ in range(rounds):
        summary = Summary()
        started = time.perf_counter()
        read_file(summary, str(path), path.name)
        elapsed = time.perf_counter() - started
        rates.append(result_lines(summary) / elapsed)
        result = summary.result()
    return statistics.median(rates), rates, result


def measure(rounds: int = 5, lines: int = 400_000) -> dict[str, Any]:
    """Median lines/s of `read_file` on each kind of log, with what the summary found (as a check)."""
    with tempfile.TemporaryDirectory(prefix="score-shim-logs-bench-") as folder:
        out: dict[str, Any] = {
            "lines": lines,
            "rounds": rounds,
            "target_json_lines_per_s": targets.LOGS_JSON_LINES_PER_S,
        }
        for kind, writer in (("json", write_json_log), ("text", write_text_log), ("field", write_field_log)):
            path = Path(folder) / f"{kind}.log"
            written = writer(path, lines)
            median, rates, result = _lines_per_second(path, rounds)
            understood = result["explained"] if kind == "field" else result["requests"]["total"] and result["failures"]
            if not understood:
                raise RuntimeError(f"the {kind} log was not understood: the figures would be meaningless")
            out[kind] = {
                "lines": written,
                "megabytes": round(path.stat().st_size / 1e6, 1),
                "lines_per_s": round(median),
                "rounds_lines_per_s": [round(rate) for rate in rates],
                "requests": result["requests"]["total"],
                "failures": sum(group["count"] for group in result["failures"]),
            }
        return out
