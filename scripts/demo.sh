#!/usr/bin/env bash
# The score-shim demo, from a fresh clone:
#
#     bash scripts/demo.sh
#
# 1. creates (or reuses) the virtual environment .venv-demo and installs score-shim[demo] into it,
# 2. trains a small scikit-learn model into .demo/azureml-models/<name>/<version>/model/ (the Azure ML
#    v2 layout),
# 3. checks the unchanged entry script examples/sklearn/score.py before serving it (score-shim check): once
#    with the model folder one level too high (the v2 layout trap: the diagnosis names the fix), once right,
# 4. serves it through the real Azure ML inference server, wrapped by the shim, on 127.0.0.1,
# 5. sends two good requests and one bad one, and prints the responses,
# 6. stops the server and reads its log with score-shim logs: the summary, then the bad request's story.
#
# Settings (environment): PYTHON (default python3), DEMO_PORT (default: a free port),
# DEMO_WAIT_SECONDS (default 120).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

PYTHON="${PYTHON:-python3}"
VENV="$ROOT/.venv-demo"
DEMO_DIR="$ROOT/.demo"
MODEL_NAME="sklearn-diabetes"
MODEL_VERSION="1"
MODEL_DIR="$DEMO_DIR/azureml-models/$MODEL_NAME/$MODEL_VERSION"
SERVER_LOG="$DEMO_DIR/server.log"     # the server's stdout: one JSON object per line
SERVE_ERR="$DEMO_DIR/serve.stderr"    # `score-shim serve`'s own status lines
WAIT_SECONDS="${DEMO_WAIT_SECONDS:-120}"
STOP_SECONDS=60                       # `serve` itself gives the server 35 s to finish, then kills it

SERVE_PID=""

step() { printf '\n==> %s\n' "$*"; }
die() { printf '\ndemo: %s\n' "$*" >&2; exit 1; }

show_server_output() {
    # On a failure: what `serve` said and what the server's log adds up to, so that the reason is on screen.
    if [[ -s "$SERVE_ERR" ]]; then
        printf '\n--- score-shim serve said (stderr):\n' >&2
        tail -n 20 "$SERVE_ERR" | sed 's/^/  /' >&2
    fi
    if [[ -s "$SERVER_LOG" ]]; then
        printf '\n--- score-shim logs %s:\n' "$SERVER_LOG" >&2
        "$VENV/bin/score-shim" logs "$SERVER_LOG" >&2 || tail -n 15 "$SERVER_LOG" >&2
    fi
}

stop_server() {
    [[ -n "$SERVE_PID" ]] || return 0
    local pid="$SERVE_PID" waited=0
    SERVE_PID=""
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        while kill -0 "$pid" 2>/dev/null && (( waited < STOP_SECONDS * 10 )); do
            sleep 0.1
            waited=$((waited + 1))
        done
        if kill -0 "$pid" 2>/dev/null; then
            printf 'demo: score-shim serve (pid %s) did not stop within %s s; killing it. ' "$pid" "$STOP_SECONDS" >&2
            printf 'The server it started may still hold port %s.\n' "${PORT:-?}" >&2
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    wait "$pid" 2>/dev/null || true
}

on_exit() {
    local code=$?
    trap - EXIT INT TERM
    stop_server
    exit "$code"
}
trap on_exit EXIT
interrupted() {
    printf '\ndemo: interrupted; stopping the server\n' >&2
    exit "$1"
}
trap 'interrupted 130' INT
trap 'interrupted 143' TERM

# -- 1. the virtual environment ---------------------------------------------------------------------

command -v "$PYTHON" >/dev/null 2>&1 || die "$PYTHON not found: install Python 3.10 or newer (or set PYTHON=...)."
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
    || die "$("$PYTHON" --version 2>&1) is too old: score-shim needs Python 3.10 or newer (set PYTHON=...)."

