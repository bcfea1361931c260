"""Ingest benchmark driver: xAPI statements per second over HTTP against a raw COPY of the same rows, and
against Ralph (PyPI ralph-malph, file-system backend) given the same batches.

Called by bench/ingest/run.sh with a running server, its owner database URL, unless TX_URL is empty a second server
with --no-session-functions on the same cluster, and unless RALPH_URL is empty a running Ralph. TenantScope and Ralph
are each paused (SIGSTOP) while the other is measured; the two TenantScope servers are not (see run.sh). Standard
library only.
"""
import base64
import signal
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from datetime import datetime, timezone

import workload
from workload import post_all

URL = urllib.parse.urlparse(os.environ["SERVER_URL"])
OWNER_URL = os.environ["OWNER_URL"]
KEYS = json.loads(os.environ["LRS_KEYS"])          # [[slug, key, secret], ...]
COPY_TENANT = os.environ["COPY_TENANT_ID"]
SOURCE_TENANT = os.environ["SOURCE_TENANT_ID"]
COUNT = int(os.environ.get("STATEMENTS", "20000"))
CLIENTS = [int(n) for n in os.environ.get("CLIENTS", "1 4").split()]
BATCH_SIZES = [100, 500]
ROUNDS = int(os.environ.get("ROUNDS", "3"))
RESULTS = os.environ["RESULTS_DIR"]
SERVER_PID = int(os.environ["SERVER_PID"])
# The same binary with --no-session-functions on the same cluster (each batch a scoped transaction), when run.sh started it.
TX_URL = urllib.parse.urlparse(os.environ["TX_URL"]) if os.environ.get("TX_URL") else None
TX_PID = int(os.environ["TX_PID"]) if TX_URL else None
RALPH_URL = urllib.parse.urlparse(os.environ["RALPH_URL"]) if os.environ.get("RALPH_URL") else None
RALPH_PID = int(os.environ["RALPH_PID"]) if RALPH_URL else None
RALPH_CREDENTIALS = os.environ.get("RALPH_CREDENTIALS", "")
RALPH_STORE = os.environ.get("RALPH_STORE", "")
ROLLUP_INTERVAL = os.environ.get("ROLLUP_INTERVAL", "")   # the measured server's --rollup-interval; empty: its default
# Issue 16: acknowledged ingest at least 0.7 of "COPY of the same batches", and at least 10x Ralph in every cell.
AIM_COPY, AIM_RALPH = 0.7, 10.0

NOW = datetime.now(timezone.utc)


def progress(line):
    print("• " + line, flush=True)


def statements(count, seed):
    return workload.statements(count, random.Random(seed), NOW)


def batches(batch_size, credentials):
    """The same statements for every cell of a batch size, as (Authorization, body) pairs; TenantScope's batches
    go to its tenants in turn, Ralph's all to its one user."""
    per_batch = statements(COUNT, batch_size)
    out = []
    for index, start in enumerate(range(0, COUNT, batch_size)):
        user, secret = credentials[index % len(credentials)]
        auth = "Basic " + base64.b64encode(("%s:%s" % (user, secret)).encode()).decode()
        out.append((auth, json.dumps(per_batch[start:start + batch_size]).encode()))
    return out


def paused(*pids):
    """SIGSTOPs processes for the length of a `with` block (the other side's measurement)."""
    pids = [pid for pid in pids if pid]

    class Pause:
        def __enter__(self):
            for pid in pids:
                os.kill(pid, signal.SIGSTOP)

        def __exit__(self, *exc):
            for pid in pids:
                os.kill(pid, signal.SIGCONT)
    return Pause()


def run_tenantscope(batch_size, clients, url=URL, label="TenantScope"):
    bodies = batches(batch_size, [(key, secret) for _, key, secret in KEYS])
    with paused(RALPH_PID):
        started, elapsed = post_all(url, bodies, clients)
        derived = wait_for_derivation() - started
    rate, derived_rate = COUNT / elapsed, COUNT / derived
    progress("%s, batches of %d, %d client(s): %d statements in %.2f s = %.0f statements/s; derived after %.2f s = %.0f/s"
             % (label, batch_size, clients, COUNT, elapsed, rate, derived, derived_rate))
    return {"seconds": round(elapsed, 3), "statements_per_second": round(rate), "seconds_until_derived": round(derived, 3),
            "derived_statements_per_second": round(derived_rate)}


