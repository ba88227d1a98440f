"""`score-shim logs`: replica sizing for 503s and the guide's meaning of the HTTP statuses seen (issue 15).

Logs are written here with known request times and a known rate, in the formats the real server writes (the
server's text access lines; the shim's ``shim.run.ok`` JSON lines, whose keys in the shim's order take the fast
path and in another order the full reading), and go through the command as a user runs it (``python -m shim
logs FILE``, with and without ``--json``). The replicas are checked against the troubleshooting guide's formula,
written out here as the guide writes it.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from tests._logs import logs_json, logs_text, run_logs

GUIDE = "https://learn.microsoft.com/azure/machine-learning/how-to-troubleshoot-online-endpoints"


def guide_instance_count(
    target_rps: float, request_process_time: float, target_utilization: float, max_concurrent: int
) -> int:
    """The guide's ``How to calculate instance count``, as it writes it."""
    concurrent_requests = target_rps * request_process_time / target_utilization
    return math.ceil(concurrent_requests / max_concurrent)


def server_time(seconds: float) -> str:
    """The server's text timestamp, ``seconds`` after 17:27:00."""
    whole = int(seconds)
    millis = round((seconds - whole) * 1000)
    return f"2026-11-25 17:{27 + whole // 60:02d}:{whole % 60:02d},{millis:03d}"


def shim_time(seconds: float) -> str:
    whole = int(seconds)
    micros = round((seconds - whole) * 1_000_000)
    return f"2026-11-25T17:{27 + whole // 60:02d}:{whole % 60:02d}.{micros:06d}Z"


def server_log(
    path: Path, count: int, every_s: float, latency_ms: float, statuses: dict[int, int] | None = None, start: float = 0
) -> Path:
    """``count`` scoring requests ``every_s`` apart, each ``latency_ms`` long, after init (a minute earlier)."""
    statuses = statuses or {}
    lines = [
        f"{server_time(start).replace('17:27', '17:26')} I [41] azmlinfsrv - Invoking user's init function",
        f"{server_time(start).replace('17:27', '17:26')} I [41] azmlinfsrv - Users's init has completed successfully",
    ]
    for i in range(count):
        status = statuses.get(i, 200)
        lines.append(
            f"{server_time(start + i * every_s)} I [41] azmlinfsrv - POST /score {status} {latency_ms:.3f}ms 38"
        )
        lines.append(f"{server_time(start + i * every_s)} I [41] azmlinfsrv - GET / 200 0.400ms 7")  # a probe
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def shim_lines(count: int, every_s: float, latency_ms: float, *, sort_keys: bool = False) -> list[str]:
    """The shim's stream: init, ``count`` ``shim.run.ok`` lines ``every_s`` apart, a late user line."""
    lines = [{"timestamp": "2026-11-25T17:20:00.000000Z", "level": "info", "event": "shim.init.ok", "logger": "shim"}]
    for i in range(count):
        lines.append(
            {
                "timestamp": shim_time(i * every_s),
                "level": "info",
                "event": "shim.run.ok",
                "logger": "shim",
                "duration_ms": latency_ms - 1,
                "input_bytes": 12,
                "http": {"method": "POST", "path": "/score", "status": 200, "bytes": 3, "duration_ms": latency_ms},
                "request_id": f"r-{i}",
                "pid": 41,
            }
        )
    lines.append({"timestamp": "2026-11-25T17:40:00.000000Z", "level": "info", "event": "bye", "logger": "score"})
    return [json.dumps(line, sort_keys=sort_keys) for line in lines]


