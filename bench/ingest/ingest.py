"""Ingest benchmark driver: xAPI statements per second over HTTP against a raw COPY of the same rows.

Called by bench/ingest/run.sh with a running server and its owner database URL. Standard library only.
"""
import base64
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from datetime import datetime, timedelta, timezone

URL = urllib.parse.urlparse(os.environ["SERVER_URL"])
OWNER_URL = os.environ["OWNER_URL"]
KEYS = json.loads(os.environ["LRS_KEYS"])          # [[slug, key, secret], ...]
COPY_TENANT = os.environ["COPY_TENANT_ID"]
SOURCE_TENANT = os.environ["SOURCE_TENANT_ID"]
COUNT = int(os.environ.get("STATEMENTS", "20000"))
THREADS = int(os.environ.get("CONCURRENCY", "4"))
ROUNDS = int(os.environ.get("ROUNDS", "3"))
RESULTS = os.environ["RESULTS_DIR"]

VERBS = ["experienced", "attempted", "completed", "passed", "answered"]
NOW = datetime.now(timezone.utc)


def progress(line):
    print("• " + line, flush=True)


def statements(count, seed):
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        learner = rng.randrange(3000)
        course = rng.randrange(12)
        course_activity = {"id": "https://bench.example/course/%d" % course, "objectType": "Activity",
                           "definition": {"type": "http://adlnet.gov/expapi/activities/course",
                                          "name": {"en-US": "Course %d" % course}}}
        verb = rng.choice(VERBS)
        if verb in ("completed", "passed") and rng.random() < 0.5:
            obj = course_activity
        else:
            obj = {"id": "https://bench.example/course/%d/lesson/%d" % (course, rng.randrange(20)), "objectType": "Activity",
                   "definition": {"name": {"en-US": "Lesson"}, "type": "http://adlnet.gov/expapi/activities/lesson"}}
        statement = {
            "actor": {"objectType": "Agent", "name": "Learner %d" % learner, "mbox": "mailto:learner%d@bench.example" % learner},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/" + verb, "display": {"en-US": verb}},
            "object": obj,
            "context": {"contextActivities": {"parent": [course_activity]}, "platform": "bench"},
            "timestamp": (NOW - timedelta(seconds=rng.randrange(30 * 86400))).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
        }
        if rng.random() < 0.3:
            statement["result"] = {"score": {"scaled": round(rng.random(), 2)}, "success": rng.random() < 0.7, "completion": True}
        out.append(statement)
    return out


def run_http(batch_size):
    bodies = []
    per_batch = statements(COUNT, batch_size)
    for index, start in enumerate(range(0, COUNT, batch_size)):
        slug, key, secret = KEYS[index % len(KEYS)]
        auth = "Basic " + base64.b64encode(("%s:%s" % (key, secret)).encode()).decode()
        bodies.append((auth, json.dumps(per_batch[start:start + batch_size]).encode()))
    queue = list(enumerate(bodies))
    lock = threading.Lock()
    failures = []

    def worker():
        connection = http.client.HTTPConnection(URL.hostname, URL.port, timeout=300)
        while True:
            with lock:
                if not queue or failures:
                    break
                _, (auth, body) = queue.pop()
            connection.request("POST", "/xAPI/statements", body=body, headers={
                "Authorization": auth, "X-Experience-API-Version": "1.0.3", "Content-Type": "application/json"})
            response = connection.getresponse()
            data = response.read()
            if response.status != 200:
                with lock:
                    failures.append("%d %s" % (response.status, data[:300]))
        connection.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if failures:
        sys.exit("error: a batch was refused: " + failures[0])
    rate = COUNT / elapsed
    progress("HTTP, batches of %d: %d statements in %.2f s = %.0f statements/s" % (batch_size, COUNT, elapsed, rate))
    derived = wait_for_derivation() - started
    derived_rate = COUNT / derived
    progress("  ...and derived (learners, courses, enrollments) after %.2f s = %.0f statements/s" % (derived, derived_rate))
    return {"batch_size": batch_size, "statements": COUNT, "seconds": round(elapsed, 3), "statements_per_second": round(rate),
            "seconds_until_derived": round(derived, 3), "derived_statements_per_second": round(derived_rate)}


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


