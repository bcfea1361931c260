#!/usr/bin/env python3
"""bench/documents measurement (run by run.sh once the embedded cluster is up).

Creates a tenant with an LRS key, starts `tenantscope serve`, stores DOCUMENTS State documents (one per
learner, as a cmi5 launch keeps its bookmark) and then, in each of ROUNDS rounds, drives the State resource
with wrk (GET, PUT, POST at 1 and 16 connections) and the same reads and writes as bare SQL with pgbench on
the same cluster (the baseline). Writes bench/results/documents.{json,md}. Python 3 standard library,
psql, pgbench and wrk.
"""

import argparse
import base64
import hashlib
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from cluster import Cluster, free_port, progress as tagged_progress, run_facts, wrk_milliseconds, write_results  # noqa: E402

CONNECTIONS = [1, 16]
ACTIVITY = "https://bench.example/course/1"
REGISTRATION = "2b9c0c3e-8a0f-4b7e-9d3a-5a0c1e2f3a4b"
STATE_ID = "bookmark"
HTTP_OPERATIONS = ["get", "put", "post"]
SQL_OPERATIONS = ["get", "put"]
# Which bare-SQL figure each HTTP operation is compared with: a POST's floor is the same row's upsert.
BASELINE = {"get": "get", "put": "put", "post": "put"}


def progress(message):
    tagged_progress("documents-bench", message)


def agent(i):
    return json.dumps({"mbox": f"mailto:learner{i}@bench.example"}, separators=(",", ":"))


def document(size):
    """A resume bookmark padded with suspend data to `size` bytes, as a SCORM-style State holds."""
    head = '{"bookmark":"page-17","suspend_data":"'
    return head + "x" * (size - len(head) - 2) + '"}'