def sizing(data: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = data["sizing"]
    return found


# 81 requests 0.25 s apart: 4 requests/s over 20 s; 800 ms each: 3.2 busy at once.
COUNT, EVERY_S, LATENCY_MS = 81, 0.25, 800.0
RATE = (COUNT - 1) / ((COUNT - 1) * EVERY_S)


def test_the_observed_load_and_its_replicas_from_the_servers_lines(tmp_path: Path) -> None:
    log = server_log(tmp_path / "server.log", COUNT, EVERY_S, LATENCY_MS)
    found = sizing(logs_json(log))
    assert found["scoring_requests"] == COUNT  # the probes are not scoring requests
    assert found["span_s"] == pytest.approx(20.0)  # from the first request, not from init a minute before
    assert found["rate_per_s"] == pytest.approx(RATE) == pytest.approx(4.0)
    assert found["seconds_per_request"] == pytest.approx(LATENCY_MS / 1000)
    assert found["busy_concurrency"] == pytest.approx(RATE * LATENCY_MS / 1000)
    assert found["replicas"] == guide_instance_count(RATE, LATENCY_MS / 1000, 0.7, 1) == 5
    assert found["target_rps"] is None and found["cannot_tell"] is None
    assert found["guide"] == GUIDE + "#how-to-calculate-instance-count"

    text = logs_text(log)
    assert "81 scoring requests over 20 s (4 requests/s), 0.8 s per request, 3.2 busy at once" in text
    assert "the observed load needs 5 replicas at 70 % utilization, 1 concurrent per replica" in text
    assert "ceil(4 x 0.8 s / 0.7 / 1)" in text
    assert "cannot tell" not in text


@pytest.mark.parametrize("sort_keys", [False, True], ids=["fast path", "full reading"])
def test_the_shims_own_lines_give_the_same_load_whichever_way_they_are_read(tmp_path: Path, sort_keys: bool) -> None:
    log = tmp_path / "shim.log"
    log.write_text("\n".join(shim_lines(COUNT, EVERY_S, LATENCY_MS, sort_keys=sort_keys)) + "\n", encoding="utf-8")
    data = logs_json(log)
    found = sizing(data)
    assert data["first_timestamp"].startswith("2026-11-25T17:20:00")  # the log's span is not the requests'
    assert found["first_request"].startswith("2026-11-25T17:27:00") and found["span_s"] == pytest.approx(20.0)
    assert found["rate_per_s"] == pytest.approx(RATE)
    assert found["seconds_per_request"] == pytest.approx(LATENCY_MS / 1000)  # the request's, not run()'s
    assert found["replicas"] == guide_instance_count(RATE, LATENCY_MS / 1000, 0.7, 1)


@pytest.mark.parametrize("shim", [False, True], ids=["server lines", "shim lines"])
@pytest.mark.parametrize("order", [(0, 1), (1, 0)], ids=["in time order", "later replica first"])
def test_replicas_read_together_are_one_load_whatever_the_order(
    tmp_path: Path, shim: bool, order: tuple[int, int]
) -> None:
    # Two replicas, each 2 requests/s, interleaved: 41 + 41 requests from 0 s to 20.25 s.
    paths = []
    for replica, start in enumerate((0.0, 0.25)):
        path = tmp_path / f"replica-{replica}.log"
        if shim:
            lines = shim_lines(41, 0.5, LATENCY_MS)[1:-1]  # requests only
            shifted = [line.replace(shim_time(i * 0.5), shim_time(start + i * 0.5)) for i, line in enumerate(lines)]
            path.write_text("\n".join(shifted) + "\n", encoding="utf-8")
        else:
            server_log(path, 41, 0.5, LATENCY_MS, start=start)
        paths.append(path)
    done = run_logs(*(paths[i] for i in order), "--json")
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)["sizing"]
    assert found["scoring_requests"] == 82
    assert found["span_s"] == pytest.approx(20.25)
    assert found["rate_per_s"] == pytest.approx(81 / 20.25) == pytest.approx(4.0)


@pytest.mark.parametrize(
    ("rps", "utilization", "concurrent"),
    [(40.0, None, None), (40.0, 0.5, None), (40.0, 0.5, 4), (25.0, 0.9, 3), (0.5, 1.0, 1)],
)
def test_target_rps_sizes_by_the_guides_formula(
    tmp_path: Path, rps: float, utilization: float | None, concurrent: int | None
) -> None:
    log = server_log(tmp_path / "server.log", COUNT, EVERY_S, LATENCY_MS)
    args = ["--target-rps", f"{rps:g}"]
    if utilization is not None:
        args += ["--target-utilization", f"{utilization:g}"]
    if concurrent is not None:
        args += ["--max-concurrent-per-replica", str(concurrent)]
    expected = guide_instance_count(rps, LATENCY_MS / 1000, utilization or 0.7, concurrent or 1)

    found = sizing(logs_json(log, *args))
    assert found["replicas"] == expected
    assert found["target_rps"] == rps
    assert found["target_utilization"] == (utilization or 0.7)
    assert found["max_concurrent_per_replica"] == (concurrent or 1)
    assert found["rate_per_s"] == pytest.approx(RATE)  # the observed load is still shown

    text = logs_text(log, *args)
    replicas = f"{expected} replica{'s' if expected > 1 else ''}"
    assert f"{rps:g} requests/s needs {replicas} at {(utilization or 0.7) * 100:g} % utilization" in text
    assert f"ceil({rps:g} x 0.8 s / {utilization or 0.7:g} / {concurrent or 1})" in text


