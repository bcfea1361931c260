# Shared by the benchmark scripts (sourced): checks the binary and common knobs, starts the embedded cluster
# in a fresh directory under /tmp and stops and removes it on exit. Callers set BENCH_TAG and BIN first, and
# BENCH_DATASET when their data is not STATEMENTS statements over TENANTS tenants.
#
# With BENCH_REUSE_STATE=DIR (a stopped cluster bench/query kept with KEEP_STATE=1, holding STATEMENTS statements
# over TENANTS tenants with its roll-ups rebuilt), the cluster in DIR is started instead, and only stopped on
# exit: bench/scaling measures one dataset with both bench/query and bench/http.

progress() { printf '[%s %s] %s\n' "$BENCH_TAG" "$(date +%H:%M:%S)" "$*" >&2; }
fail() { printf '%s: %s\n' "$BENCH_TAG" "$*" >&2; exit 1; }

# bench_check_dataset_knobs: STATEMENTS, TENANTS and SEED as bench/query/generate.sql accepts them (TENANTS at
# least BENCH_MIN_TENANTS, default 3).
bench_check_dataset_knobs() {
  [[ -x "$BIN" ]] || fail "no tenantscope binary at $BIN: run \`swift build -c release --product tenantscope\` first or set TENANTSCOPE_BIN"
  BIN=$(realpath "$BIN")
  command -v psql >/dev/null || fail "psql not found (apt-get install -y postgresql-client)"
  command -v python3 >/dev/null || fail "python3 not found"
  [[ "$STATEMENTS" =~ ^[0-9]+$ && "$STATEMENTS" -ge 1000 ]] || fail "STATEMENTS must be an integer >= 1000"
  local min_tenants=${BENCH_MIN_TENANTS:-3}   # bench/exports loads a single tenant
  [[ "$TENANTS" =~ ^[0-9]+$ && "$TENANTS" -ge $min_tenants && "$TENANTS" -le 9999 ]] || fail "TENANTS must be an integer in $min_tenants...9999"
  [[ "$SEED" =~ ^[0-9]+$ ]] || fail "SEED must be a non-negative integer"
}

# bench_start_cluster: sets STATE and LOAD_START, starts the cluster, and stops it (and removes STATE) on exit.
bench_start_cluster() {
  # The product reads these before --state-dir; a benchmark must talk to its own cluster only.
  unset DATABASE_URL TENANTSCOPE_STATE_DIR
  LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
  if [[ -n "${BENCH_REUSE_STATE:-}" ]]; then
    [[ -f "$BENCH_REUSE_STATE/embedded.json" ]] || fail "BENCH_REUSE_STATE=$BENCH_REUSE_STATE holds no embedded cluster"
    STATE=$(realpath "$BENCH_REUSE_STATE")
  else
    STATE=$(mktemp -d "/tmp/tenantscope-$BENCH_TAG.XXXXXX")
    chmod 755 "$STATE"   # the postgres OS user (when run as root) must reach STATE/postgres
  fi
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
  progress "Binary $BIN; ${BENCH_DATASET:-$STATEMENTS statements over $TENANTS tenants}; state in $STATE"
  "$BIN" db start --state-dir "$STATE" >/dev/null 2>"$STATE/start.log" || { cat "$STATE/start.log" >&2; fail "db start failed"; }
}

bench_cleanup() {
  local status=$?
  trap - EXIT INT TERM
  progress "Stopping the cluster"
  "$BIN" db stop --state-dir "$STATE" >/dev/null 2>&1 || progress "warning: could not stop the cluster in $STATE"
  [[ -n "${BENCH_REUSE_STATE:-}" ]] || rm -rf "$STATE"
  [[ $status -eq 0 ]] || progress "FAILED (exit $status)"
  exit $status
}
