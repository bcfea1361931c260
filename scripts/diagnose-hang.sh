#!/usr/bin/env bash
# Prints what a stuck test run is doing, for the log a CI run leaves behind: the tests that started and
# never finished (from the swift test log given as $1), every process with its state (T = stopped,
# D = waiting on the disk) and PostgreSQL's own process titles (a backend "waiting" or "idle in
# transaction" names a lock holder), and the test process's threads with a backtrace of each when gdb
# can be had. Called by scripts/run-tests.sh when swift test outlives its time limit.
set -uo pipefail
log=${1:-}

if [[ -n "$log" && -f "$log" ]]; then
  echo "── tests started but not finished"
  started=$(sed -n 's/^◇ Test \([^ ]*\) started\.$/\1/p' "$log" | grep -vx run | sort -u)
  finished=$(sed -n 's/^[✔✘] Test \([^ ]*\) .*\(passed\|failed\) after .*/\1/p' "$log" | sort -u)
  comm -23 <(echo "$started") <(echo "$finished")
fi

echo "── processes (kernel threads left out)"
ps --ppid 2 -p 2 --deselect -o pid,ppid,stat,etime,pcpu,rss,args --forest | cut -c1-220

for pid in $(pgrep -f 'PackageTests\.xctest|TenantScopePackageTests'); do
  echo "── threads of test process $pid (state, kernel wait channel)"
  for task in /proc/"$pid"/task/*; do
    printf '%s %s %s %s\n' "${task##*/}" "$(cut -d' ' -f3 "$task/stat" 2>/dev/null)" \
      "$(cat "$task/comm" 2>/dev/null)" "$(cat "$task/wchan" 2>/dev/null)"
  done
  if ! command -v gdb >/dev/null && [[ $(id -u) -eq 0 ]]; then
    echo "(installing gdb for the backtraces: apt-get install -y gdb)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gdb >/dev/null 2>&1 || true
  fi
  if command -v gdb >/dev/null; then
    echo "── backtraces of test process $pid"
    timeout 120 gdb -p "$pid" -batch -ex "set pagination off" -ex "thread apply all bt 20" 2>/dev/null \
      | grep -vE '^\[New LWP|^$' | cut -c1-200 | head -n 1500
  fi
done