if [[ ! -x "$VENV/bin/python" ]]; then
    step "creating the virtual environment $VENV"
    "$PYTHON" -m venv "$VENV" || {
        rm -rf "$VENV"
        die "'$PYTHON -m venv' failed (on Debian/Ubuntu: apt-get install python3-venv)."
    }
else
    step "reusing the virtual environment $VENV"
fi

# Installed again only when pyproject.toml changed since the last install (the install is editable, so
# code changes need no reinstall).
STAMP="$VENV/.score-shim-demo-installed"
WANT="$("$VENV/bin/python" -c 'import hashlib, sys; print(hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest())' pyproject.toml)"
if [[ ! -x "$VENV/bin/score-shim" || ! -f "$STAMP" || "$(cat "$STAMP")" != "$WANT" ]]; then
    step "installing score-shim with the demo extra (the Azure ML inference server, scikit-learn, httpx)"
    printf '    pip install -e '"'"'.[demo]'"'"'   (the first time this takes a minute or two)\n'
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e '.[demo]' \
        || die "pip install -e '.[demo]' failed (see above)."
    printf '%s\n' "$WANT" >"$STAMP"
else
    step "score-shim[demo] is already installed in $VENV"
fi
PY="$VENV/bin/python"
"$VENV/bin/score-shim" --version

# -- 2. the model ------------------------------------------------------------------------------------

step "training the model into $MODEL_DIR"
mkdir -p "$DEMO_DIR"
rm -rf "$DEMO_DIR/azureml-models"
"$PY" examples/sklearn/train.py "$DEMO_DIR" --name "$MODEL_NAME" --version "$MODEL_VERSION"

# -- 3. check before serving -------------------------------------------------------------------------

REQUEST="$DEMO_DIR/request.json"
printf '{"data": [[0.0381, 0.0507, 0.0617, 0.0219, -0.0442, -0.0348, -0.0434, -0.0026, 0.0199, -0.0176]]}\n' >"$REQUEST"
TOO_HIGH="$DEMO_DIR/azureml-models/$MODEL_NAME"
step "checking score.py with the model folder one level too high (a common mistake): exit 3 is expected"
printf '    score-shim check examples/sklearn/score.py --model-dir %s\n' "${TOO_HIGH#"$ROOT"/}"
code=0
"$VENV/bin/score-shim" check examples/sklearn/score.py --model-dir "$TOO_HIGH" 2>/dev/null | sed 's/^/    /' || code=${PIPESTATUS[0]}
(( code == 3 )) || die "score-shim check was expected to exit 3 (init() fails) with the wrong folder; it exited $code."

step "checking it with the right model folder and a real request"
printf '    score-shim check examples/sklearn/score.py --model-dir %s --input @%s\n' "${MODEL_DIR#"$ROOT"/}" "${REQUEST#"$ROOT"/}"
"$VENV/bin/score-shim" check examples/sklearn/score.py --model-dir "$MODEL_DIR" --input "@$REQUEST" 2>/dev/null \
    | sed 's/^/    /' || die "score-shim check failed with the right model folder (see above)."

# -- 4. the server -----------------------------------------------------------------------------------

PORT="${DEMO_PORT:-$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"
URL="http://127.0.0.1:$PORT"

step "serving examples/sklearn/score.py through the shim on $URL (server log: ${SERVER_LOG#"$ROOT"/})"
printf '    SCORE_SHIM_LOG_FORMAT=json score-shim serve examples/sklearn/score.py \\\n'
printf '        --model-dir %s --port %s\n' "${MODEL_DIR#"$ROOT"/}" "$PORT"
: >"$SERVER_LOG"
: >"$SERVE_ERR"
SCORE_SHIM_LOG_FORMAT=json "$VENV/bin/score-shim" serve examples/sklearn/score.py \
    --model-dir "$MODEL_DIR" --port "$PORT" >"$SERVER_LOG" 2>"$SERVE_ERR" &
SERVE_PID=$!

