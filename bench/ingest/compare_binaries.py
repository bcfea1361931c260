#!/usr/bin/env python3
"""Two builds of the server side by side: statements/s acknowledged and the server's CPU per statement.

For a change to the server's own ingest work (parsing, validation), which the main ingest benchmark (run.sh) measures
only through rates that the machine's speed moves from run to run: here both binaries get the same kind of batches in
the same run, alternating which goes first, and the CPU each server process used is read from /proc.

    git worktree add /tmp/base <commit> && (cd /tmp/base && swift build -c release --product tenantscope)
    swift build -c release --product tenantscope
    BASE_BIN=/tmp/base/.build/release/tenantscope BASE_COMMIT=<commit> bench/ingest/compare_binaries.py

Knobs (environment): BASE_BIN (required), TENANTSCOPE_BIN (.build/release/tenantscope), BASE_COMMIT (a label),
STATEMENTS per run (20000), ROUNDS (3), RESULTS_DIR (bench/results), RESULTS_NAME (ingest-binaries: the files'
name, so a comparison that a decision quotes can be kept beside the next one), SEPARATE_CLUSTERS (unset: both servers on one
embedded cluster; 1: each on an embedded cluster of its own, created by its own binary, which a base whose schema is
older than this build's needs: a build refuses a database migrated past what it knows). Writes RESULTS_NAME.{json,md}. Both servers
run with --rollup-interval 3600 (no derivation during the runs) and --no-tenant-limits. Standard library only; run as
root (the embedded cluster then runs as the postgres OS user) or as a user that may run PostgreSQL.
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
NEW_BIN = os.environ.get("TENANTSCOPE_BIN", os.path.join(ROOT, ".build/release/tenantscope"))
BASE_BIN = os.environ.get("BASE_BIN") or sys.exit("error: set BASE_BIN to the build to compare against (see the header)")
BASE_COMMIT = os.environ.get("BASE_COMMIT", "base")
COUNT = int(os.environ.get("STATEMENTS", "20000"))
ROUNDS = int(os.environ.get("ROUNDS", "3"))
RESULTS = os.environ.get("RESULTS_DIR", os.path.join(ROOT, "bench/results"))
SEPARATE = os.environ.get("SEPARATE_CLUSTERS", "") not in ("", "0")
NAME = os.environ.get("RESULTS_NAME", "ingest-binaries")
CELLS = [(500, 1), (100, 1), (100, 4), (500, 4)]
TICKS = os.sysconf("SC_CLK_TCK")


def progress(line):
    print("• " + line, flush=True)


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime and stime


def cluster_cpu_seconds(state):
    """The CPU the embedded cluster of `state` has used: its postmaster and every process it started (the servers'
    pooled backends stay connected through a run, so their time is all here). None when it is not running."""
    try:
        with open(os.path.join(state, "postgres", "data", "postmaster.pid")) as pid_file:
            postmaster = int(pid_file.readline())
    except (OSError, ValueError):
        return None
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # exited meanwhile
        if int(entry) == postmaster or int(fields[1]) == postmaster:
            total += (int(fields[11]) + int(fields[12])) / TICKS
    return total


def start(binary, state, name):
    out = open(os.path.join(state, name + ".out"), "w")
    err = open(os.path.join(state, name + ".err"), "w")
    process = subprocess.Popen([binary, "serve", "--state-dir", state, "--port", "0", "--max-body-bytes", "16777216",
                                "--rollup-interval", "3600", "--no-tenant-limits"], stdout=out, stderr=err, start_new_session=True)
    for _ in range(240):
        text = open(os.path.join(state, name + ".out")).read()
        match = re.search(r"http://127\.0\.0\.1:(\d+)", text)
        if match:
            return process, int(match.group(1))
        if process.poll() is not None:
            sys.exit("error: %s exited: %s" % (binary, open(os.path.join(state, name + ".err")).read()[-2000:]))
        time.sleep(0.5)
    sys.exit("error: %s did not start" % binary)


def main():
    for binary in (NEW_BIN, BASE_BIN):
        if not os.access(binary, os.X_OK):
            sys.exit("error: %s is not an executable (build it first)" % binary)
    states = [tempfile.mkdtemp(prefix="tenantscope-binaries.")]
    if SEPARATE:
        states.append(tempfile.mkdtemp(prefix="tenantscope-binaries-base."))
    for state in states:
        os.chmod(state, 0o755)
    new_state, base_state = states[0], states[-1]
    servers = []
    try:
        new_auth = tenant_with_key(NEW_BIN, new_state)
        base_auth = tenant_with_key(BASE_BIN, base_state) if SEPARATE else new_auth
        # The first server starts the embedded cluster; the second attaches to it, or starts its own.
        new = start(NEW_BIN, new_state, "new")
        servers.append(new[0])
        base = start(BASE_BIN, base_state, "base")
        servers.append(base[0])
        time.sleep(3)
        rng, now = random.Random(1), datetime.now(timezone.utc)
        runs = []
        for round_index in range(ROUNDS):
            for size, clients in CELLS:
                order = [("new", new, new_auth), ("base", base, base_auth)] if round_index % 2 else [("base", base, base_auth), ("new", new, new_auth)]
                for label, (process, port), auth in order:
                    state = new_state if label == "new" else base_state
                    batch = statements(COUNT, rng, now)
                    bodies = [(auth, json.dumps(batch[i:i + size]).encode()) for i in range(0, COUNT, size)]
                    before, database_before = cpu_seconds(process.pid), cluster_cpu_seconds(state) if SEPARATE else None
                    _, seconds = post_all(urllib.parse.urlparse("http://127.0.0.1:%d" % port), bodies, clients)
                    cpu = cpu_seconds(process.pid) - before
                    run = {"round": round_index + 1, "binary": label, "batch": size, "clients": clients,
                           "statements_per_second": COUNT / seconds, "server_cpu_us_per_statement": cpu / COUNT * 1e6}
                    line = "round %d, %s, batches of %d, %d client(s): %.0f statements/s, %.1f µs of server CPU per statement" % (
                        round_index + 1, label, size, clients, COUNT / seconds, cpu / COUNT * 1e6)
                    database_after = cluster_cpu_seconds(state) if SEPARATE else None
                    if database_before is not None and database_after is not None:
                        run["database_cpu_us_per_statement"] = (database_after - database_before) / COUNT * 1e6
                        line += ", %.1f µs of PostgreSQL's" % run["database_cpu_us_per_statement"]
                    runs.append(run)
                    progress(line)
        write(runs)
    finally:
        # The attached server first: the one that started the embedded cluster stops it as it exits.
        for process in reversed(servers):
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=120)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if SEPARATE:
            # A server stops only the cluster it started: stop each, whichever started it.
            for binary, state in ((NEW_BIN, new_state), (BASE_BIN, base_state)):
                subprocess.run([binary, "db", "stop", "--state-dir", state], capture_output=True)
        for state in states:
            shutil.rmtree(state, ignore_errors=True)


def tenant_with_key(binary, state):
    """A tenant and an LRS key in the cluster of `state`, made by `binary`; returns the Authorization header."""
    progress("Creating a tenant and an LRS key in %s" % state)
    subprocess.run([binary, "tenant", "create", "bench-1", "--name", "Bench", "--state-dir", state], check=True, capture_output=True)
    key_output = subprocess.run([binary, "lrs-key", "create", "--tenant", "bench-1", "--state-dir", state],
                                check=True, capture_output=True, text=True).stdout
    key = re.search(r"^key:\s*(\S+)", key_output, re.M).group(1)
    secret = re.search(r"^secret:\s*(\S+)", key_output, re.M).group(1)
    return "Basic " + base64.b64encode(("%s:%s" % (key, secret)).encode()).decode()


def median(runs, label, size, clients, key):
    values = [r[key] for r in runs if (r["binary"], r["batch"], r["clients"]) == (label, size, clients) and key in r]
    return statistics.median(values), min(values), max(values)


def write(runs):
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True).stdout.strip()
    result = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "commit": commit, "base": BASE_COMMIT,
              "separate_clusters": SEPARATE,
              "statements_per_run": COUNT, "rounds": ROUNDS, "cpus": os.cpu_count(), "runs": runs}
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, NAME + ".json"), "w") as out:
        json.dump(result, out, indent=2)
    lines = [
        "# Ingest: two builds side by side", "",
        "Run %s: this build (commit `%s`) against `%s`, both release builds, %s, "
        "%d statements per run, %d rounds; which build went first alternated from round to round. Median of the rounds, "
        "range in brackets. Server CPU is what the server process used (user and system, from /proc) while its batches "
        "ran, divided by the statements; PostgreSQL's CPU is not in it. The client, both servers and PostgreSQL share %s "
        "cores. Written by `bench/ingest/compare_binaries.py`." % (
            result["date"], commit, BASE_COMMIT,
            "each on an embedded cluster of its own (their schemas differ) with one tenant" if SEPARATE else "on one embedded cluster and one tenant",
            COUNT, ROUNDS, os.cpu_count()),
        "",
        "| batches of | clients | %s, statements/s | this build, statements/s | ratio | %s, server µs per statement | this build, server µs per statement | ratio |" % (BASE_COMMIT, BASE_COMMIT),
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for size, clients in CELLS:
        base_rate = median(runs, "base", size, clients, "statements_per_second")
        new_rate = median(runs, "new", size, clients, "statements_per_second")
        base_cpu = median(runs, "base", size, clients, "server_cpu_us_per_statement")
        new_cpu = median(runs, "new", size, clients, "server_cpu_us_per_statement")
        lines.append("| %d | %d | %.0f [%.0f–%.0f] | %.0f [%.0f–%.0f] | **%.2f** | %.1f [%.1f–%.1f] | %.1f [%.1f–%.1f] | **%.2f** |" % (
            size, clients, *base_rate, *new_rate, new_rate[0] / base_rate[0], *base_cpu, *new_cpu, new_cpu[0] / base_cpu[0]))
    if all("database_cpu_us_per_statement" in r for r in runs):
        lines += [
            "", "PostgreSQL's CPU per statement: what each build's own cluster (its postmaster and every process it started) "
            "used while that build's batches ran, divided by the statements. Each cluster is idle while the other build is "
            "measured, and the roll-up service does not run (`--rollup-interval 3600`), so this is the insert's work and "
            "the cluster's own background work (autovacuum, WAL, checkpoints) in that time. A process that exits during a run "
            "(a pooled connection closed and opened again) takes its CPU with it: a low outlier in a range is that.", "",
            "| batches of | clients | %s, PostgreSQL µs per statement | this build, PostgreSQL µs per statement | ratio |" % BASE_COMMIT,
            "|---:|---:|---:|---:|---:|",
        ]
        for size, clients in CELLS:
            base_db = median(runs, "base", size, clients, "database_cpu_us_per_statement")
            new_db = median(runs, "new", size, clients, "database_cpu_us_per_statement")
            lines.append("| %d | %d | %.1f [%.1f–%.1f] | %.1f [%.1f–%.1f] | **%.2f** |" % (
                size, clients, *base_db, *new_db, new_db[0] / base_db[0]))
    with open(os.path.join(RESULTS, NAME + ".md"), "w") as out:
        out.write("\n".join(lines) + "\n")
    progress("Wrote %s/%s.json and %s.md" % (RESULTS, NAME, NAME))


if __name__ == "__main__":
    main()
