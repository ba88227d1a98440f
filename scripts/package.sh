#!/usr/bin/env bash
# Build score-shim's wheel and sdist into dist/ as a release would (`python -m build`: the sdist, then the
# wheel from the sdist), check them (`twine check`; what each archive holds: scripts/check_dist.py), then
# install the wheel ALONE into a fresh virtual environment (its own dependencies only: structlog, click,
# pyyaml; no server) and run what a user runs: `score-shim --version`, `score-shim entry-path`, and the
# drop-in entry on a tiny score.py.
#
#   bash scripts/package.sh                  # with python3
#   bash scripts/package.sh /path/to/python  # with another interpreter
#
# build, twine and readme-renderer come from the dev extra, in the environment scripts/test.sh makes
# (.venv-test-<version>); they are installed there if it lacks them.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"

PYTHON="${1:-python3}"
VERSION="$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
TOOLS=".venv-test-$VERSION"
export PIP_DISABLE_PIP_VERSION_CHECK=1

echo "== score-shim package on Python $VERSION ($PYTHON), tools from $TOOLS"
if ! "$TOOLS/bin/python" -c 'import build, twine, readme_renderer.markdown' 2>/dev/null; then
    [ -x "$TOOLS/bin/python" ] || "$PYTHON" -m venv "$TOOLS"
    "$TOOLS/bin/python" -m pip install --quiet 'build>=1.2' 'twine>=5.1' 'readme-renderer[md]>=44'
fi

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

rm -rf dist
if ! "$TOOLS/bin/python" -m build --outdir dist . >"$WORK/build.log" 2>&1; then
    cat "$WORK/build.log" >&2
    echo "package: python -m build failed" >&2
    exit 1
fi
echo "   python -m build: the sdist, then the wheel from the sdist (isolated, with hatchling)"
"$TOOLS/bin/twine" check --strict dist/*
"$TOOLS/bin/python" scripts/check_dist.py dist
WHEEL="$ROOT/$(ls dist/*.whl)"

# A fresh environment with the wheel alone: what `pip install score-shim` gives a user.
"$PYTHON" -m venv "$WORK/venv"
"$WORK/venv/bin/python" -m pip install --quiet "$WHEEL"
"$WORK/venv/bin/python" -m pip check >/dev/null
installed="$("$WORK/venv/bin/python" -m pip list --format=freeze --exclude pip --exclude setuptools | tr '\n' ' ')"
echo "   installed the wheel alone into a fresh environment: $installed"

# Run from an empty folder, with no PYTHONPATH: nothing of this checkout can be imported there.
mkdir "$WORK/app"
cd "$WORK/app"
unset PYTHONPATH SCORE_SHIM_ENTRY_SCRIPT
fail() {
    echo "package: $*" >&2
    exit 1
}

expected_version="$(basename "$WHEEL" | cut -d- -f2)"
version="$("$WORK/venv/bin/score-shim" --version)"
[ "$version" = "score-shim, version $expected_version" ] || fail "score-shim --version printed '$version'"
echo "   score-shim --version: $version"

entry="$("$WORK/venv/bin/score-shim" entry-path)"
case "$entry" in
    "$WORK"/venv/lib/python*/site-packages/score_wrappers/entry.py) ;;
    *) fail "score-shim entry-path printed '$entry', not the installed score_wrappers/entry.py" ;;
esac
[ -f "$entry" ] || fail "score-shim entry-path printed '$entry', which does not exist"
[ -f "$(dirname "$entry")/logging.json" ] || fail "no logging.json beside $entry"
echo "   score-shim entry-path: $entry (exists, with logging.json beside it)"

"$WORK/venv/bin/python" - "$WORK/venv" <<'PY' || fail "import score_wrappers, shim did not import the installed packages"
import os, sys
import score_wrappers, shim
for module in (score_wrappers, shim):
    assert os.path.realpath(module.__file__).startswith(os.path.realpath(sys.argv[1])), module.__file__
PY
echo "   python -c 'import score_wrappers, shim': both from the fresh environment"

# The drop-in entry, as the server loads it: SCORE_SHIM_ENTRY_SCRIPT names the user's script.
cat >score.py <<'PY'
def init():
    global ready
    ready = True


def run(raw_data):
    return {"echo": raw_data, "ready": ready}
PY
SCORE_SHIM_ENTRY_SCRIPT="$WORK/app/score.py" "$WORK/venv/bin/python" - >"$WORK/entry.log" 2>&1 <<'PY' || {
import score_wrappers.entry as entry

assert entry.__all__ == ["init", "run"], entry.__all__
entry.init()
result = entry.run('{"x": 1}')
assert result == {"echo": '{"x": 1}', "ready": True}, result
print("RESULT-OK")
PY
    cat "$WORK/entry.log" >&2
    fail "the drop-in entry did not load and run a tiny score.py"
}
grep -q '"event": "shim.init.ok"' "$WORK/entry.log" || fail "no shim.init.ok line from the drop-in entry"
grep -q '"event": "shim.run.ok"' "$WORK/entry.log" || fail "no shim.run.ok line from the drop-in entry"
grep -qx 'RESULT-OK' "$WORK/entry.log" || fail "the drop-in entry's run() did not answer"
echo "   import score_wrappers.entry (SCORE_SHIM_ENTRY_SCRIPT=score.py): init() and run() wrapped, logged, answered"
echo "== package OK: $(cd "$ROOT" && ls dist | tr '\n' ' ')"
