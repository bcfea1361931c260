#!/usr/bin/env bash
# Ingest benchmark: xAPI statements per second over HTTP (batches of 100 and 500, at 1 and 4 clients, several
# tenants) and, in the same run, a raw COPY of the same rows as the ceiling, Ralph (PyPI ralph-malph, its
# file-system backend) given the same batches, each side paused while the other is measured, and the same server
# with --no-session-functions (each batch a scoped transaction) as the baseline of the one-call batch. Writes
# bench/results/ingest.{json,md}.
#
#   swift build -c release --product tenantscope && bench/ingest/run.sh
#   STATEMENTS=50000 CLIENTS="1 4 8" ROUNDS=5 TENANTSCOPE_BIN=.build/release/tenantscope bench/ingest/run.sh
#   RALPH=0 bench/ingest/run.sh         # without Ralph
#
# Ralph is installed on first use into bench/.cache/ralph-venv (git-ignored) from PyPI: python3 with venv and pip.
#   KEEP_STATE=1 bench/ingest/run.sh    # keep the state directory (and its database) for a closer look
#   RESULTS_DIR=/tmp/ingest-check bench/ingest/run.sh   # write ingest.{json,md} elsewhere (a check run)
#   BINARY_COMMIT=abc1234 TENANTSCOPE_BIN=/tmp/old/release/tenantscope ...  # a binary built from another commit
#   ROLLUP_INTERVAL=0.5 bench/ingest/run.sh   # the measured server's --rollup-interval (default: the server's own, 5 s)
set -euo pipefail
cd "$(dirname "$0")/../.."

BIN=${TENANTSCOPE_BIN:-.build/release/tenantscope}
[[ -x "$BIN" ]] || { echo "error: $BIN is missing: run \`swift build -c release --product tenantscope\` first or set TENANTSCOPE_BIN" >&2; exit 1; }
case "$BIN" in *release*) KIND=release ;; *debug*) KIND=debug ;; *) KIND=unknown ;; esac
RESULTS_DIR=${RESULTS_DIR:-$PWD/bench/results}
mkdir -p "$RESULTS_DIR"

STATE=$(mktemp -d /tmp/tenantscope-ingest.XXXXXX)
chmod 755 "$STATE"
SERVER_PID=""
TX_PID=""
RALPH_PID=""
cleanup() {
  # The server that attached to the embedded cluster first: the one that started it stops it as it exits.
  for pid in "$TX_PID" "$SERVER_PID" "$RALPH_PID"; do
    # A paused process (the benchmark stops each side while it measures the other) must go on to hear the signal.
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then kill -CONT "$pid"; kill -INT "$pid"; wait "$pid" || true; fi
  done
  if [[ -n "${KEEP_STATE:-}" ]]; then echo "• State kept in $STATE"; else rm -rf "$STATE"; fi
}
trap cleanup EXIT

echo "• Creating 4 tenants with LRS keys, and a tenant for the COPY ceiling ($KIND build)"
KEYS="["
for n in 1 2 3 4; do
  "$BIN" tenant create "bench-$n" --name "Bench $n" --state-dir "$STATE" >/dev/null 2>&1
  out=$("$BIN" lrs-key create --tenant "bench-$n" --state-dir "$STATE" 2>/dev/null)
  KEYS+="[\"bench-$n\",\"$(awk '/^key:/{print $2}' <<<"$out")\",\"$(awk '/^secret:/{print $2}' <<<"$out")\"]"
  [[ $n -lt 4 ]] && KEYS+=","
done
KEYS+="]"
"$BIN" tenant create copy-ceiling --name "COPY ceiling" --state-dir "$STATE" >/dev/null 2>&1

ROLLUP_INTERVAL=${ROLLUP_INTERVAL:-}
INTERVAL_OPTION=()
[[ -n "$ROLLUP_INTERVAL" ]] && INTERVAL_OPTION=(--rollup-interval "$ROLLUP_INTERVAL")
echo "• Starting the server${ROLLUP_INTERVAL:+ (--rollup-interval $ROLLUP_INTERVAL)}"
# --no-tenant-limits: this measures capacity, not one tenant's share of it (that is bench/noisy-neighbour).
# Each server in a session of its own (setsid): the benchmark stops one while it measures the other, and a stopped
# process in the script's own process group would get SIGHUP from the kernel when any other member exits (the rule
# for orphaned process groups with stopped members), killing both servers.
setsid "$BIN" serve --state-dir "$STATE" --port 0 --max-body-bytes 16777216 "${INTERVAL_OPTION[@]}" --no-tenant-limits >"$STATE/server.out" 2>"$STATE/server.err" &
SERVER_PID=$!
URL=""
for _ in $(seq 1 120); do
  URL=$(grep -o 'http://[0-9.]*:[0-9]*' "$STATE/server.out" 2>/dev/null | head -n 1 || true)
  [[ -n "$URL" ]] && break
  sleep 0.5
done
[[ -n "$URL" ]] || { cat "$STATE/server.err" >&2; exit 1; }