def test_utilization_and_concurrency_apply_to_the_observed_load_too(tmp_path: Path) -> None:
    log = server_log(tmp_path / "server.log", COUNT, EVERY_S, LATENCY_MS)
    found = sizing(logs_json(log, "--target-utilization", "0.3", "--max-concurrent-per-replica", "2"))
    assert found["replicas"] == guide_instance_count(RATE, LATENCY_MS / 1000, 0.3, 2) == 6


def _no_timestamps(path: Path) -> Path:
    # The server's messages copied without their prefix (as the portal's log view is often pasted).
    path.write_text("POST /score 200 200.000ms 38\n" * 5, encoding="utf-8")
    return path


def _same_timestamp(path: Path) -> Path:
    return server_log(path, 5, 0.0, 200.0)


def _one_request(path: Path) -> Path:
    return server_log(path, 1, 1.0, 200.0)


def _no_latency(path: Path) -> Path:
    # gunicorn's access log tells status and route, not how long the request took.
    access = (
        '{ts} I [41] gunicorn.access - 127.0.0.1 - - [25/Nov/2026:17:27:0{i} +0000] "POST /score HTTP/1.1" 200 38 '
        '"-" "python-requests/2.32.3"'
    )
    path.write_text("\n".join(access.format(ts=server_time(i), i=i) for i in range(5)) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("make", "reason", "seconds"),
    [
        (_no_timestamps, "the scoring requests carry no timestamps", 0.2),
        (_same_timestamp, "every scoring request has the same timestamp", 0.2),
        (_one_request, "one scoring request: a rate needs two at least", 0.2),
        (_no_latency, "no scoring request with a latency in these lines", None),
    ],
    ids=["no timestamps", "one instant", "one request", "no latency"],
)
def test_the_summary_says_when_the_log_cannot_tell(
    tmp_path: Path, make: Any, reason: str, seconds: float | None
) -> None:
    log = make(tmp_path / "app.log")
    found = sizing(logs_json(log))
    assert found["cannot_tell"].startswith(reason)
    assert found["rate_per_s"] is None and found["busy_concurrency"] is None
    assert found["replicas"] is None
    assert found["seconds_per_request"] == (pytest.approx(seconds) if seconds else None)
    text = logs_text(log, "--target-rps", "10")
    assert f"the log cannot tell: {reason}" in text
    targeted = sizing(logs_json(log, "--target-rps", "10"))
    if seconds is None:  # without a time per request there is no number, whatever was asked
        assert targeted["replicas"] is None
        assert "no replica count for 10 requests/s: the log gives no time per request" in text
    else:  # the time per request is enough for a target
        assert targeted["replicas"] == guide_instance_count(10, seconds, 0.7, 1)


def test_no_sizing_section_without_scoring_requests_or_a_target(tmp_path: Path) -> None:
    log = tmp_path / "init.log"
    log.write_text("2026-11-25 17:26:00,000 I [41] azmlinfsrv - Invoking user's init function\n", encoding="utf-8")
    assert "Sizing" not in logs_text(log)
    assert "Sizing" in logs_text(log, "--target-rps", "3")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--target-rps", "0"], "Invalid value for '--target-rps': 0.0 is not in the range x>0."),
        (["--target-rps", "-5"], "Invalid value for '--target-rps': -5.0 is not in the range x>0."),
        (["--target-rps", "many"], "Invalid value for '--target-rps': 'many' is not a valid float"),
        (["--target-utilization", "0"], "Invalid value for '--target-utilization': 0.0 is not in the range 0<x<=1."),
        (["--target-utilization", "70"], "Invalid value for '--target-utilization': 70.0 is not in the range 0<x<=1."),
        (
            ["--max-concurrent-per-replica", "0"],
            "Invalid value for '--max-concurrent-per-replica': 0 is not in the range x>=1.",
        ),
    ],
)
def test_bad_sizing_flags_are_usage_errors(tmp_path: Path, args: list[str], message: str) -> None:
    log = server_log(tmp_path / "server.log", 3, 1.0, 200.0)
    done = run_logs(log, *args)
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr and not done.stdout


