"""The ``score-shim`` command line."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .._version import __version__

_CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(context_settings=_CONTEXT)
@click.version_option(__version__, prog_name="score-shim")
def cli() -> None:
    """Debug Azure ML entry scripts (score.py): run them locally through the real server with
    structured logs, check them before deploying, read container logs, attach VS Code."""


class _FixFirst(click.ClickException):
    """An error the user must fix before anything can start (a deployment that cannot be rehearsed)."""

    exit_code = 2


def _stop(message: str, code: int) -> click.ClickException:
    """A one-line error from our code, with the command's own exit code (2: fix the input first; else 1)."""
    message = _shown(message)
    return _FixFirst(message) if code == 2 else click.ClickException(message)


def _shown(text: str) -> str:
    """``text`` on one line with its control characters escaped: paths and YAML values are the user's, and
    must not reach the terminal as escape sequences."""
    from ..stream.console import escape

    return escape(text)


_DEPLOYMENT_HELP = (
    "A managed (or Kubernetes) online deployment YAML: lay out its code, model and settings as Azure ML "
    "does, and compare its environment with what the script and the model need."
)
_MODEL_PATH_HELP = "With --deployment: the local copy of a registered model (azureml:name:version), laid out as it."


@cli.command(context_settings=_CONTEXT)
@click.argument("script", type=click.Path(dir_okay=False, path_type=Path), metavar="[SCRIPT]", required=False)
@click.option("--deployment", type=click.Path(path_type=Path), metavar="FILE.yml", help=_DEPLOYMENT_HELP)
@click.option("--model-path", type=click.Path(path_type=Path), metavar="PATH", help=_MODEL_PATH_HELP)
@click.option(
    "--model-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder given to the script as AZUREML_MODEL_DIR (made absolute).",
)
@click.option("--port", type=click.IntRange(1, 65535), default=5001, show_default=True, help="Port on 127.0.0.1.")
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="gunicorn worker processes (WORKER_COUNT).",
)
@click.option(
    "--no-shim", "bare", is_flag=True, help="Serve the script through the bare server, without the shim (to compare)."
)
@click.option(
    "--debug-port",
    type=click.IntRange(1, 65535),
    help="Open a debugpy port for VS Code to attach to (SCORE_SHIM_DEBUG_PORT); sets generous timeouts.",
)
@click.option(
    "--debug-host",
    metavar="HOST",
    help="Where the debug port listens (default 127.0.0.1; anyone who reaches it can run code in the server).",
)
@click.option("--wait-for-debugger", is_flag=True, help="init() waits until a debugger attaches (bounded).")
@click.option(
    "--debug",
    "echo_errors",
    is_flag=True,
    help="Echo run()'s errors in the responses (SCORE_SHIM_DEBUG=1): for this machine, never a deployment.",
)
def serve(
    script: Path | None,
    deployment: Path | None,
    model_path: Path | None,
    model_dir: Path | None,
    port: int,
    workers: int,
    bare: bool,
    debug_port: int | None,
    debug_host: str | None,
    wait_for_debugger: bool,
    echo_errors: bool,
) -> None:
    """Serve SCRIPT through the real Azure ML inference server, wrapped by the shim, on 127.0.0.1.

    \b
    Example:
      score-shim serve score.py --model-dir ./azureml-models/my-model/1
      curl -X POST http://127.0.0.1:5001/score -H 'Content-Type: application/json' -d '{"data": [[1,2]]}'
      score-shim serve score.py --debug            # errors echoed in the responses
      score-shim serve score.py --debug-port 5678   # then attach VS Code to 127.0.0.1:5678
      score-shim serve --deployment blue-deployment.yml   # its layout, variables and request timeout
    """
    from .serve import ServeError, ServeOptions
    from .serve import serve as run_server

    if (debug_host or wait_for_debugger) and debug_port is None:
        raise click.UsageError("--debug-host and --wait-for-debugger need --debug-port.")
    if echo_errors and bare:
        raise click.UsageError("--debug echoes errors through the shim: it does not go with --no-shim.")
    _one_script(script, deployment, model_dir, model_path)
    options = ServeOptions(
        script=script or Path("score.py"),
        model_dir=model_dir,
        port=port,
        workers=workers,
        shim=not bare,
        debug_port=debug_port,
        debug_host=debug_host,
        wait_for_debugger=wait_for_debugger,
        env={"SCORE_SHIM_DEBUG": "1"} if echo_errors else {},
    )
    try:
        if deployment is not None:
            from .serve_deployment import serve_deployment

            code = serve_deployment(deployment, model_path, options)
        else:
            code = run_server(options)
    except ServeError as error:
        raise _stop(str(error), error.code) from None
    sys.exit(code)


