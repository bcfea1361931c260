#!/usr/bin/env bash
# Runs real outside clients against a running TenantScope: TinCanPython (PyPI `tincan`) saves, queries,
# pages, voids and retrieves statements over HTTP with two tenants' LRS credentials.
# Called by scripts/run-tests.sh after the Swift tests; needs the built binary ($TENANTSCOPE_BIN).
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${TENANTSCOPE_BIN:-$(swift build --show-bin-path)/tenantscope}
[[ -x "$BIN" ]] || { echo "error: $BIN is missing; build first (swift build)" >&2; exit 1; }

# The client lives in a git-ignored virtual environment, installed once.
VENV=.venv
if [[ ! -x "$VENV/bin/python" ]] || ! "$VENV/bin/python" -c "import tincan" 2>/dev/null; then
  echo "• Installing the TinCanPython client into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "tincan==1.0.0"
fi

ROOT=${TENANTSCOPE_TEST_ROOT:-$(mktemp -d /tmp/tenantscope-clients.XXXXXX)}
STATE=$(mktemp -d "$ROOT/clients.XXXXXX")
chmod 755 "$ROOT" "$STATE"
SERVER_PID=""
stop_server() {
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -INT "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
}
trap stop_server EXIT

echo "• Creating two tenants with LRS credentials"
declare -A KEY SECRET
for tenant in client-a client-b; do
  "$BIN" tenant create "$tenant" --name "Client test $tenant" --state-dir "$STATE" >/dev/null 2>&1
  credentials=$("$BIN" lrs-key create --tenant "$tenant" --label tincan-test --state-dir "$STATE" 2>/dev/null)
  KEY[$tenant]=$(awk '/^key:/ {print $2}' <<<"$credentials")
  SECRET[$tenant]=$(awk '/^secret:/ {print $2}' <<<"$credentials")
done

echo "• Starting the server"
"$BIN" serve --state-dir "$STATE" --port 0 >"$STATE/server.out" 2>"$STATE/server.err" &
SERVER_PID=$!
URL=""
for _ in $(seq 1 120); do
  URL=$(grep -o 'http://[0-9.]*:[0-9]*' "$STATE/server.out" 2>/dev/null | head -n 1 || true)
  [[ -n "$URL" ]] && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$STATE/server.err" >&2; echo "error: the server exited" >&2; exit 1; }
  sleep 0.5
done
[[ -n "$URL" ]] || { cat "$STATE/server.err" >&2; echo "error: the server did not start within 60 s" >&2; exit 1; }

echo "• TinCanPython against $URL/xAPI/"
LRS_ENDPOINT="$URL/xAPI/" \
LRS_A_KEY=${KEY[client-a]} LRS_A_SECRET=${SECRET[client-a]} \
LRS_B_KEY=${KEY[client-b]} LRS_B_SECRET=${SECRET[client-b]} \
  "$VENV/bin/python" Tests/clients/tincan_client_test.py
