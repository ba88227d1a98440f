"""How ``score-shim check`` shows its report to a person; ``--json`` prints the data instead.

Plain text with click's styles (dropped when stdout is not a terminal), like ``score-shim logs``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from ..logs.terminal import safe
from ..models.probe import probe_summary
from . import check
from .rehearsal_render import in_container, render_deployment

Echo = Callable[[str], None]

#: The result is shown up to this many characters in the text report (``--json`` keeps more).
MAX_SHOWN_CHARS = 1_000

_VERDICTS = {
    check.EXIT_OK: "OK: init() and run() work; the server would answer 200.",
    check.EXIT_INIT: "FAILED at start-up: the server would exit with code 3 (CrashLoopBackOff on Azure).",
    check.EXIT_RUN: "FAILED in run(): the server would answer this request with an error.",
    check.EXIT_ENVIRONMENT: "FAILED: the deployment's environment lacks a package the script or the model needs.",
    check.EXIT_INTERRUPTED: "INTERRUPTED (Ctrl-C): the section above says where it was.",
}


def _ms(value: Any) -> str:
    if not isinstance(value, (int, float)):
        return "?"
    return f"{value:,.1f} ms" if value >= 1 else f"{value:.3f} ms"


def _mb(value: Any) -> str:
    return f"{value / 1_048_576:,.1f} MB" if isinstance(value, int) else "?"


def _ok(flag: bool) -> str:
    return click.style("ok", fg="green", bold=True) if flag else click.style("FAILED", fg="red", bold=True)


def _where(error: dict[str, Any]) -> str:
    where = error.get("where")
    if not where:
        return ""
    return f"{where.get('file')}:{where.get('line')} in {where.get('function')}"


def _error_lines(echo: Echo, section: dict[str, Any]) -> None:
    error = section.get("error")
    if error:
        echo(f"  {click.style(error.get('type', 'Error'), fg='red', bold=True)}: {error.get('message', '')}")
        where = _where(error)
        if where:
            echo(f"  at {where}")
    if section.get("problem"):
        echo(f"  {section['problem']}")
    diagnosis = section.get("diagnosis")
    if diagnosis:
        echo(f"  {click.style('diagnosis', fg='yellow', bold=True)}: {diagnosis.get('text')}")


def render(report: dict[str, Any], echo: Echo = click.echo) -> None:
    """The report, section by section: load, model probe, init, input, run, memory, verdict.

    Every value in it came from the user's script or input (a result, an exception message, the body): each
    is escaped before the styles are added, so that none reaches the terminal as an escape sequence.
    """
    sent = report.get("input")
    if sent:  # a body read from a file ends with its line break; shown escaped it would read "\n"
        report = {**report, "input": {**sent, "body": str(sent.get("body", "")).strip()}}
    report = safe(report)
    deployment = report.get("deployment")
    if deployment:
        render_deployment(deployment, echo)
    else:
        echo(click.style(f"score-shim check {report.get('script')}", bold=True))
        model_dir = report.get("azureml_model_dir") or "(not set)"
        echo(f"  AZUREML_MODEL_DIR={model_dir}  AML_APP_ROOT={report.get('aml_app_root')}")

    load = report.get("load", {})
    if load.get("ok"):
        extra = " + request_headers" if load.get("request_headers") else ""
        args = ", ".join(load.get("parameters", []))
        echo(f"load    {_ok(True)}  {_ms(load.get('duration_ms'))}  run({args}{extra}) called as: {load.get('mode')}")
    elif load:
        echo(f"load    {_ok(False)}  {_ms(load.get('duration_ms'))}  the script could not be loaded")
        _error_lines(echo, load)

    probe = report.get("model_probe")
    if probe:
        lines = [in_container(line, deployment) for line in probe_summary(probe)]
        echo(f"model   {lines[0]}")
        for line in lines[1:]:
            echo(f"        {line}")

    init = report.get("init")
    if init:
        echo(f"init    {_ok(bool(init.get('ok')))}  {_ms(init.get('duration_ms'))}")
        if not init.get("ok"):
            _error_lines(echo, init)

    sent = report.get("input")
    if sent:
        body = sent.get("body", "")
        shown = body if len(body) <= 200 else body[:200] + f"... ({sent.get('chars'):,} chars)"
        echo(f"input   from {sent.get('source')}: {shown}")

    run = report.get("run")
    if run:
        echo(f"run     {_ok(bool(run.get('ok')))}  {_ms(run.get('duration_ms'))}  request id {run.get('request_id')}")
        output = run.get("output")
        if output:
            text = output.get("text", "")
            if len(text) > MAX_SHOWN_CHARS or output.get("chars", 0) > len(text):
                text = text[:MAX_SHOWN_CHARS] + f"... ({output.get('chars'):,} chars in all)"
            echo(f"  result ({output.get('type')}, the client gets HTTP {run.get('http_status')}): {text}")
        if not run.get("ok"):
            _error_lines(echo, run)

    memory = report.get("memory") or {}
    limit = f", limit {_mb(memory['limit_bytes'])}" if memory.get("limit_bytes") else ""
    echo(f"memory  rss {_mb(memory.get('rss_bytes'))}, peak {_mb(memory.get('peak_rss_bytes'))}{limit}")

    code = report.get("exit_code", check.EXIT_ERROR)
    verdict = _VERDICTS.get(code, "FAILED")
    status = (run or {}).get("http_status")
    if code == check.EXIT_OK and isinstance(status, int) and status != 200:  # run() chose it (an AMLResponse)
        verdict = f"OK: init() and run() work; the server would answer {status}, the status run() returned."
    echo(click.style(verdict, fg="green" if code == check.EXIT_OK else "red", bold=True) + f"  (exit {code})")