started=$SECONDS
until "$PY" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' "$URL/" 2>/dev/null; do
    if ! kill -0 "$SERVE_PID" 2>/dev/null; then
        code=0
        wait "$SERVE_PID" || code=$?
        SERVE_PID=""
        show_server_output
        die "the server stopped before it answered (exit code $code); its output is above."
    fi
    if (( SECONDS - started >= WAIT_SECONDS )); then
        show_server_output
        die "the server did not answer GET $URL/ within $WAIT_SECONDS s; giving up (set DEMO_WAIT_SECONDS to wait longer)."
    fi
    sleep 0.5
done
printf '    ready after %s s: GET / answered\n' "$((SECONDS - started))"

# -- 5. the requests ---------------------------------------------------------------------------------

step "sending requests"
"$PY" - "$URL" <<'PY'
import json
import sys

import httpx

url = sys.argv[1]
# Two rows of scikit-learn's diabetes data (10 features each, already scaled as the model expects).
rows = [
    [0.0381, 0.0507, 0.0617, 0.0219, -0.0442, -0.0348, -0.0434, -0.0026, 0.0199, -0.0176],
    [-0.0019, -0.0446, -0.0515, -0.0263, -0.0084, -0.0192, 0.0744, -0.0395, -0.0683, -0.0922],
]
requests = [  # (what, body, headers, the status it should get)
    ("a good request", {"data": rows}, {"x-request-id": "demo-ok-1"}, 200),
    ("another good request, no request id of ours (the server makes one)", {"data": rows[:1]}, {}, 200),
    ("a bad request: 3 features instead of 10", {"data": [[1, 2, 3]]}, {"x-request-id": "demo-bad-1"}, 500),
]
unexpected = []
with httpx.Client(timeout=30) as client:
    for title, body, headers, expected in requests:
        payload = json.dumps(body)
        header_args = "".join(f" -H '{k}: {v}'" for k, v in headers.items())
        print(f"\n--- {title}")
        print(f"$ curl -s {url}/score -H 'Content-Type: application/json'{header_args} -d '{payload}'")
        response = client.post(f"{url}/score", content=payload,
                               headers={"Content-Type": "application/json", **headers})
        print(f"HTTP {response.status_code}   x-request-id: {response.headers.get('x-request-id')}")
        print(response.text.strip())
        if response.status_code != expected:
            unexpected.append(f"{title}: HTTP {response.status_code}, expected {expected}")
if unexpected:
    sys.exit("\ndemo: unexpected answers:\n  " + "\n  ".join(unexpected))
PY

# -- 6. stop, then read the log ----------------------------------------------------------------------

step "stopping the server (SIGTERM to score-shim serve)"
stop_server
sed 's/^/    /' "$SERVE_ERR"

LOG="${SERVER_LOG#"$ROOT"/}"
step "what the log says: score-shim logs $LOG"
"$VENV/bin/score-shim" logs "$SERVER_LOG" | sed 's/^/    /'

step "the bad request's whole story: score-shim logs $LOG --request-id demo-bad-1"
"$VENV/bin/score-shim" logs "$SERVER_LOG" --request-id demo-bad-1 | sed 's/^/    /' \
    || die "no line of the log carries the bad request's id (demo-bad-1)."

# What the demo's requests must have left in the log, read back as data.
"$VENV/bin/score-shim" logs "$SERVER_LOG" --json | "$PY" -c '
import json, sys
summary = json.load(sys.stdin)
missing = []
if summary["init"].get("ok", 0) < 1:
    missing.append("init() ok")
if summary["requests"]["by_status"].get("200", 0) < 2:
    missing.append("two requests answered 200")
if not any("demo-bad-1" in group["request_ids"] for group in summary["failures"]):
    missing.append("the failure of request demo-bad-1")
if missing:
    sys.exit("demo: the log lacks: " + ", ".join(missing))
'

printf '\nDone. Serve it yourself:\n'
printf '    %s/bin/score-shim serve examples/sklearn/score.py --model-dir %s\n' \
    "${VENV#"$ROOT"/}" "${MODEL_DIR#"$ROOT"/}"