def run_ralph(batch_size, clients):
    # Every cell starts from an empty store: Ralph's file-system backend reads its whole file for the ids of every
    # POST, so a store that kept earlier cells' statements would make each later cell slower.
    open(RALPH_STORE, "w").close()
    user, secret = RALPH_CREDENTIALS.split(":", 1)
    bodies = batches(batch_size, [(user, secret)])
    with paused(SERVER_PID, TX_PID):
        _, elapsed = post_all(RALPH_URL, bodies, clients)
    rate = COUNT / elapsed
    progress("Ralph, batches of %d, %d client(s): %d statements in %.2f s = %.0f statements/s" % (batch_size, clients, COUNT, elapsed, rate))
    return {"seconds": round(elapsed, 3), "statements_per_second": round(rate)}


def wait_for_derivation():
    """Ingest queues actors for the roll-up service to derive (docs/architecture.md, decision 18); this is
    when the queue is empty again, i.e. when learners, courses and enrollments have caught up."""
    while True:
        queued = subprocess.run(["psql", os.environ["SUPERUSER_URL"], "-X", "-A", "-t", "-q", "-c",
                                 "SELECT count(*) FROM app.learning_facts_queue"], capture_output=True, text=True, check=True)
        if queued.stdout.strip() == "0":
            return time.perf_counter()
        time.sleep(0.05)


COLUMNS = ("id, statement, actor_key, verb_id, object_id, object_type, course_iri, registration, \"timestamp\", stored, voided, "
           "actor_name, course_title, completes_course, cohort, learner_region, voids")


def psql(*arguments, stdin=None):
    return subprocess.run(["psql", OWNER_URL, "-X", "-q", "-v", "ON_ERROR_STOP=1", *arguments], input=stdin,
                          capture_output=True, text=True, check=True).stdout


def run_copy(rows_file, rows):
    # The ceiling: the same rows, bulk-loaded by the PostgreSQL superuser with COPY (no parsing, validation,
    # derivation or row-level security), into a tenant of its own with fresh ids. Timed inside psql.
    timings = []
    for attempt in range(3):
        script = ("\\timing on\n"
                  "\\copy app.statements (tenant_id, " + COLUMNS + ") FROM '" + rows_file + "' WITH (FORMAT csv)\n")
        output = subprocess.run(["psql", os.environ["SUPERUSER_URL"], "-X", "-q", "-v", "ON_ERROR_STOP=1"], input=script,
                                capture_output=True, text=True, check=True).stdout
        milliseconds = float([line for line in output.splitlines() if line.startswith("Time:")][-1].split()[1])
        timings.append(milliseconds / 1000)
        subprocess.run(["psql", os.environ["SUPERUSER_URL"], "-X", "-q", "-c",
                        "DELETE FROM app.statements WHERE tenant_id = '%s'" % COPY_TENANT], check=True, capture_output=True)
    seconds = statistics.median(timings)
    rate = rows / seconds
    progress("COPY of the same %d rows: median %.2f s = %.0f statements/s" % (rows, seconds, rate))
    return {"statements": rows, "seconds_median_of_3": round(seconds, 3), "statements_per_second": round(rate)}


