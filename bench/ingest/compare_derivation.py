#!/usr/bin/env python3
"""Two builds side by side: how long the roll-up service takes to derive a burst of ingest on a fresh cluster.

The first catch-up after a burst into a new cluster derives learners, courses and enrollments the same pass creates,
while the planner's statistics still describe nearly empty tables; the second derives the same learners' next burst.
For each build in turn, which goes first alternating from round to round: a fresh embedded cluster and tenant, STATEMENTS
statements (bench/ingest's, batches of 500, one client) posted with the roll-up service idle, then one
`tenantscope rollups catch-up` timed; another STATEMENTS statements of the same learners, and a second catch-up timed;
then NEW_STATEMENTS statements of learners the tenant has not seen (the same workload with other mailboxes), and a third
catch-up timed: new learners joining a tenant with history; then INCREMENTS bursts of INCREMENT_STATEMENTS statements of the
first learners, each followed by a catch-up, their times summed: the steady state of a roll-up service that runs every
few seconds, where each pass finds a statement or two per learner.

    swift build -c release --product tenantscope
    BASE_BIN=/tmp/base/.build/release/tenantscope BASE_COMMIT=<commit> bench/ingest/compare_derivation.py

Knobs (environment): BASE_BIN (required), TENANTSCOPE_BIN (.build/release/tenantscope), BASE_COMMIT (a label),
STATEMENTS per burst (20000), NEW_STATEMENTS (2000), INCREMENTS (5), INCREMENT_STATEMENTS (2000), ROUNDS (3), RESULTS_DIR (bench/results), RESULTS_NAME (derivation-binaries). Writes
RESULTS_NAME.{json,md}. Standard library only; run as root (the embedded cluster then runs as the postgres OS user) or
as a user that may run PostgreSQL.
"""
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from datetime import datetime, timezone

# The same knobs (binaries, label, statements, rounds, results directory) and helpers as the ingest comparison.
from compare_binaries import BASE_BIN, BASE_COMMIT, COUNT, NEW_BIN, RESULTS, ROOT, ROUNDS, progress, start, tenant_with_key
from workload import post_all, statements

NAME = os.environ.get("RESULTS_NAME", "derivation-binaries")
BATCH = 500
NEW_COUNT = int(os.environ.get("NEW_STATEMENTS", "2000"))
INCREMENTS = int(os.environ.get("INCREMENTS", "5"))
INCREMENT_COUNT = int(os.environ.get("INCREMENT_STATEMENTS", "2000"))


def catch_up(binary, state):
    """Seconds one `rollups catch-up` takes (the roll-up service's pass, run by the CLI)."""
    started = time.perf_counter()
    subprocess.run([binary, "rollups", "catch-up", "--state-dir", state], check=True, capture_output=True)
    return time.perf_counter() - started


def measure(binary, label, seed):
    state = tempfile.mkdtemp(prefix="tenantscope-derivation.")
    os.chmod(state, 0o755)
    process = None
    try:
        auth = tenant_with_key(binary, state)
        process, port = start(binary, state, label)
        url = urllib.parse.urlparse("http://127.0.0.1:%d" % port)
        rng, now = random.Random(seed), datetime.now(timezone.utc)
        seconds = []
        bursts = [statements(COUNT, rng, now), statements(COUNT, rng, now), statements(NEW_COUNT, rng, now)]
        for statement in bursts[2]:
            statement["actor"]["mbox"] = statement["actor"]["mbox"].replace("@", "-new@")
        def post(batch):
            post_all(url, [(auth, json.dumps(batch[i:i + BATCH]).encode()) for i in range(0, len(batch), BATCH)], 1)

        for batch in bursts:
            post(batch)
            seconds.append(catch_up(binary, state))
        increments = 0.0
        for _ in range(INCREMENTS):
            post(statements(INCREMENT_COUNT, rng, now))
            increments += catch_up(binary, state)
        return seconds + [increments]
    finally:
        if process is not None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=120)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        subprocess.run([binary, "db", "stop", "--state-dir", state], capture_output=True)
        shutil.rmtree(state, ignore_errors=True)


def main():
    for binary in (NEW_BIN, BASE_BIN):
        if not os.access(binary, os.X_OK):
            sys.exit("error: %s is not an executable (build it first)" % binary)
    runs = []
    for round_index in range(ROUNDS):
        order = [("new", NEW_BIN), ("base", BASE_BIN)] if round_index % 2 else [("base", BASE_BIN), ("new", NEW_BIN)]
        for label, binary in order:
            first, second, third, increments = measure(binary, label, round_index + 1)
            runs.append({"round": round_index + 1, "binary": label, "first_catch_up_seconds": first, "second_catch_up_seconds": second,
                         "new_learners_catch_up_seconds": third, "increments_catch_up_seconds": increments})
            progress("round %d, %s: first catch-up %.2f s, second %.2f s, new learners %.2f s, increments %.2f s"
                     % (round_index + 1, label, first, second, third, increments))
    write(runs)


def write(runs):
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True).stdout.strip()
    result = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "commit": commit, "base": BASE_COMMIT,
              "statements_per_burst": COUNT, "new_learner_statements": NEW_COUNT,
              "increments": INCREMENTS, "increment_statements": INCREMENT_COUNT, "rounds": ROUNDS, "cpus": os.cpu_count(), "runs": runs}
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, NAME + ".json"), "w") as out:
        json.dump(result, out, indent=2)

    def median(label, key):
        values = [r[key] for r in runs if r["binary"] == label]
        return statistics.median(values), min(values), max(values)

    lines = [
        "# Derivation of a burst: two builds side by side", "",
        "Run %s: this build (commit `%s`) against `%s`, both release builds, %d rounds; which build went first alternated "
        "from round to round. Each build in each round: a fresh embedded cluster and tenant, %d statements of "
        "bench/ingest's workload (3,000 learners, batches of %d, one client) with the roll-up service idle, one "
        "`rollups catch-up` timed, then %d more statements of the same learners and a second catch-up timed, then %d "
        "statements of learners the tenant had not seen (the same workload, other mailboxes) and a third catch-up timed, "
        "then %d increments of %d statements of the first learners, each caught up, their catch-ups' times summed. "
        "Median of the rounds, range in brackets. The client, the server and PostgreSQL share %s cores. Written by "
        "`bench/ingest/compare_derivation.py`." % (result["date"], commit, BASE_COMMIT, ROUNDS, COUNT, BATCH, COUNT, NEW_COUNT,
                                                   INCREMENTS, INCREMENT_COUNT, os.cpu_count()),
        "",
        "| catch-up | %s, s | this build, s | ratio |" % BASE_COMMIT,
        "|---|---:|---:|---:|",
    ]
    for key, name in (("first_catch_up_seconds", "first: new learners, a fresh cluster"),
                      ("second_catch_up_seconds", "second: the same learners again"),
                      ("new_learners_catch_up_seconds", "third: new learners in a tenant with history"),
                      ("increments_catch_up_seconds", "then: %d small increments of the same learners, summed" % INCREMENTS)):
        base, new = median("base", key), median("new", key)
        lines.append("| %s | %.2f [%.2f–%.2f] | %.2f [%.2f–%.2f] | **%.2f** |" % (name, *base, *new, new[0] / base[0]))
    with open(os.path.join(RESULTS, NAME + ".md"), "w") as out:
        out.write("\n".join(lines) + "\n")
    progress("Wrote %s/%s.json and %s.md" % (RESULTS, NAME, NAME))


if __name__ == "__main__":
    main()