# The baseline of the session function (architecture decision 62): the same binary on the same cluster with
# --no-session-functions, each batch a scoped transaction. Its roll-up service rests (the first server's derives
# what both store), and neither TenantScope server is paused while the other is measured: an idle one does nothing,
# and one stopped inside a transaction could hold locks the other waits for.
echo "• Starting a second server with --no-session-functions (each batch a scoped transaction)"
setsid "$BIN" serve --state-dir "$STATE" --port 0 --max-body-bytes 16777216 --rollup-interval 3600 --no-tenant-limits \
  --no-session-functions >"$STATE/server-tx.out" 2>"$STATE/server-tx.err" &
TX_PID=$!
TX_URL=""
for _ in $(seq 1 120); do
  TX_URL=$(grep -o 'http://[0-9.]*:[0-9]*' "$STATE/server-tx.out" 2>/dev/null | head -n 1 || true)
  [[ -n "$TX_URL" ]] && break
  sleep 0.5
done
[[ -n "$TX_URL" ]] || { cat "$STATE/server-tx.err" >&2; exit 1; }

RALPH=${RALPH:-1}
RALPH_VERSION=5.1.0
RALPH_URL=""
RALPH_CREDENTIALS=""
if [[ "$RALPH" == 1 ]]; then
  RALPH_VENV=bench/.cache/ralph-venv
  if [[ ! -x "$RALPH_VENV/bin/ralph" || ! -x "$RALPH_VENV/bin/uvicorn" ]]; then
    echo "• Installing Ralph $RALPH_VERSION from PyPI into $RALPH_VENV (once)"
    python3 -m venv "$RALPH_VENV" || { echo "error: python3 -m venv failed (apt-get install -y python3-venv)" >&2; exit 1; }
    # requests: ralph.api imports it (its OIDC module) although no extra of ralph-malph 5.1.0 names it.
    "$RALPH_VENV/bin/pip" install --quiet --disable-pip-version-check "ralph-malph[lrs,cli]==$RALPH_VERSION" requests
  fi
  RALPH_PASSWORD=$(python3 -c "import secrets; print(secrets.token_hex(16))")
  mkdir -p "$STATE/ralph"
  # Both the auth command and the server read these (ralph.api loads the backend when it is imported).
  export RALPH_AUTH_FILE="$STATE/ralph-auth.json" RALPH_RUNSERVER_BACKEND=fs RALPH_BACKENDS__LRS__FS__DEFAULT_DIRECTORY_PATH="$STATE/ralph"
  "$RALPH_VENV/bin/ralph" auth --username bench --password "$RALPH_PASSWORD" --scope all \
    --agent-ifi-mbox mailto:bench@bench.example --write-to-disk >/dev/null 2>"$STATE/ralph-auth.err" \
    || { tail -n 20 "$STATE/ralph-auth.err" >&2; exit 1; }
  RALPH_PORT=$(python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
  echo "• Starting Ralph (its LRS app in one uvicorn process, file-system backend appending) on port $RALPH_PORT"
  # bench/ingest/ralph_app.py says why the backend is set to append.
  setsid "$RALPH_VENV/bin/uvicorn" --app-dir "$PWD/bench/ingest" ralph_app:app --host 127.0.0.1 --port "$RALPH_PORT" --log-level warning \
    >"$STATE/ralph.out" 2>"$STATE/ralph.err" &
  RALPH_PID=$!
  RALPH_URL="http://127.0.0.1:$RALPH_PORT"
  for _ in $(seq 1 120); do
    curl -fs "$RALPH_URL/__heartbeat__" >/dev/null 2>&1 && break
    kill -0 "$RALPH_PID" 2>/dev/null || { cat "$STATE/ralph.err" >&2; exit 1; }
    sleep 0.5
  done
  curl -fs "$RALPH_URL/__heartbeat__" >/dev/null || { echo "error: Ralph did not answer its heartbeat" >&2; cat "$STATE/ralph.err" >&2; exit 1; }
  RALPH_CREDENTIALS="bench:$RALPH_PASSWORD"
fi

OWNER_URL=$("$BIN" db url --state-dir "$STATE" 2>/dev/null)
SUPERUSER_URL=$(python3 -c "import json,sys; s=json.load(open('$STATE/embedded.json')); print('postgresql://postgres:%s@127.0.0.1:%d/tenantscope?sslmode=disable' % (s['superuserPassword'], s['port']))")
tenant_id() { psql "$SUPERUSER_URL" -XAtq -c "SELECT id FROM app.tenants WHERE slug = '$1'"; }

SERVER_URL="$URL" OWNER_URL="$OWNER_URL" SUPERUSER_URL="$SUPERUSER_URL" LRS_KEYS="$KEYS" \
COPY_TENANT_ID=$(tenant_id copy-ceiling) SOURCE_TENANT_ID=$(tenant_id bench-1) BINARY_KIND="$KIND" \
SERVER_PID="$SERVER_PID" TX_URL="$TX_URL" TX_PID="$TX_PID" RALPH_URL="$RALPH_URL" RALPH_PID="$RALPH_PID" RALPH_CREDENTIALS="$RALPH_CREDENTIALS" \
RALPH_STORE="$STATE/ralph/fs_lrs.jsonl" RALPH_VERSION="$RALPH_VERSION" ROLLUP_INTERVAL="$ROLLUP_INTERVAL" \
RESULTS_DIR="$RESULTS_DIR" python3 bench/ingest/ingest.py