def run_batched_copy(batch_size, clients):
    """The ceiling the issue names, "COPY of the same batches", measured right after the cell's TenantScope run so
    that both meet the machine in the same state: the COUNT rows that run stored, loaded again by the superuser into
    a tenant of its own with fresh ids, in batches of `batch_size`, one `COPY` (and so one transaction, as one POST
    is) per batch, from `clients` connections at once. Timed by the server's clock from the first client's start to
    the last client's end, so that starting psql is not counted. TenantScope's server is paused meanwhile."""
    with tempfile.TemporaryDirectory() as directory:
        os.chmod(directory, 0o755)
        rows_file = os.path.join(directory, "rows.csv")
        export = ("\\copy (SELECT '%s'::uuid, gen_random_uuid(), statement, actor_key, verb_id, object_id, object_type, course_iri, "
                  "registration, \"timestamp\", stored, voided, actor_name, course_title, completes_course, cohort, learner_region, voids "
                  "FROM app.statements WHERE tenant_id IN (SELECT id FROM app.tenants WHERE slug LIKE 'bench-%%') "
                  "ORDER BY stored DESC LIMIT %d) TO '%s' WITH (FORMAT csv)\n" % (COPY_TENANT, COUNT, rows_file))
        subprocess.run(["psql", os.environ["SUPERUSER_URL"], "-X", "-q", "-v", "ON_ERROR_STOP=1"], input=export, text=True, check=True)
        with open(rows_file, encoding="utf-8") as handle:
            rows = handle.readlines()
        scripts = [[] for _ in range(clients)]
        for index, start in enumerate(range(0, len(rows), batch_size)):
            path = os.path.join(directory, "batch-%d.csv" % index)
            with open(path, "w", encoding="utf-8") as handle:
                handle.writelines(rows[start:start + batch_size])
            # Batches go to the clients in turn, as post_all hands them out.
            scripts[index % clients].append("\\copy app.statements (tenant_id, " + COLUMNS + ") FROM '" + path + "' WITH (FORMAT csv)")
        clock = "SELECT extract(epoch FROM clock_timestamp());"
        # Each client's script is a file, so that all of them run at once (a script fed through a pipe would wait
        # for the previous client's to be handed over).
        script_files = []
        for number, script in enumerate(scripts):
            script_files.append(os.path.join(directory, "client-%d.sql" % number))
            with open(script_files[-1], "w", encoding="utf-8") as handle:
                handle.write("\n".join([clock, *script, clock]) + "\n")
        with paused(SERVER_PID, TX_PID):
            processes = [subprocess.Popen(["psql", os.environ["SUPERUSER_URL"], "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", "-f", path],
                                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                         for path in script_files]
            outputs = [process.communicate() for process in processes]
        for process, (_, error) in zip(processes, outputs):
            if process.returncode != 0:
                sys.exit("error: the batched COPY failed: " + error.strip())
        clocks = [[float(line) for line in output.split()] for output, _ in outputs]
        seconds = max(c[-1] for c in clocks) - min(c[0] for c in clocks)
        subprocess.run(["psql", os.environ["SUPERUSER_URL"], "-X", "-q", "-c",
                        "DELETE FROM app.statements WHERE tenant_id = '%s'" % COPY_TENANT], check=True, capture_output=True)
    rate = len(rows) / seconds
    progress("COPY of the same rows in batches of %d from %d client(s): %d rows in %.2f s = %.0f statements/s"
             % (batch_size, clients, len(rows), seconds, rate))
    return {"seconds": round(seconds, 3), "statements_per_second": round(rate)}


def median_cell(runs, keys):
    cell = {key: statistics.median(run[key] for run in runs) for key in keys}
    cell["rounds"] = len(runs)
    cell["statements_per_second_range"] = [min(r["statements_per_second"] for r in runs), max(r["statements_per_second"] for r in runs)]
    return cell


def main():
    progress("%d statements per cell over %d tenants; batches of %s at %s client(s); %d rounds; Ralph %s" % (
        COUNT, len(KEYS), BATCH_SIZES, CLIENTS, ROUNDS, "at " + RALPH_URL.geturl() if RALPH_URL else "not measured"))
    # Rounds go through every cell, TenantScope then Ralph, and each figure is the median of its rounds: on a
    # shared 2-core machine single runs vary by a third or more.
    cells = [(size, clients) for size in BATCH_SIZES for clients in CLIENTS]
    runs = {cell: {"tenantscope": [], "transactions": [], "batched_copy": [], "ralph": []} for cell in cells}
    modes = [("tenantscope", URL, "TenantScope")] + ([("transactions", TX_URL, "TenantScope, --no-session-functions")] if TX_URL else [])
    # Every run stores COUNT new statements into the same tenants, so the runs in order show whether derivation
    # keeps its pace as history grows (issue 16: "the same in the tenth run as in the first").
    in_order = []
    for round_number in range(ROUNDS):
        progress("Round %d of %d" % (round_number + 1, ROUNDS))
        for index, (size, clients) in enumerate(cells):
            # Which server goes first alternates from cell to cell and round to round.
            turn = modes if (index + round_number) % 2 == 0 else list(reversed(modes))
            for mode, url, label in turn:
                run = run_tenantscope(size, clients, url, label)
                in_order.append({"run": len(in_order) + 1, "mode": mode, "batch_size": size, "clients": clients,
                                 "stored_before": len(in_order) * COUNT, "derived_statements_per_second": run["derived_statements_per_second"]})
                runs[(size, clients)][mode].append(run)
            runs[(size, clients)]["batched_copy"].append(run_batched_copy(size, clients))
            if RALPH_URL:
                runs[(size, clients)]["ralph"].append(run_ralph(size, clients))
    http_results = []
    for (size, clients), sides in runs.items():
        cell = {"batch_size": size, "clients": clients, "statements": COUNT,
                "tenantscope": median_cell(sides["tenantscope"], ("seconds", "statements_per_second", "seconds_until_derived",
                                                                  "derived_statements_per_second"))}
        cell["batched_copy"] = median_cell(sides["batched_copy"], ("seconds", "statements_per_second"))
        if sides["transactions"]:
            cell["transactions"] = median_cell(sides["transactions"], ("seconds", "statements_per_second", "seconds_until_derived",
                                                                       "derived_statements_per_second"))
            cell["ratio_to_transactions"] = round(cell["tenantscope"]["statements_per_second"]
                                                  / cell["transactions"]["statements_per_second"], 2)
        if sides["ralph"]:
            cell["ralph"] = median_cell(sides["ralph"], ("seconds", "statements_per_second"))
            cell["ratio_to_ralph"] = round(cell["tenantscope"]["statements_per_second"] / cell["ralph"]["statements_per_second"], 2)
        http_results.append(cell)
    with tempfile.TemporaryDirectory() as directory:
        rows_file = os.path.join(directory, "rows.csv")
        os.chmod(directory, 0o755)
        export = ("\\copy (SELECT '%s'::uuid, gen_random_uuid(), statement, actor_key, verb_id, object_id, object_type, course_iri, "
                  "registration, \"timestamp\", stored, voided, actor_name, course_title, completes_course, cohort, learner_region, voids "
                  "FROM app.statements WHERE tenant_id IN (SELECT id FROM app.tenants WHERE slug LIKE 'bench-%%')) TO '%s' WITH (FORMAT csv)\n"
                  % (COPY_TENANT, rows_file))
        subprocess.run(["psql", os.environ["SUPERUSER_URL"], "-X", "-q", "-v", "ON_ERROR_STOP=1"], input=export, text=True, check=True)
        rows = sum(1 for _ in open(rows_file, encoding="utf-8"))
        copy_result = run_copy(rows_file, rows)
    copy_rate = copy_result["statements_per_second"]
    for cell in http_results:
        batched_rate = cell["batched_copy"]["statements_per_second"]
        cell["ratio_to_batched_copy"] = round(cell["tenantscope"]["statements_per_second"] / batched_rate, 3)
        cell["ratio_to_copy"] = round(cell["tenantscope"]["statements_per_second"] / copy_rate, 3)
        cell["derived_ratio_to_batched_copy"] = round(cell["tenantscope"]["derived_statements_per_second"] / batched_rate, 3)
        cell["derived_ratio_to_copy"] = round(cell["tenantscope"]["derived_statements_per_second"] / copy_rate, 3)
    result = {
        "benchmark": "ingest",
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        # BINARY_COMMIT: the commit the binary was built from, when it is not the checkout's HEAD.
        "commit": subprocess.run(["git", "rev-parse", "--short", os.environ.get("BINARY_COMMIT", "HEAD")], capture_output=True,
                                 text=True).stdout.strip(),
        "dirty": bool(subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True).stdout.strip()),
        "binary": os.environ.get("BINARY_KIND", "unknown"),
        "machine": {"cpus": os.cpu_count(), "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)},
        "tenants": len(KEYS), "clients": CLIENTS, "rounds": ROUNDS, "rollup_interval": ROLLUP_INTERVAL or None, "ralph": os.environ.get("RALPH_VERSION") if RALPH_URL else None,
        "transactions_baseline": bool(TX_URL),
        "http": http_results, "copy": copy_result, "derivation_in_order": in_order,
        "aims": {"ratio_to_copy": AIM_COPY, "ratio_to_ralph": AIM_RALPH,
                 # The measure: "COPY of the same batches".
                 "copy_met": all(c["ratio_to_batched_copy"] >= AIM_COPY for c in http_results),
                 "bulk_copy_met": all(c["ratio_to_copy"] >= AIM_COPY for c in http_results),
                 "ralph_met": bool(RALPH_URL) and all(c["ratio_to_ralph"] >= AIM_RALPH for c in http_results)},
    }
    with open(os.path.join(RESULTS, "ingest.json"), "w") as handle:
        json.dump(result, handle, indent=2)
        handle.write("\n")
    write_markdown(result)
    progress("Wrote %s/ingest.json and ingest.md" % RESULTS)


def interval_text(result):
    """How often the measured server's roll-up service ran, as the run's results say."""
    interval = result.get("rollup_interval", "0.5")   # runs before the knob all used 0.5
    if not interval:
        return ("with its default schedule: a pass every 5 s, and one 0.1 s after ingest goes quiet, catching up two "
                "tenants at once")
    return ("`--rollup-interval %s`: a pass every %s s, and one 0.1 s after ingest goes quiet; the default interval is 5 s"
            % (interval, interval))


def write_markdown(result):
    copy_rate = result["copy"]["statements_per_second"]
    ralph = result["ralph"]
    lines = [
        "# Ingest benchmark", "",
        "Run %s on commit %s%s, %s build, %d CPUs, %.0f GiB; %d tenants; %d statements per cell; each figure is the median of "
        "%d rounds (range in brackets), the bulk COPY the median of 3 loads. %s" % (
            result["date"], result["commit"], " (working tree with uncommitted changes)" if result["dirty"] else "", result["binary"],
            result["machine"]["cpus"], result["machine"]["memory_gib"], result["tenants"], COUNT, result["rounds"],
            ("Ralph %s (file-system backend) got the same batches in the same run." % ralph) if ralph else "Ralph was not measured."),
        "",
        "| batches of | clients | TenantScope: stored and acknowledged, statements/s | COPY of the same batches, statements/s "
        "| ratio to it | ratio to one bulk COPY | until derived, statements/s | Ralph, statements/s | TenantScope / Ralph |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for cell in result["http"]:
        t = cell["tenantscope"]
        r = cell.get("ralph")
        b = cell["batched_copy"]
        lines.append("| %d | %d | %d [%d–%d] | %d [%d–%d] | **%.2f** | %.2f | %d (%.2f of batched, %.2f of bulk COPY) | %s | %s |" % (
            cell["batch_size"], cell["clients"], t["statements_per_second"], t["statements_per_second_range"][0],
            t["statements_per_second_range"][1], b["statements_per_second"], *b["statements_per_second_range"],
            cell["ratio_to_batched_copy"], cell["ratio_to_copy"],
            t["derived_statements_per_second"], cell["derived_ratio_to_batched_copy"], cell["derived_ratio_to_copy"],
            "%d [%d–%d]" % (r["statements_per_second"], *r["statements_per_second_range"]) if r else "–",
            "**%.1f×**" % cell["ratio_to_ralph"] if r else "–"))
    lines.append("| One bulk `COPY` of all %d rows | | %d | | | 1.00 | | | |" % (result["copy"]["statements"], copy_rate))
    aims = result["aims"]
    lines += ["",
              "Aims (issue 16): acknowledged ingest at least %.1f of COPY of the same batches in every cell — %s (against one bulk "
              "COPY of every row, as earlier runs were quoted: %s); at least %.0f× Ralph in every cell — %s." % (
                  AIM_COPY, "met" if aims["copy_met"] else "not met", "met" if aims["bulk_copy_met"] else "not met", AIM_RALPH,
                  ("met" if aims["ralph_met"] else "not met") if ralph else "not measured"),
              "",
              "\"COPY of the same batches\" loads, in every round right after the cell's TenantScope run (TenantScope paused), "
              "the %d rows that run stored, as the cell's clients sent them: one `COPY` per batch, so one transaction and one "
              "commit per batch as for a POST, from as many psql connections at once as the cell has clients, by the PostgreSQL "
              "superuser into a tenant of its own, timed by the server's clock. The bulk COPY loads every row of the run in one "
              "transaction, after the last round." % COUNT,
              "",
              "\"Stored and acknowledged\" is the HTTP ingest rate: JSON parsing, xAPI validation, Basic authentication, the "
              "multi-row insert, voiding checks and queueing the touched actors, in one transaction per batch (one call of a "
              "session function, architecture decision 62), timed until "
              "the last response. \"Until derived\" runs the clock on until the roll-up service, running in the same server "
              "at the same time (%s), has "
              "emptied the derivation queue (learners, courses and enrollments current). Both COPY "
              "figures are bare loads by the PostgreSQL superuser: no parsing, validation, derivation or row-level "
              "security. Ralph runs as one uvicorn process (its LRS app with the file-system backend: one file holds every "
              "statement, and each POST's ids are checked against it), on a store emptied before every cell; it "
              "validates each statement with its pydantic models and stores it whole. Its file-system backend is set to "
              "append (`bench/ingest/ralph_app.py`): as released it writes with `create`, which fails every POST after the first. TenantScope's server is paused "
              "(SIGSTOP) while Ralph is measured, and Ralph while TenantScope is. The client, the server and PostgreSQL "
              "share the same 2 cores, so the client's CPU use lowers the HTTP figures of both." % interval_text(result)]
    with_transactions = [cell for cell in result["http"] if "transactions" in cell]
    if with_transactions:
        lines += ["", "## One call against a transaction per batch", "",
                  "Each batch as one call of its session function (the default, architecture decision 62) against the same binary "
                  "started with `--no-session-functions` on the same cluster (each batch a scoped transaction: `BEGIN`, the scope, "
                  "the insert, `COMMIT`), given the same batches in the same rounds; which went first alternated from cell to cell "
                  "and round to round:", "",
                  "| batches of | clients | one call, statements/s | transactions, statements/s | ratio |",
                  "|---:|---:|---:|---:|---:|"]
        for cell in with_transactions:
            t, x = cell["tenantscope"], cell["transactions"]
            lines.append("| %d | %d | %d [%d–%d] | %d [%d–%d] | **%.2f** |" % (
                cell["batch_size"], cell["clients"], t["statements_per_second"], *t["statements_per_second_range"],
                x["statements_per_second"], *x["statements_per_second_range"], cell["ratio_to_transactions"]))
    in_order = result.get("derivation_in_order", [])
    if in_order:
        lines += ["", "## Derivation as history grows", "",
                  "Every run stores %d new statements into the same %d tenants, so each finds more history than the one before. "
                  "\"Until derived\" of each run, in the order they ran:" % (COUNT, result["tenants"]), "",
                  "| run | server | batches of | clients | statements stored before it | until derived, statements/s |",
                  "|---:|---|---:|---:|---:|---:|"]
        for run in in_order:
            lines.append("| %d | %s | %d | %d | %d | %d |" % (run["run"], "transactions" if run.get("mode") == "transactions" else "one call",
                                                              run["batch_size"], run["clients"], run["stored_before"],
                                                              run["derived_statements_per_second"]))
        firsts, lasts = {}, {}
        for run in in_order:
            if run.get("mode") == "transactions":
                continue
            firsts.setdefault((run["batch_size"], run["clients"]), run)
            lasts[(run["batch_size"], run["clients"])] = run
        lines += ["", "Last round against first, per cell (the default server; same batches and clients, more history): " + "; ".join(
            "%d/%d: %.2f× (run %d against run %d)" % (size, clients, lasts[(size, clients)]["derived_statements_per_second"]
                                                      / firsts[(size, clients)]["derived_statements_per_second"],
                                                      lasts[(size, clients)]["run"], firsts[(size, clients)]["run"])
            for (size, clients) in firsts) + "."]
    with open(os.path.join(RESULTS, "ingest.md"), "w") as handle:
        handle.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