def _one_script(
    script: Path | None,
    deployment: Path | None,
    model_dir: Path | None,
    model_path: Path | None,
    name: str = "SCRIPT",
) -> None:
    """``name`` (the script argument) or --deployment (which names its script), and each model flag with its
    own mode: the same rule for `serve` and `check`."""
    if deployment is None:
        if script is None:
            raise click.UsageError("name your score.py, or a deployment YAML with --deployment.")
        if model_path is not None:
            raise click.UsageError("--model-path goes with --deployment (for a score.py alone, use --model-dir).")
        return
    if script is not None:
        raise click.UsageError(
            f"give either {name} ({_shown(str(script))}) or --deployment, not both: the deployment names one."
        )
    if model_dir is not None:
        raise click.UsageError(
            "--model-dir is for a score.py alone; with --deployment the YAML's model is laid out as Azure ML does "
            "(use --model-path for a registered model's local copy)."
        )


@cli.command(context_settings=_CONTEXT)
@click.argument("script", type=click.Path(path_type=Path), metavar="[SCORE_PY]", required=False)
@click.option("--deployment", type=click.Path(path_type=Path), metavar="FILE.yml", help=_DEPLOYMENT_HELP)
@click.option("--model-path", type=click.Path(path_type=Path), metavar="PATH", help=_MODEL_PATH_HELP)
@click.option(
    "--model-dir",
    type=click.Path(path_type=Path),
    help="Folder given to the script as AZUREML_MODEL_DIR (made absolute).",
)
@click.option(
    "--input",
    "input_",
    metavar="JSON|@FILE",
    help="The request body (JSON), or @FILE to read it from a file (@- for stdin).  "
    "[default: the @input_schema sample, else {}]",
)
@click.option(
    "--content-type",
    metavar="TYPE",
    default="application/json",
    show_default=True,
    help="The request's Content-Type; other than JSON, --input is sent as it is (@FILE read as bytes: an image).",
)
@click.option(
    "--form",
    "form",
    multiple=True,
    metavar="NAME=@FILE|NAME=VALUE",
    help="A multipart/form-data field, as curl -F sends it (repeat for more): a file upload for a @rawhttp "
    "run() that reads request.files, or a text field.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def check(
    script: Path | None,
    deployment: Path | None,
    model_path: Path | None,
    model_dir: Path | None,
    input_: str | None,
    content_type: str,
    form: tuple[str, ...],
    as_json: bool,
) -> None:
    """Check SCORE_PY before deploying: load it as the server does, run init() and one run() in this process,
    and report what happened (model folder, diagnosis, result, timings, memory). Your script's prints and
    the shim's log lines go to stderr; the report to stdout. With --deployment, rehearse the deployment:
    its layout, environment variables, request timeout, probes, instance memory and conda environment.

    \b
    Exit codes:
      0  init() and run() work (and the result is JSON-serialisable)
      3  the script cannot be loaded or init() fails (the server exits with 3)
      4  run() fails, outlasts the scoring timeout, answers 5xx, or returns what cannot be serialised
      5  --deployment: the environment lacks a package the script or the model needs
      2  bad flags or a deployment that cannot be rehearsed (bad YAML, a missing path, a model to pass)
      1  anything else that stops the check (missing file, bad --input); 130 Ctrl-C (says where it was)

    \b
    Examples:
      score-shim check score.py --model-dir ./azureml-models/my-model/1 --input '{"data": [[1, 2, 3]]}'
      score-shim check score.py --input @sample-request.json --json | jq .run
      score-shim check score.py --input @cat.png --content-type image/png     # a @rawhttp run()
      score-shim check score.py --form image=@cat.png --form threshold=0.5   # an upload form
      score-shim check --deployment blue-deployment.yml --input @sample-request.json
      score-shim check --deployment blue-deployment.yml --model-path ./downloaded/my-model/model
    """
    from .check import CheckError, CheckOptions
    from .check import check as run_check
    from .check_render import render

    _one_script(script, deployment, model_dir, model_path, name="SCORE_PY")
    runner = run_check
    if deployment is not None:
        from .check_deployment import check_deployment as runner
    try:
        report, code = runner(CheckOptions(script, model_dir, input_, deployment, model_path, content_type, form))
    except CheckError as error:
        raise _stop(str(error), error.code) from None
    if as_json:
        import json

        click.echo(json.dumps(report, indent=2, default=str))
    else:
        render(report)
    sys.exit(code)


