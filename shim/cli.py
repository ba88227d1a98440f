"""The ``score-shim`` command line."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ._version import __version__

_CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(context_settings=_CONTEXT)
@click.version_option(__version__, prog_name="score-shim")
def cli() -> None:
    """Debug Azure ML entry scripts (score.py): run them locally through the real server with
    structured logs, check them before deploying, read container logs, attach VS Code."""


@cli.command(context_settings=_CONTEXT)
@click.argument("script", type=click.Path(dir_okay=False, path_type=Path))
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
def serve(script: Path, model_dir: Path | None, port: int, workers: int, bare: bool) -> None:
    """Serve SCRIPT through the real Azure ML inference server, wrapped by the shim, on 127.0.0.1.

    \b
    Example:
      score-shim serve score.py --model-dir ./azureml-models/my-model/1
      curl -X POST http://127.0.0.1:5001/score -H 'Content-Type: application/json' -d '{"data": [[1,2]]}'
    """
    from ._serve import ServeError, ServeOptions
    from ._serve import serve as run_server

    options = ServeOptions(script=script, model_dir=model_dir, port=port, workers=workers, shim=not bare)
    try:
        code = run_server(options)
    except ServeError as error:
        raise click.ClickException(str(error)) from None
    sys.exit(code)


def main() -> None:
    cli(prog_name="score-shim")
