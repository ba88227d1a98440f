#!/usr/bin/env bash
# Build a fresh virtual environment from pyproject.toml and run the whole check: ruff, mypy, pytest.
#
#   bash scripts/test.sh                 # with python3
#   bash scripts/test.sh /path/to/python # with another interpreter (CI runs the oldest and newest)
#   bash scripts/test.sh python3 -k log  # extra arguments go to pytest
#   LINT=0 bash scripts/test.sh ...      # pytest only, without ruff and mypy and their packages (CI's other
#                                        # Pythons: ruff reads no Python version, mypy checks 3.10 wherever it runs)
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
if [ "${LINT:-1}" = "0" ]; then
    "$VENV/bin/python" -m pip install --quiet -e '.[test,debug]'
else
    "$VENV/bin/python" -m pip install --quiet -e '.[dev]'
    "$VENV/bin/ruff" check .
    "$VENV/bin/mypy"
fi
# pytest exits 5 when it collected no test: with `set -e` that fails the run, as it should.
"$VENV/bin/python" -m pytest "$@"
