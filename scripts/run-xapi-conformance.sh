#!/usr/bin/env bash
# ADL's official LRS conformance suite (xAPI 1.0.3 battery, 1,365 tests) against a running TenantScope.
#   usage: scripts/run-xapi-conformance.sh ENDPOINT KEY SECRET
#     ENDPOINT  the server's xAPI base without a trailing slash, e.g. http://127.0.0.1:8080/xAPI
#     KEY/SECRET  one throw-away tenant's LRS key (the suite writes statements and documents into it)
# The suite is read from $XAPI_CONFORMANCE_DIR (default: ../shared/xapi-conformance beside the
# repository) and copied to a temporary directory first; nothing is written there. A failing test that
# is not listed in Tests/clients/xapi-conformance-known-failures.txt fails this script; a listed one
# that passes is reported so that the list only ever shrinks.
set -euo pipefail
cd "$(dirname "$0")/.."
ENDPOINT=${1:?usage: run-xapi-conformance.sh ENDPOINT KEY SECRET}; KEY=${2:?KEY}; SECRET=${3:?SECRET}
SUITE=${XAPI_CONFORMANCE_DIR:-../shared/xapi-conformance}
KNOWN=Tests/clients/xapi-conformance-known-failures.txt
if [[ ! -d "$SUITE/suite" ]]; then
  echo "• ADL's conformance suite is not at $SUITE (set XAPI_CONFORMANCE_DIR): not run"
  exit 0
fi

pkgs=(nodejs mocha node-axios node-extend node-moment node-superagent node-request node-methods node-should node-uuid node-lodash-packages node-safe-buffer)
if ! dpkg -s "${pkgs[@]}" >/dev/null 2>&1; then
  if [[ $(id -u) -eq 0 ]]; then
    echo "• Installing the suite's Debian packages (${pkgs[*]})"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
  else
    echo "error: the conformance suite needs: sudo apt-get install -y ${pkgs[*]}" >&2
    exit 1
  fi
fi

WORK=$(mktemp -d /tmp/tenantscope-adl.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
cp -a "$SUITE/suite/." "$WORK/"
chmod -R u+w "$WORK"
# Some copies of the suite hold its two local packages' symbolic links as plain files naming the
# target (e.g. node_modules/supertest containing "../local/supertest"): restore them as links.
for entry in "$WORK"/node_modules/*; do
  if [[ -f "$entry" && $(stat -c %s "$entry") -lt 200 ]]; then
    target=$(head -c 200 "$entry")
    if [[ "$target" == ../* && -d "$WORK/node_modules/$target" ]]; then
      rm "$entry" && ln -s "$target" "$entry"
    fi
  fi
done

echo "• ADL's xAPI 1.0.3 conformance suite against $ENDPOINT (about a minute)"
(cd "$WORK" && NODE_PATH=/usr/share/nodejs:/usr/lib/nodejs \
  node bin/run-mocha.js "$ENDPOINT" "$KEY" "$SECRET" "$WORK/results.json" "" v1_0_3 1.0.3 >"$WORK/run.log" 2>&1) || true
if [[ ! -s "$WORK/results.json" ]]; then
  tail -n 20 "$WORK/run.log" >&2
  echo "error: the conformance suite produced no results" >&2
  exit 1
fi
python3 - "$WORK/results.json" "$KNOWN" <<'PY'
import json, sys
data = json.load(open(sys.argv[1]))
results = data["results"] if isinstance(data, dict) and "results" in data else data
known = {line.strip() for line in open(sys.argv[2]) if line.strip() and not line.startswith("#")}
passed = [r for r in results if r.get("state") == "passed"]
failed = [r for r in results if r.get("state") == "failed"]
titles = {r.get("fullTitle", "") for r in failed}
new = sorted(titles - known)
fixed = sorted(t for t in known if t not in titles and any(r.get("fullTitle") == t for r in passed))
for title in new:
    print("  FAILED (not a known failure): " + title)
for title in fixed:
    print("  now passes, remove from the known failures: " + title)
print("  %d passed, %d failed (%d known)" % (len(passed), len(failed), len(titles & known)))
sys.exit(1 if new else 0)
PY
