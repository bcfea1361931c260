#!/usr/bin/env bash
# bench/query: generate a large multi-tenant dataset, then time every report served (roll-ups) versus cold
# (raw tables) and the cost of row-level security, all in one run. Results: bench/results/query.{json,md}.
#
#   bench/query/run.sh                          # 1 M statements over 50 tenants (the defaults)
#   STATEMENTS=10000000 bench/query/run.sh      # 10 M statements
#
# Environment:
#   TENANTSCOPE_BIN  the tenantscope binary (default .build/release/tenantscope)
#   STATEMENTS       statements to generate (default 1000000)
#   TENANTS          tenants (default 50; sizes follow Zipf, the biggest holds ~22 % at 50)
#   SEED             generator seed (default 1)
#   SERVED_RUNS      served runs per report and tenant (default 20), COLD_RUNS cold runs (default 5),
#   RLS_RUNS         runs of each RLS query each way (default 21); each measurement follows one warm-up
#   RESULTS_DIR      where to write query.json and query.md (default bench/results)
#   KEEP_STATE=1     keep the cluster's state directory (stopped) instead of deleting it
#   BINARY_COMMIT    the commit TENANTSCOPE_BIN was built from, when it is not the checkout's (the results name it)
#   STATE_DIR        the state directory to use (default a fresh one under /tmp); it must not exist yet
#
# Needs: bash, python3 (standard library), psql, and root or a `postgres` OS user as the product's embedded
# PostgreSQL does. Starts its own embedded cluster in a fresh directory under /tmp and stops it at the end.
set -euo pipefail

cd "$(dirname "$0")/../.."
REPO=$(pwd)

STATEMENTS=${STATEMENTS:-1000000}
TENANTS=${TENANTS:-50}
SEED=${SEED:-1}
SERVED_RUNS=${SERVED_RUNS:-20}
COLD_RUNS=${COLD_RUNS:-5}
RLS_RUNS=${RLS_RUNS:-21}
RESULTS_DIR=${RESULTS_DIR:-$REPO/bench/results}
BIN=${TENANTSCOPE_BIN:-.build/release/tenantscope}

progress() { printf '[query-bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
fail() { printf 'bench/query: %s\n' "$*" >&2; exit 1; }

[[ -x "$BIN" ]] || fail "no tenantscope binary at $BIN: run \`swift build -c release --product tenantscope\` first or set TENANTSCOPE_BIN"
BIN=$(realpath "$BIN")
command -v psql >/dev/null || fail "psql not found (apt-get install -y postgresql-client)"
command -v python3 >/dev/null || fail "python3 not found"
[[ "$STATEMENTS" =~ ^[0-9]+$ && "$STATEMENTS" -ge 1000 ]] || fail "STATEMENTS must be an integer >= 1000"
[[ "$TENANTS" =~ ^[0-9]+$ && "$TENANTS" -ge 3 && "$TENANTS" -le 9999 ]] || fail "TENANTS must be an integer in 3...9999"
[[ "$SEED" =~ ^[0-9]+$ ]] || fail "SEED must be a non-negative integer"
for n in SERVED_RUNS COLD_RUNS RLS_RUNS; do [[ "${!n}" =~ ^[1-9][0-9]*$ ]] || fail "$n must be a positive integer"; done

# The product reads these before --state-dir; the benchmark must talk to its own cluster only.
unset DATABASE_URL TENANTSCOPE_STATE_DIR

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
STARTED=$(date +%s)
if [[ -n "${STATE_DIR:-}" ]]; then
  [[ ! -e "$STATE_DIR" ]] || fail "STATE_DIR=$STATE_DIR exists already"
  mkdir -p "$STATE_DIR" && STATE=$(realpath "$STATE_DIR")
else
  STATE=$(mktemp -d /tmp/tenantscope-qbench.XXXXXX)
fi
chmod 755 "$STATE"   # the postgres OS user (when run as root) must reach STATE/postgres

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  progress "Stopping the cluster"
  "$BIN" db stop --state-dir "$STATE" >/dev/null 2>&1 || progress "warning: could not stop the cluster in $STATE"
  if [[ "${KEEP_STATE:-0}" == 1 ]]; then
    progress "Kept the state directory $STATE (start it again with: $BIN db start --state-dir $STATE)"
  else
    rm -rf "$STATE"
  fi
  [[ $status -eq 0 ]] || progress "FAILED (exit $status)"
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now() { date +%s.%N; }
elapsed() { python3 -c "print(f'{$(now) - $1:.1f}')"; }

progress "Binary $BIN; $STATEMENTS statements over $TENANTS tenants; state in $STATE"
progress "Starting the embedded PostgreSQL and applying migrations"
"$BIN" db start --state-dir "$STATE" >/dev/null 2>"$STATE/start.log" || { cat "$STATE/start.log" >&2; fail "db start failed"; }

eval "$(python3 - "$STATE/embedded.json" <<'EOF'
import json, shlex, sys
state = json.load(open(sys.argv[1]))
print(f"PORT={int(state['port'])}")
print(f"SUPERUSER_PASSWORD={shlex.quote(state['superuserPassword'])}")
print(f"OWNER_PASSWORD={shlex.quote(state['ownerPassword'])}")
EOF
)"
as_owner() { PGPASSWORD=$OWNER_PASSWORD psql -X -q -v ON_ERROR_STOP=1 "host=127.0.0.1 port=$PORT dbname=tenantscope user=tenantscope sslmode=disable" "$@"; }
as_superuser() { PGPASSWORD=$SUPERUSER_PASSWORD psql -X -q -v ON_ERROR_STOP=1 "host=127.0.0.1 port=$PORT dbname=tenantscope user=postgres sslmode=disable" "$@"; }

