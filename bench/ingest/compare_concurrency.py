#!/usr/bin/env python3
"""One build, its roll-up service catching up one tenant at a time against several at once (`serve --rollup-concurrency`,
or with PASSES=quiet only in the passes that quiet ingest starts, `serve --rollup-quiet-concurrency`).

Four tenants on one embedded cluster. For each run the server starts afresh with a concurrency of 1 or CONCURRENCY
(which goes first alternates from round to round): with PASSES=all (the default) both options set to it, with
PASSES=quiet only the quiet passes' (the others catch up one tenant at a time); and `--rollup-interval 0.5` as
bench/ingest ran it until architecture decision 84; it is sent STATEMENTS statements of bench/ingest's workload
(batches of 500, in turn to the four tenants, from CLIENTS clients), timed until the last batch is acknowledged and
until both queues are empty: every tenant's learners, courses, enrollments and roll-ups current. Every run adds to
the same tenants, so both settings meet the same growing history in turn.

    swift build -c release --product tenantscope && bench/ingest/compare_concurrency.py

Knobs (environment): TENANTSCOPE_BIN (.build/release/tenantscope), STATEMENTS per run (20000), CLIENTS (4), ROUNDS (5),
CONCURRENCY (2), PASSES (all), RESULTS_DIR (bench/results), RESULTS_NAME (rollup-concurrency). Writes
RESULTS_NAME.{json,md}. Standard library only; run as root (the embedded cluster then runs as the postgres OS user) or as a user that may run PostgreSQL.
"""
import base64
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from datetime import datetime, timezone

from workload import post_all, statements

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("TENANTSCOPE_BIN", os.path.join(ROOT, ".build/release/tenantscope"))
COUNT = int(os.environ.get("STATEMENTS", "20000"))
CLIENTS = int(os.environ.get("CLIENTS", "4"))
ROUNDS = int(os.environ.get("ROUNDS", "5"))
CONCURRENCY = int(os.environ.get("CONCURRENCY", "2"))
RESULTS = os.environ.get("RESULTS_DIR", os.path.join(ROOT, "bench", "results"))
NAME = os.environ.get("RESULTS_NAME", "rollup-concurrency")
PASSES = os.environ.get("PASSES", "all")
BATCH = 500
TENANTS = 4


def progress(line):
    print("• " + line, flush=True)


def cli(state, *arguments):
    return subprocess.run([BIN, *arguments, "--state-dir", state], check=True, capture_output=True, text=True).stdout


def superuser_url(state):
    embedded = json.load(open(os.path.join(state, "embedded.json")))
    base = "postgresql://postgres:%s@127.0.0.1:%d/" % (embedded["superuserPassword"], embedded["port"])
    database = subprocess.run(["psql", base + "postgres", "-X", "-A", "-t", "-c",
                               "SELECT datname FROM pg_database WHERE datname NOT IN ('postgres', 'template0', 'template1') LIMIT 1"],
                              check=True, capture_output=True, text=True).stdout.strip()
    return base + database


def queued(url):
    return int(subprocess.run(["psql", url, "-X", "-A", "-t", "-c",
                               "SELECT (SELECT count(*) FROM app.learning_facts_queue) + (SELECT count(*) FROM app.rollup_queue)"],
                              check=True, capture_output=True, text=True).stdout.strip())


def start(state, name, options):
    """Starts `serve` on the state directory with bench/ingest's options and `options`; returns it and its URL."""
    log = os.path.join(state, "server-" + name)
    # bench/ingest's interval before it measured the server's default, unless the setting names one.
    interval = [] if "--rollup-interval" in options else ["--rollup-interval", "0.5"]
    process = subprocess.Popen([BIN, "serve", "--state-dir", state, "--port", "0", "--max-body-bytes", "16777216",
                                *interval, "--no-tenant-limits", *options],
                               stdout=open(log + ".out", "w"), stderr=open(log + ".err", "w"), start_new_session=True)
    for _ in range(240):
        match = re.search(r"http://127\.0\.0\.1:(\d+)", open(log + ".out").read())
        if match:
            return process, urllib.parse.urlparse("http://127.0.0.1:%s" % match.group(1))
        if process.poll() is not None:
            sys.exit("error: the server exited: " + open(log + ".err").read()[-2000:])
        time.sleep(0.5)
    sys.exit("error: the server did not start")