def main():
    progress("Generating %d statements per batch size over %d tenants, %d client threads" % (COUNT, len(KEYS), THREADS))
    # Rounds alternate the batch sizes, and each figure is the median of its rounds: on a shared 2-core
    # machine single runs vary by a third or more.
    rounds = {100: [], 500: []}
    for round_number in range(ROUNDS):
        progress("Round %d of %d" % (round_number + 1, ROUNDS))
        for size in rounds:
            rounds[size].append(run_http(size))
    http_results = []
    for size, runs in rounds.items():
        median = {key: statistics.median(run[key] for run in runs)
                  for key in ("seconds", "statements_per_second", "seconds_until_derived", "derived_statements_per_second")}
        median.update({"batch_size": size, "statements": COUNT, "rounds": len(runs),
                       "statements_per_second_range": [min(r["statements_per_second"] for r in runs),
                                                       max(r["statements_per_second"] for r in runs)]})
        http_results.append(median)
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
    result = {
        "benchmark": "ingest",
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        # BINARY_COMMIT: the commit the binary was built from, when it is not the checkout's HEAD.
        "commit": subprocess.run(["git", "rev-parse", "--short", os.environ.get("BINARY_COMMIT", "HEAD")], capture_output=True,
                                 text=True).stdout.strip(),
        "binary": os.environ.get("BINARY_KIND", "unknown"),
        "machine": {"cpus": os.cpu_count(), "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)},
        "tenants": len(KEYS), "client_threads": THREADS, "rounds": ROUNDS,
        "http": http_results, "copy": copy_result,
        "ratio_http_to_copy": {str(r["batch_size"]): round(r["statements_per_second"] / copy_result["statements_per_second"], 3) for r in http_results},
    }
    with open(os.path.join(RESULTS, "ingest.json"), "w") as handle:
        json.dump(result, handle, indent=2)
    copy_rate = copy_result["statements_per_second"]
    result["ratio_derived_to_copy"] = {str(r["batch_size"]): round(r["derived_statements_per_second"] / copy_rate, 3) for r in http_results}
    lines = [
        "# Ingest benchmark", "",
        "Run %s on commit %s, %s build, %d CPUs, %.0f GiB; %d tenants, %d client threads, %d statements per batch size "
        "and round; HTTP figures are the median of %d rounds (range in brackets), COPY the median of 3 loads." % (
            result["date"], result["commit"], result["binary"], result["machine"]["cpus"], result["machine"]["memory_gib"],
            len(KEYS), THREADS, COUNT, ROUNDS), "",
        "| Path | Statements/s | Ratio to COPY |", "|---|---:|---:|",
    ]
    for r in http_results:
        size = str(r["batch_size"])
        lines.append("| HTTP `POST /xAPI/statements`, batches of %s: stored and acknowledged | %d [%d–%d] | %.2f |" % (
            size, r["statements_per_second"], r["statements_per_second_range"][0], r["statements_per_second_range"][1],
            result["ratio_http_to_copy"][size]))
        lines.append("| HTTP, batches of %s: until learners, courses and enrollments are derived | %d | %.2f |" % (
            size, r["derived_statements_per_second"], result["ratio_derived_to_copy"][size]))
    lines.append("| Raw `COPY` of the same rows (ceiling) | %d | 1.00 |" % copy_rate)
    lines += ["",
              "\"Stored and acknowledged\" is the HTTP ingest rate: JSON parsing, xAPI validation, Basic authentication, the "
              "multi-row insert, voiding checks and queueing the touched actors, in one transaction per batch, timed until "
              "the last response. \"Until derived\" runs the clock on until the roll-up service, running in the same server "
              "at the same time (`--rollup-interval 0.5`: a pass every 0.5 s; the default is 5 s), has "
              "emptied the derivation queue (learners, courses and enrollments current). The COPY "
              "figure is a bare bulk load by the PostgreSQL superuser: no parsing, validation, derivation or row-level "
              "security. The client, the server and PostgreSQL share the same 2 cores, so the client's CPU use lowers "
              "the HTTP figures."]
    with open(os.path.join(RESULTS, "ingest.md"), "w") as handle:
        handle.write("\n".join(lines) + "\n")
    progress("Wrote %s/ingest.json and ingest.md" % RESULTS)


if __name__ == "__main__":
    main()