class Bench(Cluster):
    def __init__(self, args):
        super().__init__(args.state_dir, args.bin)
        self.args = args
        self.body = document(args.document_bytes)
        self.patch = '{"bookmark":"page-18"}'

    # MARK: setup

    def setup(self):
        self.cli("tenant", "create", "bench-docs", "--name", "Documents bench")
        credentials = self.cli("lrs-key", "create", "--tenant", "bench-docs", "--label", "bench")
        key = re.search(r"^key:\s*(\S+)", credentials, re.M).group(1)
        secret = re.search(r"^secret:\s*(\S+)", credentials, re.M).group(1)
        self.authorization = "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()
        self.tenant_password, self.context = self.tenant_login("bench-docs")

    def serve(self):
        self.http_port = free_port()
        self.process = subprocess.Popen([self.binary, "serve", "--state-dir", self.state_dir, "--port", str(self.http_port),
                                         # Capacity, not one tenant's share (bench/noisy-neighbour).
                                         "--no-tenant-limits"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=self.env)
        for _ in range(600):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}/readyz", timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        self.process.kill()
        raise RuntimeError("serve did not become ready within 60 s")

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=60)

    def path(self, i):
        return (f"/xAPI/activities/state?activityId={urllib.parse.quote(ACTIVITY, safe='')}&registration={REGISTRATION}"
                f"&stateId={STATE_ID}&agent={urllib.parse.quote(agent(i), safe='')}")

    def seed(self):
        """One document per learner through the resource itself (PUT), four at a time."""
        failures = []
        pending = list(range(1, self.args.documents + 1))
        lock = threading.Lock()

        def worker():
            while True:
                with lock:
                    if not pending or failures:
                        return
                    i = pending.pop()
                request = urllib.request.Request(f"http://127.0.0.1:{self.http_port}{self.path(i)}", data=self.body.encode(), method="PUT", headers={
                    "Authorization": self.authorization, "X-Experience-API-Version": "1.0.3", "Content-Type": "application/json"})
                try:
                    with urllib.request.urlopen(request) as response:
                        if response.status != 204:
                            failures.append(response.status)
                except OSError as error:
                    failures.append(str(error))

        threads = [threading.Thread(target=worker) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if failures:
            raise RuntimeError(f"seeding a document failed: {failures[0]}")
        stored = self.psql("SELECT count(*), min(agent_key) FROM app.xapi_documents")[0]
        if int(stored[0]) != self.args.documents or not stored[1].startswith("mbox:mailto:learner"):
            raise RuntimeError(f"unexpected stored documents: {stored}")

    # MARK: cells

    def wrk(self, operation, connections):
        method = {"get": "GET", "put": "PUT", "post": "POST"}[operation]
        body = {"get": None, "put": self.body, "post": self.patch}[operation]
        prefix = self.path(0).rsplit("agent=", 1)[0] + "agent="
        script = os.path.join(self.state_dir, f"wrk-{operation}.lua")
        with open(script, "w") as handle:
            handle.write("\n".join([
                "-- Generated by bench/documents/measure.py: a random learner's State document per request.",
                f'wrk.method = "{method}"',
                f'wrk.headers["Authorization"] = "{self.authorization}"',
                'wrk.headers["X-Experience-API-Version"] = "1.0.3"',
                'wrk.headers["Content-Type"] = "application/json"' if body else "",
                f"wrk.body = '{body}'" if body else "",
                f'local prefix = "{prefix}"',
                "local seeded = false",
                "request = function()",
                "  if not seeded then math.randomseed(os.time() + math.floor(os.clock() * 1000000)); seeded = true end",
                f'  local i = math.random({self.args.documents})',
                '  return wrk.format(nil, prefix .. "%7B%22mbox%22%3A%22mailto%3Alearner" .. i .. "%40bench.example%22%7D")',
                "end",
                "",
            ]))
        command = ["wrk", f"-t{min(connections, 2)}", f"-c{connections}", f"-d{self.args.seconds}s", "--latency", "-s", script,
                   f"http://127.0.0.1:{self.http_port}"]
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        percentiles = {p: wrk_milliseconds(v) for p, v in re.findall(r"^\s+(50|99)%\s+(\S+)$", output, re.M)}
        non2xx = re.search(r"Non-2xx or 3xx responses: ([0-9]+)", output)
        errors = re.search(r"Socket errors: (.*)$", output, re.M)
        return {"per_second": float(re.search(r"^Requests/sec:\s+([0-9.]+)", output, re.M).group(1)),
                "p50_ms": percentiles.get("50"), "p99_ms": percentiles.get("99"),
                "non_2xx": int(non2xx.group(1)) if non2xx else 0, "socket_errors": errors.group(1) if errors else None}

    def pgbench(self, operation, connections):
        """The statement a request runs, in the transaction a request opens: BEGIN, the scope's set_config,
        the statement, COMMIT, as the tenant login under row-level security. GET is the server's own SELECT;
        PUT is a bare upsert of the same row (no lock-and-decide, no preconditions): the floor of a write."""
        # pgbench takes every ":name" for a variable, also inside a quoted literal: the agent key's parts are variables.
        agent_key = ":agent_prefix::text || :i::text || :agent_suffix::text"
        key = (f"WHERE kind = 'state' AND activity_id = :activity AND agent_key = {agent_key} "
               "AND registration = :registration AND document_id = 'bookmark'")
        statement = {
            "get": f"SELECT content, content_type, etag, updated FROM app.xapi_documents {key};",
            "put": ("INSERT INTO app.xapi_documents (kind, activity_id, agent_key, registration, document_id, content, content_type, etag) "
                    f"VALUES ('state', :activity, {agent_key}, :registration, 'bookmark', "
                    "convert_to(:body, 'UTF8'), 'application/json', :etag) "
                    "ON CONFLICT (tenant_id, kind, activity_id, agent_key, registration, document_id) DO UPDATE "
                    "SET content = EXCLUDED.content, content_type = EXCLUDED.content_type, etag = EXCLUDED.etag, updated = clock_timestamp();"),
        }[operation]
        script = os.path.join(self.state_dir, f"pgbench-{operation}.sql")
        with open(script, "w") as handle:
            handle.write("\n".join([
                f"\\set i random(1, {self.args.documents})",
                "BEGIN READ ONLY;" if operation == "get" else "BEGIN;",
                "SELECT set_config('app.tenant_ctx', :ctx, true), set_config('statement_timeout', '30000', true), "
                "set_config('TimeZone', 'UTC', true), set_config('role', 'tenantscope_tenant', true);",
                statement,
                "COMMIT;",
                "",
            ]))
        return self.pgbench_as_tenant(script, connections, self.args.seconds, self.tenant_password, {
            "agent_prefix": "mbox:mailto:learner", "agent_suffix": "@bench.example", "ctx": self.context, "activity": ACTIVITY,
            "registration": REGISTRATION, "body": self.body, "etag": hashlib.sha1(self.body.encode()).hexdigest(),
        })

    def run(self):
        a = self.args
        self.setup()
        progress("Starting serve")
        self.serve()
        try:
            progress(f"Storing {a.documents} State documents of {a.document_bytes} bytes through the resource")
            started = time.monotonic()
            self.seed()
            seeded = time.monotonic() - started
            self.psql("VACUUM (ANALYZE) app.xapi_documents")
            rounds = []
            for round_number in range(a.rounds):
                cells = {"http": {}, "sql": {}}
                for operation in HTTP_OPERATIONS:
                    for connections in CONNECTIONS:
                        progress(f"Round {round_number + 1}/{a.rounds}: HTTP {operation.upper()} at {connections} connection(s), {a.seconds} s")
                        cells["http"].setdefault(operation, {})[str(connections)] = self.wrk(operation, connections)
                for operation in SQL_OPERATIONS:
                    for connections in CONNECTIONS:
                        progress(f"Round {round_number + 1}/{a.rounds}: pgbench {operation} at {connections} connection(s), {a.seconds} s")
                        cells["sql"].setdefault(operation, {})[str(connections)] = self.pgbench(operation, connections)
                rounds.append(cells)
            # How many of the updates were HOT (no new index entries): the server's and pgbench's alike.
            updates, hot = (int(x) for x in self.psql(
                "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE relid = 'app.xapi_documents'::regclass")[0])
            # The last writes left readable documents behind (a POST merged into a PUT's document).
            with urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{self.http_port}{self.path(1)}", headers={
                    "Authorization": self.authorization, "X-Experience-API-Version": "1.0.3"})) as response:
                if response.status != 200 or json.loads(response.read()).get("bookmark") is None:
                    raise RuntimeError("a benchmarked document does not read back")
        finally:
            self.stop()
            # serve stops the embedded cluster it ran on; run.sh's cleanup stops it again harmlessly.
        return {"seed_seconds": round(seeded, 2), "rounds": rounds, "median": median_of(rounds),
                "updates": {"all": updates, "hot": hot}}


