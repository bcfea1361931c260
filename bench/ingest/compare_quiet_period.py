#!/usr/bin/env python3
"""One build, its roll-up service keeping to its interval against starting a pass once ingest is quiet
(`serve --rollup-quiet-period`, architecture decision 81).

Four tenants on one embedded cluster. For each run the server starts afresh with `--rollup-quiet-period 0` (passes
only every interval) or with QUIET (which goes first alternates from round to round), and `--rollup-interval 0.5` as
bench/ingest ran it until architecture decision 84; it is sent STATEMENTS statements of bench/ingest's workload
(batches of BATCH, in turn to the four tenants, from CLIENTS clients), timed until the last batch is acknowledged and until both queues are empty. Every pass
catches up one tenant at a time (`--rollup-concurrency 1 --rollup-quiet-concurrency 1`). Every run
adds to the same tenants, so both settings meet the same growing history in turn.

    swift build -c release --product tenantscope && bench/ingest/compare_quiet_period.py
    BATCH=500 CLIENTS=4 RESULTS_NAME=rollup-quiet-period-500-4 bench/ingest/compare_quiet_period.py

Knobs (environment): TENANTSCOPE_BIN (.build/release/tenantscope), STATEMENTS per run (20000), BATCH (100), CLIENTS (1),
ROUNDS (5), QUIET (0.1, seconds), RESULTS_DIR (bench/results), RESULTS_NAME (rollup-quiet-period). Writes
RESULTS_NAME.{json,md}. Standard library only; run as root (the embedded cluster then runs as the postgres OS user) or as
a user that may run PostgreSQL.
"""
import os
import sys

# The same binary, cluster, tenants and alternating runs as the roll-up concurrency comparison.
from compare_concurrency import alternate, write_comparison

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
    write_comparison(NAME, runs, "quiet_period", ("0", "interval only"), (QUIET, "quiet period %s s" % QUIET), BATCH, CLIENTS,
                     {"quiet_period": QUIET}, "The roll-up service: every interval only, against a pass once ingest is quiet",
                     "`--rollup-quiet-period 0` or `%s`" % QUIET, "bench/ingest/compare_quiet_period.py")


if __name__ == "__main__":
    main()