def test_502_503_and_504_get_the_guides_meaning(tmp_path: Path) -> None:
    log = server_log(tmp_path / "server.log", 20, 0.5, 300.0, statuses={3: 503, 4: 503, 5: 503, 9: 504, 12: 502})
    data = logs_json(log)
    meanings = {item["status"]: item for item in data["requests"]["meanings"]}
    assert sorted(meanings) == [502, 503, 504]
    assert meanings[503]["count"] == 3 and meanings[504]["count"] == 1 and meanings[502]["count"] == 1
    assert meanings[503]["reason"] == "Large spikes in requests per second"
    assert "autoscale_target_utilization" in meanings[503]["fix"] and "minimum replicas" in meanings[503]["fix"]
    assert meanings[503]["guide"] == GUIDE + "#how-to-prevent-503-status-code-errors"
    assert "request_timeout_ms" in meanings[504]["fix"]
    assert "run()" in meanings[502]["reason"]
    for status in (502, 504):
        assert meanings[status]["guide"] == GUIDE + "#common-error-codes-for-kubernetes-online-endpoints"

    text = logs_text(log)
    assert "503 x 3, Large spikes in requests per second: the autoscaler handles gradual changes in load" in text
    assert "504 x 1, Request times out: the request timed out" in text
    assert "502 x 1, Exception or crash in the run() method of score.py: there is an error in score.py" in text
    assert text.count(f"guide (Kubernetes online endpoints): {GUIDE}#") == 3


def test_the_managed_endpoints_statuses_get_their_meaning_too(tmp_path: Path) -> None:
    log = server_log(tmp_path / "server.log", 10, 0.5, 300.0, statuses={1: 408, 2: 424, 3: 429, 4: 500})
    meanings = {item["status"]: item for item in logs_json(log)["requests"]["meanings"]}
    assert sorted(meanings) == [408, 424, 429, 500]
    assert "request_timeout_ms" in meanings[408]["meaning"]
    assert "ms-azureml-model-error-statuscode" in meanings[424]["fix"]
    assert "2 * max_concurrent_requests_per_instance * instance_count" in meanings[429]["meaning"]
    assert "run() raised" in meanings[500]["meaning"]  # what a 500 in the container's own log is
    assert all(
        item["guide"] == GUIDE + "#common-error-codes-for-managed-online-endpoints" for item in meanings.values()
    )


def test_no_meaning_when_no_such_status_was_seen(tmp_path: Path) -> None:
    log = server_log(tmp_path / "server.log", 10, 0.5, 300.0, statuses={2: 404, 3: 422})
    data = logs_json(log)
    assert data["requests"]["by_status"] == {"200": 18, "404": 1, "422": 1}  # probes included
    assert data["requests"]["meanings"] == []
    text = logs_text(log)
    for words in ("Large spikes", "Request times out", "Exception or crash", "guide (", "Model error"):
        assert words not in text


def test_float_noise_does_not_ask_for_a_replica_more(tmp_path: Path) -> None:
    # 7 requests/s x 0.1 s / 0.7 is 1 replica exactly; in floats it is 1.0000000000000002, whose ceiling is 2.
    log = server_log(tmp_path / "server.log", 11, 0.5, 100.0)
    assert 7 * 0.1 / 0.7 > 1
    assert sizing(logs_json(log, "--target-rps", "7"))["replicas"] == 1


def test_a_handful_of_test_requests_is_no_load_to_size_by(tmp_path: Path) -> None:
    """Three requests 40 ms apart (a demo, a smoke test) would "need" replicas by the formula: no number then."""
    log = server_log(tmp_path / "server.log", 3, 0.02, 80.0)
    found = sizing(logs_json(log))
    assert found["rate_per_s"] == pytest.approx(50.0)  # the facts are still told
    assert found["replicas"] is None and found["cannot_tell"] is None
    assert found["too_little"].startswith("3 scoring requests over 0.04 s are too little traffic to size by")
    text = logs_text(log)
    assert "no replica count: 3 scoring requests over 0.04 s are too little traffic" in text
    assert "pass --target-rps N for the load you expect" in text and "replicas at" not in text
    assert sizing(logs_json(log, "--target-rps", "10"))["replicas"] == guide_instance_count(10, 0.08, 0.7, 1)