T0=$(now)
progress "Creating $TENANTS tenants (as the owner role)"
as_owner -c "INSERT INTO app.tenants (slug, name, tier)
             SELECT format('qb-t%s', lpad(i::text, greatest(3, length(i::text)), '0')), format('Query bench tenant %s', i),
                    CASE WHEN i <= 3 THEN 'enterprise' ELSE 'standard' END
             FROM generate_series(1, $TENANTS) i"
progress "Generating $STATEMENTS statements (set-based SQL as the superuser, one transaction)"
as_superuser -1 -v statements="$STATEMENTS" -v seed="$SEED" -f "$REPO/bench/query/generate.sql"
GENERATE_S=$(elapsed "$T0")
progress "Generated in ${GENERATE_S} s; checking a 1 % sample against the StatementFacts rules"
MISMATCHES=$(as_superuser -t -A -f "$REPO/bench/query/check.sql")
[[ "$MISMATCHES" == 0\ of\ * ]] || fail "generated facts columns disagree with their JSON: $MISMATCHES"
progress "Sample check: $MISMATCHES rows disagree"

T0=$(now)
progress "Deriving learners, courses, enrollments and roll-ups: tenantscope rollups rebuild"
"$BIN" rollups rebuild --state-dir "$STATE" 2>&1 | { grep --line-buffered -v " info tenantscope: " || true; } >&2
REBUILD_S=$(elapsed "$T0")
progress "Rebuilt in ${REBUILD_S} s"

T0=$(now)
progress "VACUUM ANALYZE and CHECKPOINT (so that measurements start from settled tables)"
as_superuser -c "VACUUM (ANALYZE) app.statements, app.learners, app.courses, app.enrollments, app.feature_events,
                 app.daily_learner_activity, app.daily_enrollment_outcomes, app.monthly_course_outcomes, app.monthly_completion_times,
                 app.monthly_course_outcomes_all_regions, app.monthly_completion_times_all_regions,
                 app.monthly_cohort_outcomes_all_courses, app.monthly_completion_times_all_courses, app.daily_feature_usage, app.rollup_state, app.tenants" \
             -c "CHECKPOINT"
VACUUM_S=$(elapsed "$T0")

python3 "$REPO/bench/query/measure.py" \
  --state-dir "$STATE" --bin "$BIN" --results-dir "$RESULTS_DIR" \
  --statements "$STATEMENTS" --tenants "$TENANTS" --seed "$SEED" \
  --served-runs "$SERVED_RUNS" --cold-runs "$COLD_RUNS" --rls-runs "$RLS_RUNS" \
  --generate-seconds "$GENERATE_S" --rebuild-seconds "$REBUILD_S" --vacuum-seconds "$VACUUM_S" \
  --load-start "$LOAD_START"

progress "Done in $(( $(date +%s) - STARTED )) s"
