"""``serve --deployment``: the real server, started inside a deployment's layout with its settings.

The same rehearsal as ``check --deployment`` (`shim.deploy.rehearse`): the code and the model where the
container has them, the deployment's environment variables, ``SCORING_TIMEOUT_MS`` from its request
timeout, the working directory at ``AML_APP_ROOT``. What the rehearsal found before start-up is printed
first, on standard error; the layout is removed when the server stops.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import click

from ..deploy.rehearse import Rehearsal, RehearsalError, prepare
from .rehearsal_render import render_deployment
from .serve import ServeError, ServeOptions, serve

EXIT_USAGE = 2


def serve_deployment(deployment: Path, model_path: Path | None, options: ServeOptions) -> int:
    """Lay ``deployment`` out, say what was found, and serve its scoring script until stopped."""
    try:
        rehearsal = prepare(deployment, model_path=model_path)
    except RehearsalError as error:
        raise ServeError(str(error), EXIT_USAGE) from None
    try:
        render_deployment(rehearsal.summary(), lambda line: click.echo(line, err=True))
        return serve(deployment_options(rehearsal, options))
    finally:
        rehearsal.cleanup()


def deployment_options(rehearsal: Rehearsal, options: ServeOptions) -> ServeOptions:
    """``options`` pointed at the layout: the script, the model folder, the variables, the working directory.

    The entry script and the model folder go through `ServeOptions` (so that the shim's entry still wraps
    the script); everything else the container sets goes into the environment. A debug port keeps its
    generous timeouts: a breakpoint would otherwise meet the deployment's request timeout.
    """
    environment = dict(rehearsal.environment)
    environment.pop("AZUREML_ENTRY_SCRIPT", None)
    model_dir = environment.pop("AZUREML_MODEL_DIR", None)
    if options.debug_port is not None and "SCORING_TIMEOUT_MS" not in rehearsal.deployment.environment_variables:
        environment.pop("SCORING_TIMEOUT_MS", None)
        print("score-shim: the debug port lifts the deployment's request timeout (SCORING_TIMEOUT_MS)", file=sys.stderr)
    return dataclasses.replace(
        options,
        script=rehearsal.script,
        model_dir=Path(model_dir) if model_dir else None,
        env={**options.env, **environment},
        cwd=rehearsal.layout.app_root,
    )