def stop(process):
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=120)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def alternate(settings, batch_size, clients, prefix):
    """Runs ROUNDS rounds on one fresh cluster and four tenants: in each, the server once per setting (a name and its
    `serve` options; the order alternates from round to round), started afresh and sent COUNT statements in batches of
    `batch_size` from `clients` clients. Returns one record per run: the setting's name, statements/s until the last
    answer and until both queues were empty, and the seconds between the two."""
    if not os.access(BIN, os.X_OK):
        sys.exit("error: %s is not an executable: run `swift build -c release --product tenantscope` first or set TENANTSCOPE_BIN" % BIN)
    state = tempfile.mkdtemp(prefix=prefix)
    os.chmod(state, 0o755)
    try:
        progress("Creating %d tenants with LRS keys in %s" % (TENANTS, state))
        # Started first, so that each server attaches to it and none stops it as it exits.
        cli(state, "db", "start")
        auths = []
        for number in range(1, TENANTS + 1):
            cli(state, "tenant", "create", "bench-%d" % number, "--name", "Bench %d" % number)
            out = cli(state, "lrs-key", "create", "--tenant", "bench-%d" % number)
            key, secret = re.search(r"^key:\s+(\S+)", out, re.M).group(1), re.search(r"^secret:\s+(\S+)", out, re.M).group(1)
            auths.append("Basic " + base64.b64encode(("%s:%s" % (key, secret)).encode()).decode())
        url = superuser_url(state)
        rng, now = random.Random(1), datetime.now(timezone.utc)
        runs = []
        for round_index in range(ROUNDS):
            for name, options in (settings if round_index % 2 == 0 else list(reversed(settings))):
                batch = statements(COUNT, rng, now)
                bodies = [(auths[(i // batch_size) % TENANTS], json.dumps(batch[i:i + batch_size]).encode())
                          for i in range(0, COUNT, batch_size)]
                process, server = start(state, name, options)
                try:
                    time.sleep(1)
                    started, acknowledged = post_all(server, bodies, clients)
                    while queued(url) > 0:
                        time.sleep(0.02)
                    derived = time.perf_counter() - started
                finally:
                    stop(process)
                runs.append({"round": round_index + 1, "setting": name, "acknowledged_per_second": COUNT / acknowledged,
                             "derived_per_second": COUNT / derived, "derived_after_acknowledged_seconds": derived - acknowledged})
                progress("round %d, %s: %.0f statements/s acknowledged, %.0f/s until derived (%.2f s after the last answer)"
                         % (round_index + 1, " ".join(options), COUNT / acknowledged, COUNT / derived, derived - acknowledged))
        return runs
    finally:
        subprocess.run([BIN, "db", "stop", "--state-dir", state], capture_output=True)
        shutil.rmtree(state, ignore_errors=True)


def options(concurrency):
    """`serve`'s options for `concurrency` tenants at once in the passes PASSES names."""
    quiet = ["--rollup-quiet-concurrency", str(concurrency)]
    return quiet if PASSES == "quiet" else ["--rollup-concurrency", str(concurrency)] + quiet


def main():
    if not 2 <= CONCURRENCY <= 16:
        sys.exit("error: CONCURRENCY takes 2 to 16 (it is compared with 1), got %d" % CONCURRENCY)
    if PASSES not in ("all", "quiet"):
        sys.exit("error: PASSES takes all or quiet, got %s" % PASSES)
    runs = alternate([(str(n), options(n)) for n in (1, CONCURRENCY)], BATCH, CLIENTS, "tenantscope-concurrency.")
    write([dict(run, concurrency=int(run.pop("setting"))) for run in runs])


def write(runs):
    write_comparison(NAME, runs, "concurrency", (1, "one at a time"), (CONCURRENCY, "%d at once" % CONCURRENCY), BATCH, CLIENTS,
                     {"concurrency": CONCURRENCY, "passes": PASSES},
                     "The roll-up service: one tenant at a time against %d at once%s"
                     % (CONCURRENCY, " in the passes quiet ingest starts" if PASSES == "quiet" else ""),
                     "%s `1` or `%d`" % ("`--rollup-quiet-concurrency` (the other passes one tenant at a time)" if PASSES == "quiet"
                                         else "`--rollup-concurrency` and `--rollup-quiet-concurrency` both", CONCURRENCY),
                     "bench/ingest/compare_concurrency.py")


def write_comparison(name, runs, field, base, other, batch, clients, parameters, title, settings, script,
                     interval=" and `--rollup-interval 0.5`"):
    """Writes `name`.{json,md} for `alternate()`'s runs of two settings, told apart by each run's `field`: `base` and `other`
    are each setting's value and column heading; `parameters` go into the JSON; `settings` says in words what each run's
    server was started with (`interval`: what both had besides); `script` wrote it."""
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True).stdout.strip()
    result = dict({"date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "commit": commit, "working_tree_changed": bool(dirty),
                   "statements_per_run": COUNT, "batch": batch, "clients": clients, "tenants": TENANTS, "rounds": ROUNDS},
                  **parameters, cpus=os.cpu_count(), runs=runs)
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, name + ".json"), "w") as out:
        json.dump(result, out, indent=2)

    def median(setting, key):
        values = [r[key] for r in runs if r[field] == setting]
        return statistics.median(values), min(values), max(values)

    lines = [
        "# " + title, "",
        "Run %s on commit `%s`%s, %d CPUs: one build, one embedded cluster, %d tenants; for each run the server started "
        "afresh with %s (which went first alternated from round to round)%s, and was sent %d "
        "statements of bench/ingest's workload in batches of %d, in turn to the tenants, from %d client(s). "
        "\"Acknowledged\" is timed until the last answer, \"until derived\" until both queues were empty. Every run adds to "
        "the same tenants. Median of %d rounds, range in brackets. The client, the server and PostgreSQL share the "
        "machine's cores. Written by `%s`."
        % (result["date"], commit, " (working tree with uncommitted changes)" if dirty else "", os.cpu_count(), TENANTS,
           settings, interval, COUNT, batch, clients, ROUNDS, script),
        "",
        "| | %s | %s | ratio |" % (base[1], other[1]),
        "|---|---:|---:|---:|",
    ]
    for key, label, unit in (("acknowledged_per_second", "acknowledged, statements/s", "%.0f"),
                             ("derived_per_second", "until derived, statements/s", "%.0f"),
                             ("derived_after_acknowledged_seconds", "derived after the last answer, s", "%.2f")):
        first, second = median(base[0], key), median(other[0], key)
        cell = "%s [%s–%s]" % (unit, unit, unit)
        lines.append("| %s | %s | %s | **%.2f** |" % (label, cell % first, cell % second, second[0] / first[0]))
    with open(os.path.join(RESULTS, name + ".md"), "w") as out:
        out.write("\n".join(lines) + "\n")
    progress("Wrote %s/%s.json and %s.md" % (RESULTS, name, name))


if __name__ == "__main__":
    main()
