#!/usr/bin/env bash
# Starts the server with the demo tenants on the embedded PostgreSQL. Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."

state_dir=${STATE_DIR:-$PWD/.tenantscope}
if [[ $(id -u) -eq 0 ]] && ! runuser -u postgres -- test -x "$(dirname "$state_dir")" 2>/dev/null; then
  # As root the cluster runs as the postgres OS user, which cannot reach this checkout.
  state_dir=/var/lib/tenantscope/demo
  echo "• The postgres OS user cannot reach $PWD; using the state directory $state_dir"
fi

echo "• Building tenantscope"
swift build --product tenantscope
exec "$(swift build --show-bin-path)/tenantscope" serve --demo --state-dir "$state_dir" --host "${HOST:-127.0.0.1}" --port "${PORT:-8080}"
