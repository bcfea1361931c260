#!/usr/bin/env bash
# Builds and runs every test; given a filter (scripts/run-tests.sh FaultToleranceTests, as `make faults`
# does), only the Swift tests it matches. The tests start their own PostgreSQL clusters (through the product's
# launcher) under a fresh directory; whatever is left there is stopped and removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

TENANTSCOPE_TEST_ROOT=$(mktemp -d /tmp/tenantscope-tests.XXXXXX)
chmod 755 "$TENANTSCOPE_TEST_ROOT"
export TENANTSCOPE_TEST_ROOT
unset DATABASE_URL

cleanup() {
  # A crashed test process cannot run its exit handler; stop any cluster it left behind.
  for pid_file in "$TENANTSCOPE_TEST_ROOT"/*/postgres/data/postmaster.pid "$TENANTSCOPE_TEST_ROOT"/*/*/postgres/data/postmaster.pid; do
    [[ -f "$pid_file" ]] || continue
    data_dir=$(dirname "$pid_file")
    pg_ctl=$(ls -d /usr/lib/postgresql/*/bin/pg_ctl | sort -V | tail -n 1)
    if [[ $(id -u) -eq 0 ]]; then
      runuser -u postgres -- "$pg_ctl" stop -D "$data_dir" -m immediate -s >/dev/null 2>&1 || true
    else
      "$pg_ctl" stop -D "$data_dir" -m immediate -s >/dev/null 2>&1 || true
    fi
  done
  rm -rf "$TENANTSCOPE_TEST_ROOT"
}
trap cleanup EXIT

# A hang detector: CI stops a run at 90 minutes and says nothing of why. A swift test that outlives
# TEST_TIME_LIMIT seconds (default 35 minutes; a full run takes a few) is stopped here instead, after
# scripts/diagnose-hang.sh printed the tests still running and what every process is doing. Standard
# output is line-buffered (stdbuf) so the log shows the last line written before a hang, not a buffer's.
TEST_TIME_LIMIT=${TEST_TIME_LIMIT:-2100}
swift_test_bounded() {
  local log="$TENANTSCOPE_TEST_ROOT/swift-test.log"
  stdbuf -oL -eL swift test --skip-build "$@" > >(tee "$log") 2>&1 &
  local test_pid=$! waited=0
  while kill -0 "$test_pid" 2>/dev/null; do
    sleep 5
    waited=$((waited + 5))
    if ((waited >= TEST_TIME_LIMIT)); then
      echo "✘ swift test is still running after $((TEST_TIME_LIMIT / 60)) minutes: stopped as hung. What it was doing:"
      scripts/diagnose-hang.sh "$log"
      # The test binary is swift test's child; only this run's is killed.
      pkill -KILL -P "$test_pid" || true
      kill -KILL "$test_pid" 2>/dev/null || true
      wait "$test_pid" 2>/dev/null || true
      return 124
    fi
  done
  wait "$test_pid"
}

echo "• Building (a first build compiles the dependencies and takes several minutes)"
swift build --build-tests
export TENANTSCOPE_BIN="$(swift build --show-bin-path)/tenantscope"
# The Python tools in .venv/: moto's S3 server for S3ExportStoreTests, the outside clients for later.
scripts/ensure-venv.sh
if [[ $# -gt 0 ]]; then
  echo "• Running tests matching $1 (PostgreSQL clusters under $TENANTSCOPE_TEST_ROOT)"
  swift_test_bounded --filter "$1"
  exit 0
fi
echo "• Running tests (PostgreSQL clusters under $TENANTSCOPE_TEST_ROOT)"
swift_test_bounded
# The benchmarks are not run here (they take minutes to an hour), but a script that no longer parses went
# unnoticed for a day once: every one must at least compile.
echo "• Checking that the benchmark scripts parse"
for script in bench/*/*.sh bench/*.sh; do [[ -f "$script" ]] && bash -n "$script"; done
python3 - bench <<'PY'
import pathlib, sys
for path in sorted(pathlib.Path(sys.argv[1]).rglob("*.py")):
    if any(part.startswith(".") for part in path.parts):
        continue  # bench/.cache holds the virtual environment bench/ingest installs Ralph into: not ours to check
    compile(path.read_text(), str(path), "exec")  # raises SyntaxError, naming the file and line
PY
echo "• Fuzzing the JSON parser briefly (make fuzz runs it longer)"
scripts/fuzz-json.sh 25
echo "• Running the outside-client tests (TinCanPython against a running server)"
scripts/run-client-tests.sh