@cli.command(context_settings=_CONTEXT)
@click.argument("files", nargs=-1, metavar="[FILE]...")
@click.option("--request-id", metavar="ID", help="Show one request's whole story: every line with this id, in order.")
@click.option("--follow", "-f", is_flag=True, help="Keep reading appended lines, like tail -f (Ctrl-C to stop).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary (or the request's lines) as JSON.")
@click.option(
    "--raw", is_flag=True, help="With --request-id: the lines as they were written (for grep and jq), not as text."
)
@click.option("--follow-seconds", type=click.FloatRange(min=0), hidden=True)
@click.option(
    "--target-rps",
    type=click.FloatRange(min=0, min_open=True),
    metavar="N",
    help="Replicas needed for N requests per second (the troubleshooting guide's formula for 503s), from the "
    "log's time per request. Without it: the replicas for the rate the log shows.",
)
@click.option(
    "--target-utilization",
    type=click.FloatRange(min=0, max=1, min_open=True),
    metavar="FRACTION",
    default=0.7,
    show_default=True,
    help="The utilization to size for, a fraction (0.7 is 70 %).",
)
@click.option(
    "--max-concurrent-per-replica",
    type=click.IntRange(min=1),
    metavar="N",
    default=1,
    show_default=True,
    help="Requests one replica serves at once (max_concurrent_requests_per_instance).",
)
def logs(
    files: tuple[str, ...],
    request_id: str | None,
    follow: bool,
    as_json: bool,
    raw: bool,
    follow_seconds: float | None,
    target_rps: float | None,
    target_utilization: float,
    max_concurrent_per_replica: int,
) -> None:
    """Summarise container logs: init per worker, requests by status (with what the troubleshooting guide says
    of 408, 424, 429, 500, 502, 503, 504), failures by type and place, latency, the replicas a load needs,
    timeouts, killed workers. Reads FILEs (several replicas at once), or standard input.

    Any mix of the shim's JSON lines, the server's and gunicorn's text lines and tracebacks, from
    az ml online-deployment get-logs, kubectl logs (--prefix too) or docker logs.

    \b
    Examples:
      az ml online-deployment get-logs -e my-endpoint -n blue --lines 5000 | score-shim logs
      kubectl logs -l app=my-model --prefix --tail=-1 | score-shim logs
      score-shim logs replica-1.log replica-2.log --request-id 3f9c2a
      score-shim logs app.log --request-id 3f9c2a --raw | jq .event
      score-shim logs app.log --json | jq '.failures'
      score-shim logs app.log --target-rps 40
    """
    from ..logs.command import LogsError, LogsOptions
    from ..logs.command import run as run_logs
    from ..logs.summary import SizingAsk

    sizing = SizingAsk(target_rps, target_utilization, max_concurrent_per_replica)
    options = LogsOptions(files, request_id, follow, as_json, follow_seconds, sizing, raw)
    try:
        code = run_logs(options)
    except LogsError as error:
        raise _stop(str(error), 1) from None
    sys.exit(code)


