#!/usr/bin/env python3
"""One build, its roll-up service keeping to its interval against starting a pass once ingest is quiet
(`serve --rollup-quiet-period`, architecture decision 81).

Four tenants on one embedded cluster. For each run the server starts afresh with `--rollup-quiet-period 0` (passes
only every interval) or with QUIET (which goes first alternates from round to round), and `--rollup-interval 0.5` as
bench/ingest runs it; it is sent STATEMENTS statements of bench/ingest's workload (batches of BATCH, in turn to the four
tenants, from CLIENTS clients), timed until the last batch is acknowledged and until both queues are empty. Every pass
catches up one tenant at a time (`--rollup-concurrency 1 --rollup-quiet-concurrency 1`). Every run
adds to the same tenants, so both settings meet the same growing history in turn.

    swift build -c release --product tenantscope && bench/ingest/compare_quiet_period.py
    BATCH=500 CLIENTS=4 RESULTS_NAME=rollup-quiet-period-500-4 bench/ingest/compare_quiet_period.py

Knobs (environment): TENANTSCOPE_BIN (.build/release/tenantscope), STATEMENTS per run (20000), BATCH (100), CLIENTS (1),
ROUNDS (5), QUIET (0.1, seconds), RESULTS_DIR (bench/results), RESULTS_NAME (rollup-quiet-period). Writes
RESULTS_NAME.{json,md}. Standard library only; run as root (the embedded cluster then runs as the postgres OS user) or as
a user that may run PostgreSQL.
"""
import json
import os
import statistics
import subprocess
import sys
from datetime import datetime, timezone

# The same binary, cluster, tenants and alternating runs as the roll-up concurrency comparison.
from compare_concurrency import COUNT, RESULTS, ROOT, ROUNDS, TENANTS, alternate, progress

BATCH = int(os.environ.get("BATCH", "100"))
CLIENTS = int(os.environ.get("CLIENTS", "1"))
QUIET = os.environ.get("QUIET", "0.1")
NAME = os.environ.get("RESULTS_NAME", "rollup-quiet-period")


def main():
    if float(QUIET) <= 0:
        sys.exit("error: QUIET takes seconds above 0 (it is compared with 0), got %s" % QUIET)
    # One tenant at a time in every pass, the quiet ones too: this compares when passes start, not how many tenants
    # they take at once (compare_concurrency.py with PASSES=quiet does).
    one = ["--rollup-concurrency", "1", "--rollup-quiet-concurrency", "1"]
    runs = alternate([("0", ["--rollup-quiet-period", "0"] + one), (QUIET, ["--rollup-quiet-period", QUIET] + one)], BATCH, CLIENTS,
                     "tenantscope-quiet.")
    write([dict(run, quiet_period=run.pop("setting")) for run in runs])


def write(runs):
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True).stdout.strip()
    result = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "commit": commit, "working_tree_changed": bool(dirty),
              "statements_per_run": COUNT, "batch": BATCH, "clients": CLIENTS, "tenants": TENANTS, "rounds": ROUNDS, "quiet_period": QUIET,
              "cpus": os.cpu_count(), "runs": runs}
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, NAME + ".json"), "w") as out:
        json.dump(result, out, indent=2)

    def median(quiet, key):
        values = [r[key] for r in runs if r["quiet_period"] == quiet]
        return statistics.median(values), min(values), max(values)

    lines = [
        "# The roll-up service: every interval only, against a pass once ingest is quiet", "",
        "Run %s on commit `%s`%s, %d CPUs: one build, one embedded cluster, %d tenants; for each run the server started "
        "afresh with `--rollup-quiet-period 0` or `%s` (which went first alternated from round to round) and "
        "`--rollup-interval 0.5`, and was sent %d statements of bench/ingest's workload in batches of %d, in turn to the "
        "tenants, from %d client(s). \"Acknowledged\" is timed until the last answer, \"until derived\" until both queues "
        "were empty. Every run adds to the same tenants. Median of %d rounds, range in brackets. The client, the server and "
        "PostgreSQL share the machine's cores. Written by `bench/ingest/compare_quiet_period.py`."
        % (result["date"], commit, " (working tree with uncommitted changes)" if dirty else "", os.cpu_count(), TENANTS,
           QUIET, COUNT, BATCH, CLIENTS, ROUNDS),
        "",
        "| | interval only | quiet period %s s | ratio |" % QUIET,
        "|---|---:|---:|---:|",
    ]
    for key, name, unit in (("acknowledged_per_second", "acknowledged, statements/s", "%.0f"),
                            ("derived_per_second", "until derived, statements/s", "%.0f"),
                            ("derived_after_acknowledged_seconds", "derived after the last answer, s", "%.2f")):
        base, quiet = median("0", key), median(QUIET, key)
        cell = "%s [%s–%s]" % (unit, unit, unit)
        lines.append("| %s | %s | %s | **%.2f** |" % (name, cell % base, cell % quiet, quiet[0] / base[0]))
    with open(os.path.join(RESULTS, NAME + ".md"), "w") as out:
        out.write("\n".join(lines) + "\n")
    progress("Wrote %s/%s.json and %s.md" % (RESULTS, NAME, NAME))


if __name__ == "__main__":
    main()