def median_of(rounds):
    """Each cell's median over the rounds (per second and latencies), with the per-second range."""
    result = {}
    for side, operations in rounds[0].items():
        for operation, cells in operations.items():
            for connections in cells:
                runs = [r[side][operation][connections] for r in rounds]
                cell = {key: statistics.median(run[key] for run in runs) for key in runs[0]
                        if isinstance(runs[0][key], (int, float)) and runs[0][key] is not None and not isinstance(runs[0][key], bool)}
                cell["per_second_range"] = [min(run["per_second"] for run in runs), max(run["per_second"] for run in runs)]
                cell["problems"] = sorted({str(run.get("socket_errors")) for run in runs if run.get("socket_errors")}
                                          | {f"{run.get('non_2xx')} non-2xx" for run in runs if run.get("non_2xx")}
                                          | {f"{run.get('failed')} failed" for run in runs if run.get("failed")})
                result.setdefault(side, {}).setdefault(operation, {})[connections] = cell
    return result


def machine():
    model = None
    try:
        with open("/proc/cpuinfo") as handle:
            model = next((line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")), None)
    except OSError:
        pass
    return {"cpu_model": model, "cpus": os.cpu_count(),
            "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)}


def ingest_comparison(fresh_path, baseline_path, base_path):
    """Statement ingest of a fresh `bench/ingest` run against the committed figures and, when given, against a
    run of the commit before this change made in the same session, per batch size."""
    if not fresh_path:
        return None
    runs = {}
    for name, path in (("fresh", fresh_path), ("baseline", baseline_path), ("base", base_path)):
        if path:
            with open(path) as handle:
                runs[name] = json.load(handle)
    rows = []
    for old in runs["baseline"]["http"]:
        size = old["batch_size"]
        row = {"batch_size": size}
        for name, run in runs.items():
            cell = next(r for r in run["http"] if r["batch_size"] == size)
            row[name] = {"per_second": cell["statements_per_second"], "range": cell.get("statements_per_second_range"),
                         "ratio_to_copy": run["ratio_http_to_copy"][str(size)]}
        rows.append(row)
    facts = {name: {"commit": run.get("commit"), "binary": run.get("binary"), "date": run.get("date"),
                    "statements": run["http"][0]["statements"], "rounds": run["http"][0].get("rounds"),
                    "copy_per_second": run["copy"]["statements_per_second"]} for name, run in runs.items()}
    return {"runs": facts, "batches": rows}


def compared(path):
    """Another run of this benchmark (e.g. the commit before the change, same build kind): its facts and medians."""
    if not path:
        return None
    with open(path) as handle:
        other = json.load(handle)
    return {"git": other["git"], "binary": other["binary"], "date": other["date"], "load_average": other["load_average"],
            "median": other["result"]["median"], "updates": other["result"].get("updates")}


def ingest_verdict(ingest):
    """Whether statement ingest dropped. Against the commit before the change, measured in the same session with
    the same build, a batch size drops when its rate is below that run's range and its ratio to the COPY of its
    own run more than a tenth lower; against the committed figures only the ratio to COPY is compared (another
    day and load, maybe another build)."""
    runs = ingest["runs"]
    reference = "base" if "base" in runs else "baseline"
    dropped = []
    for row in ingest["batches"]:
        fresh, ref = row["fresh"], row[reference]
        ratio_change = fresh["ratio_to_copy"] / ref["ratio_to_copy"] - 1
        low = (ref["range"] or [ref["per_second"]])[0]
        if ratio_change < -0.10 and (reference == "baseline" or fresh["per_second"] < low):
            dropped.append(f"batches of {row['batch_size']} ({ratio_change * 100:+.0f} % in the ratio to COPY)")
    changes = ", ".join(f"batches of {r['batch_size']}: {(r['fresh']['ratio_to_copy'] / r[reference]['ratio_to_copy'] - 1) * 100:+.0f} %"
                        for r in ingest["batches"])
    against = ("the commit before this change, same build, same session" if reference == "base"
               else "the committed figures")
    if dropped:
        return f"**Ingest dropped** against {against}: {', '.join(dropped)}."
    return (f"**Ingest did not drop** against {against}: the ratio to COPY changed by {changes} "
            "(runs on this shared machine vary by about ±10–20 %). This change touches no statement path.")


def write_markdown(path, data):
    m = data["result"]["median"]
    p = data["parameters"]
    machine_facts = data["machine"]
    lines = [
        "# xAPI documents over HTTP against bare SQL: requests per second",
        "",
        f"Generated by `bench/documents/run.sh` on {data['date']} (commit `{(data['git']['commit'] or 'unknown')[:12]}`"
        f"{', working tree with uncommitted changes' if data['git']['dirty'] else ''}), **{data['binary']['kind']} build** "
        f"(`{data['binary']['path']}`), {machine_facts['cpus']} CPUs ({machine_facts['cpu_model']}), {machine_facts['memory_gib']} GiB. "
        f"Load average (1 min) at start {data['load_average']['start'][0]}, at end {data['load_average']['end'][0]}. "
        "wrk or pgbench, the server and PostgreSQL share the same cores, so absolute rates are lower than with a separate client.",
        "",
        f"{p['documents']:,} State documents of {p['document_bytes']:,} bytes, one per learner of one activity and registration, stored "
        f"through the resource first ({data['result']['seed_seconds']} s). Each request names a random learner. Figures are the median "
        f"of {p['rounds']} round{'s' if p['rounds'] != 1 else ''} of {p['seconds']} s per cell (range of the rounds in brackets).",
        "",
        "| operation | connections | HTTP req/s | p50 ms | p99 ms | bare SQL tx/s | HTTP / SQL |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for operation in HTTP_OPERATIONS:
        for connections in map(str, CONNECTIONS):
            h = m["http"][operation][connections]
            s = m["sql"][BASELINE[operation]][connections]
            label = {"get": "`GET` one document", "put": "`PUT` (replace)", "post": "`POST` (merge into JSON)"}[operation]
            lines.append(f"| {label} | {connections} | {h['per_second']:,.0f} [{h['per_second_range'][0]:,.0f}–{h['per_second_range'][1]:,.0f}] | "
                         f"{h['p50_ms']:.2f} | {h['p99_ms']:.2f} | {s['per_second']:,.0f} [{s['per_second_range'][0]:,.0f}–{s['per_second_range'][1]:,.0f}] | "
                         f"{h['per_second'] / s['per_second']:.2f} |")
    problems = {f"{side} {operation} {connections}": cell["problems"] for side, operations in m.items()
                for operation, cells in operations.items() for connections, cell in cells.items() if cell["problems"]}
    lines += [
        "",
        "Every HTTP response was a 2xx and every pgbench transaction succeeded." if not problems else f"Problems: {problems}.",
        f"Of the run's {data['result']['updates']['all']:,} row updates of `app.xapi_documents`, "
        f"{data['result']['updates']['hot']:,} were HOT (no new index entry; migration 23 dropped the index on `updated`).",
        "",
        "**HTTP** is wrk against `tenantscope serve` on the State resource with an LRS key (Basic authentication, remembered "
        "for a second after the first check): the request's parameters parsed and checked, then one scoped transaction of four "
        "round trips: `BEGIN`, the `set_config` of the signed tenant context, **one statement**, `COMMIT` (architecture "
        "decisions 35 and 45). A `PUT` or `POST` is one call of `app.xapi_document_write` (migration 23), which locks the "
        "stored row, checks the preconditions and, for a `POST`, the JSON rules, merges and writes, all in PostgreSQL.",
        "",
        "**Bare SQL** is pgbench on the same cluster in the same run, as the tenant login under the same row-level security, "
        "in the same transaction shape (`BEGIN`, the same `set_config`, one statement, `COMMIT`, extended protocol as "
        "PostgresNIO uses): for `GET` the server's own `SELECT`; for `PUT` and `POST` a bare `INSERT ... ON CONFLICT DO "
        "UPDATE` of the same row and bytes, without the lock-and-decide, preconditions or merge. It is the floor a write "
        "costs in PostgreSQL, not the server's statement. The ratio is therefore what HTTP, authentication, Swift and the "
        "richer statement cost together; writes wait for the commit's WAL flush on both sides.",
    ]
    other = data.get("compared_with")
    if other:
        lines += ["", "## Against the commit before this change", "",
                  f"The same benchmark with the binary of commit `{(other['git']['commit'] or 'unknown')[:12]}` ({other['binary']['kind']} build, "
                  f"{other['date']}, load average at start {other['load_average']['start'][0]}), where a write read the stored document "
                  "with `SELECT … FOR UPDATE` and then wrote it with a second statement (five round trips), and the index on "
                  "`(tenant_id, kind, updated)` existed. The bare-SQL columns show how much the machine itself drifted between the two runs.", "",
                  "| operation | connections | before req/s | this build req/s | change | bare SQL before | bare SQL now |",
                  "|---|---:|---:|---:|---:|---:|---:|"]
        for operation in HTTP_OPERATIONS:
            for connections in map(str, CONNECTIONS):
                before = other["median"]["http"][operation][connections]["per_second"]
                now = m["http"][operation][connections]["per_second"]
                sql_before = other["median"]["sql"][BASELINE[operation]][connections]["per_second"]
                sql_now = m["sql"][BASELINE[operation]][connections]["per_second"]
                lines.append(f"| `{operation.upper()}` | {connections} | {before:,.0f} | {now:,.0f} | {(now / before - 1) * 100:+.0f} % | "
                             f"{sql_before:,.0f} | {sql_now:,.0f} |")
        if other.get("updates"):
            lines += ["", f"HOT updates before: {other['updates']['hot']:,} of {other['updates']['all']:,}."]
    ingest = data.get("ingest_check")
    if ingest:
        runs = ingest["runs"]
        def describe(name):
            r = runs[name]
            return (f"{r['binary']} build, commit `{r['commit']}`, {r['date']}, {r['statements']:,} statements per batch size, "
                    f"{r['rounds']} rounds, COPY {r['copy_per_second']:,}/s")
        lines += ["", "## Statement ingest, re-measured", "",
                  f"`bench/ingest/run.sh` run again with this change ({describe('fresh')})"
                  + (f", and with the commit before it ({describe('base')})" if "base" in runs else "")
                  + f", against the committed `bench/results/ingest.json` ({describe('baseline')}). The raw `COPY` ceiling is "
                  "measured in each run, so its ratio is the fairer comparison across days. `bench/results/ingest.json` is not "
                  "overwritten.", ""]
        names = ["baseline"] + (["base"] if "base" in runs else []) + ["fresh"]
        titles = {"baseline": "committed", "base": "before this change", "fresh": "this change"}
        lines += ["| batch size | " + " | ".join(f"{titles[n]} statements/s | {titles[n]} ratio to COPY" for n in names) + " |",
                  "|---:|" + "---:|---:|" * len(names)]
        for row in ingest["batches"]:
            cells = []
            for n in names:
                cell = row[n]
                span = cell["range"] or [cell["per_second"]] * 2
                cells.append(f"{cell['per_second']:,} [{span[0]:,}–{span[1]:,}] | {cell['ratio_to_copy']:.2f}")
            lines.append(f"| {row['batch_size']} | " + " | ".join(cells) + " |")
        lines += ["", ingest_verdict(ingest)]
    with open(path, "w") as handle:
        handle.write("\n".join(lines) + "\n")


def main():
    parser = argparse.ArgumentParser()
    for name in ("--state-dir", "--bin", "--results-dir", "--load-start", "--ingest-baseline"):
        parser.add_argument(name, required=True)
    parser.add_argument("--ingest-results", default="")
    parser.add_argument("--ingest-base-results", default="")
    parser.add_argument("--compare-results", default="")
    for name in ("--documents", "--document-bytes", "--seconds", "--rounds"):
        parser.add_argument(name, type=int, required=True)
    args = parser.parse_args()

    result = Bench(args).run()
    ratios = {operation: {c: round(result["median"]["http"][operation][c]["per_second"] / result["median"]["sql"][BASELINE[operation]][c]["per_second"], 3)
                          for c in map(str, CONNECTIONS)} for operation in HTTP_OPERATIONS}
    data = {
        "benchmark": "bench/documents",
        **run_facts(args.bin, args.load_start),
        "machine": machine(),
        "parameters": {"documents": args.documents, "document_bytes": args.document_bytes, "seconds": args.seconds, "rounds": args.rounds,
                       "connections": CONNECTIONS},
        "baseline": "pgbench: GET the server's SELECT; PUT and POST a bare upsert of the same row; same transaction shape and RLS",
        "result": result,
        "ratio_http_to_sql": ratios,
        "ingest_check": ingest_comparison(args.ingest_results, args.ingest_baseline, args.ingest_base_results),
        "compared_with": compared(args.compare_results),
    }
    write_results(args.results_dir, "documents", data, write_markdown)
    progress(f"Wrote {args.results_dir}/documents.json and documents.md")


if __name__ == "__main__":
    main()
