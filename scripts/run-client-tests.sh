#!/usr/bin/env bash
# Runs real outside clients against a running TenantScope: TinCanPython (PyPI `tincan`) saves, queries,
# pages, voids and retrieves statements over HTTP with two tenants' LRS credentials; the MCP client
# (PyPI `mcp`) lists and calls the /mcp tools as one tenant's agent; ADL's xAPI
# conformance suite runs against a third tenant (scripts/run-xapi-conformance.sh); then headless
# Chromium (Selenium) embeds the demo tenant acme's dashboard in an iframe on another origin, checks
# it with axe-core and takes the README's screenshots (1280 and 390 px wide).
# Called by scripts/run-tests.sh after the Swift tests; needs the built binary ($TENANTSCOPE_BIN).
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${TENANTSCOPE_BIN:-$(swift build --show-bin-path)/tenantscope}
[[ -x "$BIN" ]] || { echo "error: $BIN is missing; build first (swift build)" >&2; exit 1; }

# The clients live in the git-ignored virtual environment .venv/, installed once (scripts/ensure-venv.sh).
VENV=.venv
scripts/ensure-venv.sh

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

echo "• Creating three tenants with LRS credentials"
declare -A KEY SECRET
for tenant in client-a client-b adl-conformance; do
  "$BIN" tenant create "$tenant" --name "Client test $tenant" --state-dir "$STATE" >/dev/null 2>&1
  credentials=$("$BIN" lrs-key create --tenant "$tenant" --label tincan-test --state-dir "$STATE" 2>/dev/null)
  KEY[$tenant]=$(awk '/^key:/ {print $2}' <<<"$credentials")
  SECRET[$tenant]=$(awk '/^secret:/ {print $2}' <<<"$credentials")
done

# The conformance suite writes thousands of statements and documents, faster than the standard tier's LRS
# rate allows; it tests conformance, not limits, so its tenant gets an override (as an operator would give
# it), set before the server starts so that the server's first load of the limits has it.
limits=$("$BIN" tenant limits adl-conformance --ingest-rate 100000 --ingest-burst 100000 --state-dir "$STATE" 2>/dev/null)
grep -q "ingest rate        100000/s burst 100000 (override)" <<<"$limits" || { echo "error: tenant limits printed: $limits" >&2; exit 1; }

echo "• Starting the server"
# --demo loads the demo tenants (about a minute), so the browser sees a dashboard with real-looking data.
"$BIN" serve --demo --state-dir "$STATE" --port 0 --embed-origin 'http://127.0.0.1:*' >"$STATE/server.out" 2>"$STATE/server.err" &
SERVER_PID=$!
URL=""
# The server exits on a failed start (checked every round), so this bound only stops a hung start:
# it is generous so that a slow machine never trips it.
for _ in $(seq 1 1200); do
  URL=$(grep -o 'http://[0-9.]*:[0-9]*' "$STATE/server.out" 2>/dev/null | head -n 1 || true)
  [[ -n "$URL" ]] && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$STATE/server.err" >&2; echo "error: the server exited" >&2; exit 1; }
  sleep 0.5
done
[[ -n "$URL" ]] || { cat "$STATE/server.err" >&2; echo "error: the server did not start within 10 minutes" >&2; exit 1; }

echo "• TinCanPython against $URL/xAPI/"
LRS_ENDPOINT="$URL/xAPI/" \
LRS_A_KEY=${KEY[client-a]} LRS_A_SECRET=${SECRET[client-a]} \
LRS_B_KEY=${KEY[client-b]} LRS_B_SECRET=${SECRET[client-b]} \
  "$VENV/bin/python" Tests/clients/tincan_client_test.py

