#!/usr/bin/env python3
"""One build, its roll-up service at the server's default schedule against a pass every INTERVAL seconds
(`serve --rollup-interval`), as bench/ingest ran it before it measured the default.

Since the service starts a pass once ingest has been quiet for 0.1 s (architecture decision 81), a short interval no
longer decides how soon a burst is derived; it decides how often derivation runs while the burst is still coming in,
on the cores ingest uses too. Four tenants on one embedded cluster. For each run the server starts afresh with its
defaults (a pass every 5 s, quiet passes catching up two tenants at once) or with `--rollup-interval INTERVAL` (which
goes first alternates from round to round); it is sent STATEMENTS statements of bench/ingest's workload (batches of
BATCH, in turn to the four tenants, from CLIENTS clients), timed until the last batch is acknowledged and until both
queues are empty. Every run adds to the same tenants, so both settings meet the same growing history in turn.

    swift build -c release --product tenantscope && bench/ingest/compare_interval.py
    BATCH=500 CLIENTS=4 RESULTS_NAME=rollup-interval-500-4 bench/ingest/compare_interval.py

Knobs (environment): TENANTSCOPE_BIN (.build/release/tenantscope), STATEMENTS per run (20000), BATCH (100), CLIENTS (1),
ROUNDS (5), INTERVAL (0.5, seconds), RESULTS_DIR (bench/results), RESULTS_NAME (rollup-interval). Writes
RESULTS_NAME.{json,md}. Standard library only; run as root (the embedded cluster then runs as the postgres OS user) or as
a user that may run PostgreSQL.
"""
import os
import sys

# The same binary, cluster, tenants and alternating runs as the roll-up concurrency comparison.
from compare_concurrency import alternate, write_comparison

BATCH = int(os.environ.get("BATCH", "100"))
CLIENTS = int(os.environ.get("CLIENTS", "1"))
INTERVAL = os.environ.get("INTERVAL", "0.5")
NAME = os.environ.get("RESULTS_NAME", "rollup-interval")
DEFAULT_INTERVAL = "5"   # `serve`'s default --rollup-interval


def main():
    if not 0 < float(INTERVAL) < float(DEFAULT_INTERVAL):
        sys.exit("error: INTERVAL takes seconds above 0 and below the default %s, got %s" % (DEFAULT_INTERVAL, INTERVAL))
    # Both settings name their interval (alternate() would add bench/ingest's former 0.5 s otherwise); everything else
    # is the server's default, so the two differ in the interval alone.
    runs = alternate([(INTERVAL, ["--rollup-interval", INTERVAL]), ("default", ["--rollup-interval", DEFAULT_INTERVAL])],
                     BATCH, CLIENTS, "tenantscope-interval.")
    write_comparison(NAME, [dict(run, interval=run.pop("setting")) for run in runs], "interval",
                     (INTERVAL, "a pass every %s s" % INTERVAL), ("default", "the default (every %s s)" % DEFAULT_INTERVAL),
                     BATCH, CLIENTS, {"interval": INTERVAL}, "The roll-up service: a pass every %s s, against the default" % INTERVAL,
                     "`--rollup-interval %s` or `--rollup-interval %s` (the default)" % (INTERVAL, DEFAULT_INTERVAL),
                     "bench/ingest/compare_interval.py", interval=", its other roll-up options the defaults")


if __name__ == "__main__":
    main()
