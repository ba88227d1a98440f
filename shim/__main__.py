"""``python -m shim`` is ``score-shim``."""

from .cli import main

main()