echo "• The MCP client (PyPI mcp) against $URL/mcp"
# Each of the two tenants gets a statement about an activity named after its own canary; tenant A's agent
# must see A's and never B's, however it phrases the SQL.
declare -A CANARY
for tenant in client-a client-b; do
  CANARY[$tenant]="mcp-canary-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  curl -fsS -o /dev/null -u "${KEY[$tenant]}:${SECRET[$tenant]}" -H "X-Experience-API-Version: 1.0.3" -H "Content-Type: application/json" \
    -X POST "$URL/xAPI/statements" --data "{\"actor\":{\"mbox\":\"mailto:mcp@client.example\"},\"verb\":{\"id\":\"http://adlnet.gov/expapi/verbs/experienced\"},\"object\":{\"id\":\"https://client.example/${CANARY[$tenant]}\"}}"
done
MCP_URL="$URL/mcp" A_CANARY=${CANARY[client-a]} B_CANARY=${CANARY[client-b]} \
MCP_A_TOKEN=$("$BIN" token --tenant client-a --role analyst --ttl 600 --state-dir "$STATE" 2>/dev/null) \
MCP_A_VIEWER=$("$BIN" token --tenant client-a --role viewer --ttl 600 --state-dir "$STATE" 2>/dev/null) \
  "$VENV/bin/python" Tests/clients/mcp_client_test.py

# A tenant of its own: the suite writes thousands of statements and documents, faster than the standard tier's
# LRS rate allows; it tests conformance, not limits, so its tenant gets an override (as an operator would give it).
limits=$("$BIN" tenant limits adl-conformance --ingest-rate 100000 --ingest-burst 100000 --state-dir "$STATE" 2>/dev/null)
grep -q "ingest rate        100000/s burst 100000 (override)" <<<"$limits" || { echo "error: tenant limits printed: $limits" >&2; exit 1; }
sleep 6  # the running server reloads limits every 5 s (--tenant-limits-refresh)
scripts/run-xapi-conformance.sh "$URL/xAPI" "${KEY[adl-conformance]}" "${SECRET[adl-conformance]}"

echo "• Headless Chromium embeds the dashboard"
"$BIN" rollups rebuild --state-dir "$STATE" >/dev/null 2>&1
TENANT_ID=$("$BIN" tenant list --state-dir "$STATE" 2>/dev/null | awk '$1 == "acme" {print $(NF-1)}')
SCREENSHOT="$STATE/embedded-dashboard.png"
SCREENSHOT_MOBILE="$STATE/embedded-dashboard-mobile.png"
DASHBOARD_BASE="$URL" TENANT_SLUG=acme TENANT_ID="$TENANT_ID" SCREENSHOT="$SCREENSHOT" SCREENSHOT_MOBILE="$SCREENSHOT_MOBILE" \
EMBED_TOKEN=$("$BIN" token --tenant acme --role viewer --ttl 600 --state-dir "$STATE" 2>/dev/null) \
EMBED_ADMIN_TOKEN=$("$BIN" token --tenant acme --role admin --ttl 600 --state-dir "$STATE" 2>/dev/null) \
ATTACKER_LRS="${KEY[client-b]}:${SECRET[client-b]}" \
  "$VENV/bin/python" Tests/browser/embedded_dashboard_test.py
# The README shows these screenshots; refresh them when asked or when one is missing.
for shot in embedded-dashboard embedded-dashboard-mobile; do
  if [[ ! -f docs/images/$shot.png || "${UPDATE_SCREENSHOTS:-0}" == "1" ]]; then
    mkdir -p docs/images && cp "$STATE/$shot.png" "docs/images/$shot.png"
    echo "• Saved docs/images/$shot.png"
  fi
done

# schemathesis generates requests for every operation of /openapi.yaml (examples, boundary values,
# fuzzed values, stateful sequences) with a tenant admin's token and with a platform operator's, and
# fails on any 5xx: bad input must be a 4xx. Bounded examples and a fixed seed keep it short and repeatable.
echo "• schemathesis against $URL/openapi.yaml (no server errors for any generated request)"
for credential in "--tenant acme --role admin" "--platform --operator schemathesis"; do
  # shellcheck disable=SC2086
  TOKEN=$("$BIN" token $credential --ttl 3600 --state-dir "$STATE" 2>/dev/null)
  "$VENV/bin/schemathesis" run "$URL/openapi.yaml" --checks not_a_server_error -H "Authorization: Bearer $TOKEN" \
    --max-examples 15 --seed 1 --request-timeout 30 --max-redirects 0 --warnings off >"$STATE/schemathesis.log" 2>&1 \
    || { tail -n 60 "$STATE/schemathesis.log" >&2; echo "error: schemathesis found server errors ($credential)" >&2; exit 1; }
  grep -E "generated" "$STATE/schemathesis.log" | tail -n 1 | sed 's/^/  /'
done