@cli.command(context_settings=_CONTEXT)
@click.option("--port", type=click.IntRange(1, 65535), default=5678, show_default=True, help="The debugpy port.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Where VS Code connects (a tunnel's end).")
@click.option(
    "--local-root",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Your folder with score.py.  [default: the current folder]",
)
@click.option(
    "--remote-root", metavar="DIR", help="The same folder in the container.  [default: /var/azureml-app/NAME]"
)
@click.option("--name", default=None, help="The configuration's name (one with this name is replaced).")
@click.option("--just-my-code/--all-code", default=True, show_default=True, help="Step into your code only.")
@click.option(
    "--local",
    is_flag=True,
    help="For `score-shim serve --debug-port` on this machine: no path mapping (the files are the same).",
)
@click.option("--write", is_flag=True, help="Merge it into .vscode/launch.json, keeping what is there.")
def vscode(
    port: int,
    host: str,
    local_root: Path | None,
    remote_root: str | None,
    name: str | None,
    just_my_code: bool,
    local: bool,
    write: bool,
) -> None:
    """Print a VS Code launch.json that attaches to the shim's debugpy port (or merge it in with --write).

    \b
    Examples:
      score-shim serve score.py --debug-port 5678 & score-shim vscode --local --write
      kubectl port-forward pod/my-deployment-7d9c 5678:5678
      score-shim vscode --local-root onlinescoring --write      # maps it to /var/azureml-app/onlinescoring
    """
    from .vscode import DEFAULT_NAME, LOCAL_NAME, AttachOptions, VSCodeError, configuration, launch_json
    from .vscode import write as write_launch

    if local and (local_root or remote_root):
        raise click.UsageError("--local needs no --local-root or --remote-root: serve runs the files where they are.")
    workspace = Path.cwd()
    default_name = LOCAL_NAME if local else DEFAULT_NAME
    options = AttachOptions(port, host, local_root, remote_root, name or default_name, just_my_code, local)
    config = configuration(options, workspace)
    if not write:
        click.echo(launch_json(config), nl=False)
        return
    target = workspace / ".vscode" / "launch.json"
    try:
        done = write_launch(target, config)
    except VSCodeError as error:
        raise _stop(str(error), 1) from None
    click.echo(f"{done} {config['name']!r} in {target}", err=True)


@cli.command(context_settings=_CONTEXT)
@click.argument("code_dir", type=click.Path(path_type=Path), metavar="CODE_DIR")
@click.option(
    "--scoring-script",
    default="score.py",
    show_default=True,
    metavar="PATH",
    help="Your scoring script, relative to CODE_DIR: the deployment's code_configuration.scoring_script until now.",
)
def bundle(code_dir: Path, scoring_script: str) -> None:
    """Bundle the shim into the deployment's code folder CODE_DIR, so that the image needs nothing new.

    Writes CODE_DIR/_score_shim/ (the shim's runtime, structlog and typing_extensions, and a BUNDLE.json
    that lists them) and CODE_DIR/score_shim_entry.py, the new scoring script: it runs your script
    through the shim. The deployment then changes only code_configuration.scoring_script (printed).
    Packages the environment already has (structlog, an installed score-shim) are used before the
    bundled ones. Run it again to update the bundle in place; it never overwrites a score_shim_entry.py
    of your own.

    \b
    Example:
      score-shim bundle onlinescoring --scoring-script score.py
      # then, in the deployment YAML: scoring_script: score_shim_entry.py
    """
    from .bundle import BundleError, BundleOptions, render
    from .bundle import bundle as write_bundle

    try:
        result = write_bundle(BundleOptions(code_dir, scoring_script))
    except BundleError as error:
        raise _stop(str(error), error.code) from None
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo(render(result), nl=False)


@cli.command("entry-path", context_settings=_CONTEXT)
def entry_path() -> None:
    """Print the absolute path of the drop-in entry script (score_wrappers/entry.py), and nothing else.

    For the server's --entry_script where you control its command line (your own image, azmlinfsrv);
    SCORE_SHIM_ENTRY_SCRIPT names your own script. The entry itself is not imported here (importing it
    loads your script).

    \b
    Example:
      export SCORE_SHIM_ENTRY_SCRIPT=score.py
      azmlinfsrv --entry_script "$(score-shim entry-path)" --model_dir ./model
    """
    import importlib.util
    import os

    # find_spec of a top-level package locates it without running its __init__, let alone entry.py.
    spec = importlib.util.find_spec("score_wrappers")
    for folder in (spec.submodule_search_locations or []) if spec is not None else []:
        entry = os.path.join(os.path.abspath(folder), "entry.py")
        if os.path.isfile(entry):
            click.echo(entry)
            return
    raise click.ClickException("score_wrappers/entry.py is not installed beside score-shim: reinstall score-shim.")


def main() -> None:
    cli(prog_name="score-shim")
