"""The user's terminal: the ``score-shim`` click group (``app``) and its commands.

``serve`` runs the real azmlinfsrv app in a child process (``server_process``, azmlinfsrv's own start-up
bound to 127.0.0.1); ``check`` runs ``init()`` and one ``run()`` in process and ``check_render`` shows the
report; ``vscode`` writes the attach configuration. Nothing here runs in a served request, so it may be
heavier than the runtime and may import every other part of the shim; the commands import their modules
when they run, so that ``score-shim --help`` stays quick.
"""

from .app import cli, main

__all__ = ["cli", "main"]
