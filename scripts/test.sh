#!/usr/bin/env bash
# Build a fresh virtual environment from pyproject.toml and run the whole check: ruff, mypy, pytest.
#
#   bash scripts/test.sh                 # with python3
#   bash scripts/test.sh /path/to/python # with another interpreter (CI runs the oldest and newest)
#   bash scripts/test.sh python3 -k log  # extra arguments go to pytest
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${1:-python3}"
shift || true
VERSION="$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
VENV=".venv-test-$VERSION"

echo "== score-shim tests on Python $VERSION ($PYTHON) in $VENV"
if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet -e '.[dev]'

"$VENV/bin/ruff" check .
"$VENV/bin/mypy"
# pytest exits 5 when it collected no test: with `set -e` that fails the run, as it should.
"$VENV/bin/python" -m pytest "$@"
