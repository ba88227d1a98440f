"""How ``score-shim logs`` shows its summary to a person; ``--json`` prints the data instead.

Plain aligned text with click's styles (dropped when stdout is not a terminal). Not rich: structlog
imports rich whenever it is installed (``structlog.dev``), so depending on it would add about 50 ms and
a different exception renderer to every worker that imports the shim, for the sake of one command.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

#: What a worker event usually means, and what to do about it.
HINTS = {
    "WORKER TIMEOUT": (
        "a request ran longer than gunicorn's worker timeout (WORKER_TIMEOUT, default 300 s): the worker was "
        "killed, its request lost, and the new worker runs init() again"
    ),
    "SIGKILL (out of memory?)": (
        "the kernel killed the worker, usually for memory: use a larger instance type, fewer workers, or a "
        "smaller model or batch"
    ),
    "exited with code 3": (
        "the entry script failed to import or init() failed (the server exits with code 3): see the workers above"
    ),
    "Worker failed to boot": "gunicorn gave up because a worker could not start: the container restarts",
}

Echo = Callable[[str], None]

#: How a failure's phase reads: ``1 x ValueError in run() at ...``; none when nothing told it.
_STAGES = {"init": " in init()", "run": " in run()", "import": " on import of the entry script"}


def _n(value: int) -> str:
    return f"{value:,}"


def _ms(value: Any) -> str:
    if not isinstance(value, (int, float)):
        return ""
    return f"{value:,.1f} ms" if value >= 1 else f"{value:.3f} ms"


def _short_type(kind: str) -> str:
    # azureml_inference_server_http.server.user_script.UserScriptTimeout -> UserScriptTimeout
    return kind.rsplit(".", 1)[-1] if len(kind) > 30 else kind


def _where(error: dict[str, Any]) -> str | None:
    where = error.get("where")
    if isinstance(where, dict) and where.get("file"):
        text = f"at {where['file']}:{where.get('line')}"
        return text + (f" in {where['function']}" if where.get("function") else "")
    return None


def _title(text: str) -> str:
    return click.style(text, bold=True)


def _bad(text: str) -> str:
    return click.style(text, fg="red", bold=True)


def _workers(result: dict[str, Any], echo: Echo) -> None:
    workers = result["workers"]
    if not workers:
        return
    counts = ", ".join(f"{count} {state}" for state, count in sorted(result["init"].items()))
    echo(_title(f"Workers: init() per replica and process ({counts})"))
    starts = result["worker_events"].get("server_starts", 0)
    if starts > 1:
        echo(_bad(f"  the server started {starts} times in these lines: the container restarted (a crash loop?)"))
    width = max(len(str(worker["replica"])) for worker in workers)
    for worker, repeats in _collapsed(workers):
        state = worker["init"]
        pid = worker["pid"] if worker["pid"] is not None else "?"
        head = f"  {worker['replica']:<{width}}  pid {pid!s:<7} "
        shown = _bad("FAILED") if state == "failed" else f"{state:<6}"
        again = f"  (and {repeats} more times like this)" if repeats else ""
        line = f"{head}{shown}  {_ms(worker.get('duration_ms'))}{again}".rstrip()
        echo(line)
        pad = " " * (len(head) + 2)
        error = worker.get("error")
        if error:
            echo(f"{pad}{_short_type(str(error.get('type')))}: {error.get('message', '')}".rstrip(": "))
            where = _where(error)
            if where:
                echo(f"{pad}{where}")
        if worker.get("phase") and state == "failed":
            echo(f"{pad}phase: {worker['phase']}")
        if worker.get("diagnosis"):
            echo(f"{pad}diagnosis: {worker['diagnosis']}")
        if worker.get("ended"):
            echo(f"{pad}ended: {worker['ended']}")
        if worker.get("note"):  # init() started, and nothing in the lines says it ended
            echo(f"{pad}{_bad(worker['note'])}")
    if result["workers_not_shown"]:
        echo(f"  ... {_n(result['workers_not_shown'])} more workers not shown")


def _collapsed(workers: list[dict[str, Any]]) -> list[tuple[dict[str, Any], int]]:
    """Consecutive workers that went the same way (a crash loop), shown once with a count."""
    shown: list[tuple[dict[str, Any], int]] = []
    previous = None
    for worker in workers:
        same = {key: value for key, value in worker.items() if key not in ("pid", "duration_ms")}
        if previous == same and worker["init"] in ("failed", "ok"):
            shown[-1] = (shown[-1][0], shown[-1][1] + 1)
        else:
            shown.append((worker, 0))
        previous = same
    return shown


def _requests(result: dict[str, Any], echo: Echo) -> None:
    requests = result["requests"]
    if not requests["total"]:
        echo(_title("Requests: none in these lines."))
        return
    statuses = ", ".join(
        _bad(f"{code}: {_n(count)}") if code.startswith("5") else f"{code}: {_n(count)}"
        for code, count in requests["by_status"].items()
    )
    echo(_title(f"Requests: {_n(requests['total'])}") + f" ({statuses})")
    routes = requests["by_route"]
    if len(routes) > 1:
        echo("  by route: " + ", ".join(f"{route} {_n(count)}" for route, count in routes.items()))
    latency = result["latency_ms"]
    if latency:
        echo(
            f"  latency of scoring requests ({_n(latency['count'])}, ms): p50 {latency['p50']:,}  "
            f"p90 {latency['p90']:,}  p95 {latency['p95']:,}  p99 {latency['p99']:,}  max {latency['max']:,}"
        )
    for item in requests.get("meanings", []):
        reason = f"{item['status']} x {_n(item['count'])}, {item['reason']}"
        echo(f"  {_bad(reason) if item['status'] >= 500 else reason}: {item['meaning']}; do: {item['fix']}")
        echo(click.style(f"      guide ({item['endpoints']}): {item['guide']}", dim=True))


def _amount(value: float) -> str:
    """A measured amount, as precise as it is worth: 1,204 / 2.02 / 0.0531."""
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 1:
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return f"{value:.3g}"


def _observed_load(sizing: dict[str, Any]) -> str | None:
    """``40 scoring requests over 19.5 s (2 requests/s), 0.25 s per request, 0.5 busy at once``."""
    count = sizing["scoring_requests"]
    if not count:
        return None
    text = f"  observed: {_n(count)} scoring request{'' if count == 1 else 's'}"
    if sizing["rate_per_s"] is not None:
        text += f" over {_amount(sizing['span_s'])} s ({_amount(sizing['rate_per_s'])} requests/s)"
    text += f", {_amount(sizing['seconds_per_request'])} s per request"
    if sizing["busy_concurrency"] is not None:
        text += f", {_amount(sizing['busy_concurrency'])} busy at once"
    return text


def _replicas_line(sizing: dict[str, Any]) -> str | None:
    """The replicas and the formula that gave them; or why there is no number."""
    utilization = f"{sizing['target_utilization'] * 100:g} %"
    per_replica = sizing["max_concurrent_per_replica"]
    target = sizing["target_rps"]
    if sizing["replicas"] is None:
        if target is None:
            return None
        return f"  no replica count for {_amount(target)} requests/s: the log gives no time per request"
    rps = target if target is not None else sizing["rate_per_s"]
    load = f"{_amount(target)} requests/s" if target is not None else "the observed load"
    formula = (
        f"ceil({_amount(rps)} x {_amount(sizing['seconds_per_request'])} s / {sizing['target_utilization']:g}"
        f" / {per_replica})"
    )
    return (
        f"  {load} needs {_title(_n(sizing['replicas']))} replica{'s' if sizing['replicas'] > 1 else ''} at "
        f"{utilization} utilization, "
        f"{per_replica} concurrent per replica: {formula}"
    )


def _sizing(result: dict[str, Any], echo: Echo) -> None:
    """Replica sizing for 503s: the load the log shows and the replicas it (or ``--target-rps``) needs."""
    sizing = result.get("sizing")
    if not sizing or not (sizing["scoring_requests"] or sizing["target_rps"] is not None):
        return
    echo(_title("Sizing: replicas by the troubleshooting guide's formula (against 503s)"))
    for line in (_observed_load(sizing), _replicas_line(sizing)):
        if line:
            echo(line)
    if sizing["cannot_tell"]:
        echo(f"  the log cannot tell: {sizing['cannot_tell']}")
    elif sizing.get("too_little"):
        echo(f"  no replica count: {sizing['too_little']}")
    echo(click.style(f"      guide: {sizing['guide']}", dim=True))


def _failures(result: dict[str, Any], echo: Echo) -> None:
    failures = result["failures"]
    if not failures:
        if not result["explained"]:  # else "none" would contradict what the platform said, above
            echo(_title("Failures: none."))
        return
    total = sum(group["count"] for group in failures)
    echo(_title(f"Failures by type and place ({_n(total)} in {len(failures)} groups)"))
    for group in failures:
        kind = _bad(_short_type(group["type"]))
        place = f" at {group['place']}" if group["place"] else ""
        stage = _STAGES.get(group["stage"], f" in {group['stage']}()" if group["stage"] else "")
        echo(f"  {_n(group['count'])} x {kind}{stage}{place}")
        if group.get("message"):
            echo(f"      {group['message']}")
        if group.get("cause"):
            echo(f"      caused by {_exception_line(group['cause'])}")
        if group.get("diagnosis"):
            echo(f"      diagnosis: {group['diagnosis']}")
        if group.get("sample_request_id"):
            echo(f"      e.g. request {group['sample_request_id']}")
    if result["failure_groups_not_shown"]:
        echo(f"  ... {_n(result['failure_groups_not_shown'])} more failures in groups not shown")
    if any(group.get("sample_request_id") for group in failures):
        echo(click.style("  (one request's whole story: score-shim logs FILE... --request-id ID)", dim=True))


def _exception_line(error: dict[str, Any]) -> str:
    return f"{_short_type(str(error.get('type')))}: {error.get('message', '')}".rstrip(": ")


def _harmless(result: dict[str, Any], echo: Echo) -> None:
    noise = result["harmless"]
    if not noise:
        return
    echo(_title("Harmless: the server's known start-up noise, not failures"))
    for item in noise:
        echo(f'  {_n(item["count"])} x "{item["what"]}"' + (f"  ({item['detail']})" if item.get("detail") else ""))
        echo(f"      harmless: {item['why']}")


def _slow_and_timeouts(result: dict[str, Any], echo: Echo) -> None:
    timeouts = result["timeouts"]
    if timeouts["count"]:
        ids = [s["request_id"] for s in timeouts["samples"] if s.get("request_id")]
        text = f"Timeouts: {_n(timeouts['count'])} run() calls stopped by the server's scoring timeout"
        echo(_bad(text) + (f" (e.g. request {', '.join(ids[:3])})" if ids else ""))
    slow = result["slow_runs"]
    if slow["count"]:
        slowest = ", ".join(f"{s['duration_ms']:,.0f} ms ({s['request_id'] or '?'})" for s in slow["slowest"][:5])
        echo(_title(f"Slow runs: {_n(slow['count'])}") + (f"; slowest: {slowest}" if slowest else ""))


def _worker_events(result: dict[str, Any], echo: Echo) -> None:
    events = result["worker_events"]
    counts = {kind: count for kind, count in events["counts"].items() if kind != "exiting"}
    if not counts:
        return
    echo(_title("Workers stopped or killed"))
    last: dict[str, dict[str, Any]] = {}
    for sample in events["samples"]:
        last[sample["kind"]] = sample
    for kind, count in sorted(counts.items(), key=lambda item: -item[1]):
        sample = last.get(kind, {})
        seen = " ".join(
            str(part)
            for part in (
                sample.get("replica"),
                f"pid {sample['pid']}" if sample.get("pid") else None,
                sample.get("timestamp"),
            )
            if part
        )
        echo(f"  {_n(count)} x {_bad(kind)}" + (f"   (last: {seen})" if seen else ""))
        if kind in HINTS:
            echo(f"      {HINTS[kind]}")


def _explained(result: dict[str, Any], echo: Echo) -> None:
    findings = result["explained"]
    if not findings:
        return
    echo(_title("Explained: what the platform told, what it means and what to do"))
    for item in findings:
        details = ", ".join(f"{key}: {value}" for key, value in item["details"].items())
        echo(f"  {_n(item['count'])} x {_bad(item['title'])}" + (f"  ({details})" if details else ""))
        echo(f"      cause: {item['cause']}")
        echo(f"      fix: {item['fix']}")
        for line in item["evidence"][:2]:
            echo(f'      from: "{line}"')
        echo(click.style(f"      guide: {item['guide']}", dim=True))
    if result["explained_not_shown"]:
        echo(f"  ... {_n(result['explained_not_shown'])} more kinds not shown")


def render_summary(result: dict[str, Any], echo: Echo) -> None:
    """The summary, most telling first: the platform's failures explained, init, requests, failures, workers."""
    sources = result["sources"]
    kinds = f"{_n(result['json_lines'])} JSON"
    if result.get("console_lines"):
        kinds += f", {_n(result['console_lines'])} in the console format"
    head = f"{_n(result['lines'])} lines ({kinds}) from "
    head += sources[0]["name"] if len(sources) == 1 else f"{len(sources)} inputs"
    if result["first_timestamp"]:
        head += f", {result['first_timestamp']} .. {result['last_timestamp']}"
    echo(click.style(head, dim=True))
    parts = (_explained, _workers, _requests, _sizing, _failures, _slow_and_timeouts, _worker_events, _harmless)
    for part in parts:
        lines: list[str] = []
        part(result, lines.append)
        if lines:
            echo("")
            for line in lines:
                echo(line)
    told = (
        result["workers"]
        or result["requests"]["total"]
        or result["failures"]
        or result["harmless"]
        or result["explained"]
        or any(kind != "exiting" for kind in result["worker_events"]["counts"])
    )
    if not told and result["lines"]:
        echo("")
        echo(
            "No line from the inference server or the shim was recognised: is this a scoring container's log "
            "(az ml online-deployment get-logs, kubectl logs, docker logs)?"
        )
