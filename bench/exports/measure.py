#!/usr/bin/env python3
"""bench/exports measurement (run by run.sh once the embedded cluster is up).

In one run: generates N statements into one tenant (bench/query/generate.sql), starts `tenantscope serve`, and
through the export API (a tenant admin token) exports the tenant's statements three times: a small export (the
first ~1 % by stored time, to separate what any export costs from what grows with its size), the whole tenant as
NDJSON, and the whole tenant as gzip NDJSON. For each it records the job's own throughput (rows over
finished_at - started_at), the wall time from the POST to the poll that saw it done, the server's VmRSS sampled
every SAMPLE_MS ms from just before the POST until done (and VmHWM, reset just before the POST), and the CPU time
the server and PostgreSQL spent. The ceiling is the same query as the cluster's superuser with `COPY ... TO
STDOUT` into a file (psql's \\copy), timed COPY_RUNS times around the exports, and once piped through gzip -6 (the
export's zlib level). The downloads are checked: N lines, each a JSON object (a sample parsed in full), byte for
byte the COPY output, and the gzip one decompresses to the same bytes. Writes bench/results/exports.{json,md}.
Python 3 standard library, psql and gzip.
"""

import argparse
import gzip
import hashlib
import json
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from cluster import Cluster, free_port, loadavg, progress as tagged_progress, run_facts, write_results  # noqa: E402

SLUG = "qb-t001"
MIB = 1024 * 1024
# The product's own query (ExportReader): stored order, which the (tenant_id, stored) index gives without a sort.
# Statements stored by one transaction share their `stored` time and come in no fixed order among themselves.
EXPORT_SQL = "SELECT statement::text FROM app.statements WHERE tenant_id = '{tenant}' ORDER BY stored"


def progress(message):
    tagged_progress("export-bench", message)


def iso_seconds(text):
    """An API timestamp (2026-12-02T10:59:41.123Z) as seconds since 1970."""
    import datetime
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def proc_status(pid):
    """VmRSS and VmHWM of a process in KiB."""
    values = {}
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith(("VmRSS:", "VmHWM:")):
                key, value = line.split(":", 1)
                values[key] = int(value.split()[0])
    return values


def proc_cpu_seconds(pid):
    """utime + stime of one process (all its threads)."""
    with open(f"/proc/{pid}/stat") as handle:
        text = handle.read()
    fields = text[text.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class RSSSampler(threading.Thread):
    """Samples a process's VmRSS every `interval` seconds until stopped."""

    def __init__(self, pid, interval):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.samples = []  # (seconds since start, KiB)
        self.halt = threading.Event()
        self.started_at = time.monotonic()

    def run(self):
        while not self.halt.is_set():
            try:
                self.samples.append((time.monotonic() - self.started_at, proc_status(self.pid)["VmRSS"]))
            except OSError:
                break
            self.halt.wait(self.interval)

    def stop(self):
        self.halt.set()
        self.join()


def file_digest(path, opener=open):
    """sha256, size, line count of a file (decompressed through `opener`), and `lines_sha256`: the sha256 of its
    lines' own digests, sorted, which two files share when they hold the same lines in any order."""
    digest, size, lines, last = hashlib.sha256(), 0, 0, b""
    line_digests, partial = [], b""
    with opener(path, "rb") as handle:
        while chunk := handle.read(4 * MIB):
            digest.update(chunk)
            size += len(chunk)
            lines += chunk.count(b"\n")
            last = chunk[-1:]
            *complete, partial = (partial + chunk).split(b"\n")
            line_digests.extend(hashlib.sha256(line).digest() for line in complete)
    if partial:
        line_digests.append(hashlib.sha256(partial).digest())
    line_digests.sort()
    return {"sha256": digest.hexdigest(), "bytes": size, "lines": lines, "ends_with_newline": last == b"\n",
            "lines_sha256": hashlib.sha256(b"".join(line_digests)).hexdigest()}


def check_ndjson(path, opener=open, sample_every=500):
    """Every line is a JSON object by its shape ({...}); every `sample_every`-th, the first and the last are parsed
    in full and must be objects with an id. Returns what was checked."""
    shaped, parsed, bad, ids, lines, body = 0, 0, [], set(), 0, b""

    def parse(number, text):
        try:
            value = json.loads(text)
        except ValueError:
            value = None
        if not isinstance(value, dict) or "id" not in value:
            bad.append(number)
        else:
            ids.add(value["id"])

    with opener(path, "rb") as handle:
        for number, line in enumerate(handle):
            lines += 1
            body = line.rstrip(b"\n")
            if body.startswith(b"{") and body.endswith(b"}"):
                shaped += 1
            elif len(bad) < 5:
                bad.append(number)
            if number % sample_every == 0:
                parse(number, body)
                parsed += 1
    if lines and (lines - 1) % sample_every != 0:  # the last line, if the sampling missed it
        parse(lines - 1, body)
        parsed += 1
    return {"lines": lines, "json_object_shaped": shaped, "parsed_in_full": parsed, "distinct_ids_in_sample": len(ids),
            "bad_lines": bad}


class Bench(Cluster):
    def __init__(self, args):
        super().__init__(args.state_dir, args.bin)
        self.args = args
        self.work = os.path.join(args.state_dir, "bench-files")
        os.makedirs(self.work, exist_ok=True)
        self.server = None
        self.problems = []  # checks that failed: recorded in the results, and the run exits non-zero

    # -- the cluster ----------------------------------------------------------------------------------

    def postmaster_pid(self):
        import glob
        for path in glob.glob(os.path.join(self.args.state_dir, "**", "postmaster.pid"), recursive=True):
            with open(path) as handle:
                return int(handle.readline())
        raise RuntimeError("no postmaster.pid under the state directory")

    def cluster_cpu_seconds(self):
        """CPU time of the postmaster, its reaped children (cutime/cstime) and its live children."""
        ticks = os.sysconf("SC_CLK_TCK")
        root = self.postmaster_pid()
        with open(f"/proc/{root}/stat") as handle:
            text = handle.read()
        fields = text[text.rindex(")") + 2:].split()
        total = sum(int(fields[i]) for i in (11, 12, 13, 14))
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    text = handle.read()
            except OSError:
                continue
            child = text[text.rindex(")") + 2:].split()
            if int(child[1]) == root:
                total += int(child[11]) + int(child[12])
        return total / ticks

    def copy(self, tenant_id, target, through_gzip=False):
        """`COPY (the export's query) TO STDOUT` as the superuser, into `target` (psql's \\copy, or piped through
        gzip -6); returns seconds, rows, bytes and the CPU time of PostgreSQL and of psql (+ gzip)."""
        env = dict(self.env, PGPASSWORD=self.passwords["postgres"], PGAPPNAME="tenantscope-bench")
        conninfo = f"host=127.0.0.1 port={self.port} dbname=tenantscope user=postgres sslmode=disable"
        query = EXPORT_SQL.format(tenant=tenant_id)
        children, cluster = resource.getrusage(resource.RUSAGE_CHILDREN), self.cluster_cpu_seconds()
        started = time.monotonic()
        if through_gzip:
            with open(target, "wb") as out:
                psql = subprocess.Popen(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", f"COPY ({query}) TO STDOUT", conninfo],
                                        stdout=subprocess.PIPE, env=env)
                zipper = subprocess.Popen(["gzip", "-6", "-c"], stdin=psql.stdout, stdout=out)
                psql.stdout.close()
                if zipper.wait() != 0 or psql.wait() != 0:
                    raise RuntimeError("COPY | gzip failed")
            output = "COPY ?"
        else:
            result = subprocess.run(["psql", "-X", "-v", "ON_ERROR_STOP=1", "-c", f"\\copy ({query}) TO '{target}'", conninfo],
                                    capture_output=True, text=True, env=env)
            if result.returncode != 0:
                raise RuntimeError(f"COPY failed: {result.stderr.strip()}")
            output = result.stdout.strip()
        seconds = time.monotonic() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        rows = int(output.split()[-1]) if output.split()[-1].isdigit() else None
        return {"seconds": round(seconds, 3), "rows": rows, "bytes": os.path.getsize(target),
                "postgres_cpu_s": round(self.cluster_cpu_seconds() - cluster, 2),
                "client_cpu_s": round(after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime, 2),
                "load_average_1min": loadavg()[0]}

    def explain(self, tenant_id):
        """The export query's plan and PostgreSQL-side time (no transfer), as the superuser with the tenant filter
        and as the tenant role under its RLS policy (the export's path), with EXPLAIN (ANALYZE, TIMING OFF, BUFFERS)."""
        sql = "SELECT statement::text FROM app.statements {where} ORDER BY stored"
        sign = f"""SELECT set_config('app.tenant_ctx', p || '.' || encode(app_private.hmac(convert_to(p, 'UTF8'),
         (SELECT decode(value, 'hex') FROM app_private.settings WHERE key = 'tenant_context_key'), 'sha256'), 'hex'), true) AS ctx
FROM (SELECT '{tenant_id}' || '.' || (extract(epoch FROM now())::bigint + 600) AS p) x \\gset qb_"""
        plans = {}
        for name, prefix, where in (
            ("superuser_with_filter", "BEGIN;\n", f"WHERE tenant_id = '{tenant_id}'"),
            ("tenant_role_under_rls", f"BEGIN;\n{sign}\nSET LOCAL ROLE tenantscope_tenant;\n", ""),
        ):
            rows = self.psql(prefix + f"EXPLAIN (ANALYZE, TIMING OFF, BUFFERS) {sql.format(where=where)};\nCOMMIT;")
            text = [r[0] for r in rows]
            execution = next((float(line.split(":")[1].split()[0]) for line in text if line.startswith("Execution Time")), None)
            plans[name] = {"execution_ms": execution, "plan": text}
        return plans

    # -- the server -----------------------------------------------------------------------------------

    def serve(self):
        port = free_port()
        self.server_log = os.path.join(self.args.state_dir, "serve.log")
        log = open(self.server_log, "wb")
        row_limit = max(10_000_000, self.args.statements)
        self.server = subprocess.Popen([self.binary, "serve", "--state-dir", self.state_dir, "--port", str(port),
                                        "--export-row-limit", str(row_limit),
                                        # Capacity, not one tenant's share (bench/noisy-neighbour).
                                        "--no-tenant-limits"],
                                       stdout=log, stderr=subprocess.STDOUT, env=self.env)
        self.base = f"http://127.0.0.1:{port}"
        for _ in range(600):
            if self.server.poll() is not None:
                raise RuntimeError(f"serve exited ({self.server.returncode}); see {self.server_log}")
            try:
                with urllib.request.urlopen(f"{self.base}/readyz", timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("serve did not become ready within 60 s")

    def stop_server(self):
        if self.server and self.server.poll() is None:
            self.server.send_signal(signal.SIGTERM)
            try:
                self.server.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.server.kill()
                self.server.wait()

    def api(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method,
                                         headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())

    def export(self, name, body, expected_rows):
        """One export through the API, measured; downloads and checks the file. Returns its figures."""
        pid, a = self.server.pid, self.args
        time.sleep(1.0)  # let the previous step's work settle
        idle = RSSSampler(pid, a.sample_ms / 1000)
        idle.start()
        time.sleep(1.0)
        idle.stop()
        rss_before = statistics.median(kib for _, kib in idle.samples)
        try:  # reset VmHWM to the current RSS so it says this export's peak (Linux: clear_refs 5)
            with open(f"/proc/{pid}/clear_refs", "w") as handle:
                handle.write("5")
            hwm_reset = True
        except OSError:
            hwm_reset = False
        serve_cpu, cluster_cpu, load_before = proc_cpu_seconds(pid), self.cluster_cpu_seconds(), loadavg()[0]
        sampler = RSSSampler(pid, a.sample_ms / 1000)
        sampler.start()
        posted = time.time()
        posted_mono = time.monotonic()
        status, job = self.api("POST", "/api/v1/exports", body)
        if status != 202:
            raise RuntimeError(f"{name}: POST answered {status}")
        polls = 0
        while job["state"] in ("queued", "running"):
            time.sleep(0.1)
            _, job = self.api("GET", f"/api/v1/exports/{job['id']}")
            polls += 1
        wall = time.monotonic() - posted_mono
        sampler.stop()
        serve_cpu, cluster_cpu = proc_cpu_seconds(pid) - serve_cpu, self.cluster_cpu_seconds() - cluster_cpu
        status_after = proc_status(pid)
        if job["state"] != "done":
            raise RuntimeError(f"{name}: the export ended {job['state']}: {job.get('error')}")
        job_seconds = iso_seconds(job["finished_at"]) - iso_seconds(job["started_at"])
        peak = max(kib for _, kib in sampler.samples)
        span = sampler.samples[-1][0] or 1.0
        quarters = [[kib for t, kib in sampler.samples if t <= span / 4] or [rss_before],
                    [kib for t, kib in sampler.samples if t >= 3 * span / 4] or [rss_before]]
        series, bucket = [], None
        for t, kib in sampler.samples:  # the maximum per half second, for the results file
            if bucket is None or t >= bucket[0] + 0.5:
                bucket = [round(t, 2), kib]
                series.append(bucket)
            bucket[1] = max(bucket[1], kib)
        figures = {
            "request": body,
            "job_id": job["id"],
            "rows": job["rows"],
            "expected_rows": expected_rows,
            "size_bytes": job["size_bytes"],
            "attempts": job["attempts"],
            "started_at": job["started_at"], "finished_at": job["finished_at"],
            "queued_s": round(iso_seconds(job["started_at"]) - posted, 3),
            "job_s": round(job_seconds, 3),
            "rows_per_s": round(job["rows"] / job_seconds, 1) if job_seconds > 0 else None,
            "wall_s": round(wall, 3),
            "wall_rows_per_s": round(job["rows"] / wall, 1),
            "status_polls": polls,
            "serve_cpu_s": round(serve_cpu, 2),
            "postgres_cpu_s": round(cluster_cpu, 2),
            "load_average_1min": {"before": load_before, "after": loadavg()[0]},
            "rss": {
                "before_mib": round(rss_before / 1024, 1),
                "peak_sampled_mib": round(peak / 1024, 1),
                "growth_mib": round((peak - rss_before) / 1024, 1),
                "after_mib": round(status_after["VmRSS"] / 1024, 1),
                # Flat memory means no trend: the median of the samples in the export's first and last quarter.
                "median_first_quarter_mib": round(statistics.median(quarters[0]) / 1024, 1),
                "median_last_quarter_mib": round(statistics.median(quarters[-1]) / 1024, 1),
                "vmhwm_mib": round(status_after["VmHWM"] / 1024, 1),
                "vmhwm_reset_before_export": hwm_reset,
                "samples": len(sampler.samples),
                "sample_ms": a.sample_ms,
                "series_mib_max_per_half_second": [[t, round(kib / 1024, 1)] for t, kib in series],
            },
        }
        if job["rows"] != expected_rows:
            self.problems.append(f"{name}: the job says {job['rows']} rows, the table holds {expected_rows}")
        # The download, through the signed link, as a tenant would fetch it.
        target = os.path.join(self.work, f"{name}.{'ndjson.gz' if body.get('gzip') else 'ndjson'}")
        started = time.monotonic()
        with urllib.request.urlopen(self.base + job["download_url"], timeout=60) as response, open(target, "wb") as out:
            shutil.copyfileobj(response, out, 4 * MIB)
            content_type = response.headers.get("Content-Type")
        figures["download"] = {"seconds": round(time.monotonic() - started, 3), "bytes": os.path.getsize(target), "content_type": content_type}
        if figures["download"]["bytes"] != job["size_bytes"]:
            self.problems.append(f"{name}: downloaded {figures['download']['bytes']} bytes, the job says {job['size_bytes']}")
        opener = gzip.open if body.get("gzip") else open
        figures["check"] = check_ndjson(target, opener)
        figures["content"] = file_digest(target, opener)
        if body.get("gzip"):
            figures["compressed_sha256"] = file_digest(target)["sha256"]
        check = figures["check"]
        if check["lines"] != expected_rows or check["json_object_shaped"] != expected_rows or check["bad_lines"] \
                or check["distinct_ids_in_sample"] != check["parsed_in_full"] or not figures["content"]["ends_with_newline"]:
            self.problems.append(f"{name}: the download does not hold {expected_rows} JSON objects, one a line: {check}")
        if not a.keep:
            os.remove(target)
        progress(f"  {name}: {job['rows']:,} rows in {job_seconds:.2f} s ({figures['rows_per_s']:,.0f} rows/s), wall {wall:.2f} s; "
                 f"RSS {rss_before / 1024:.1f} -> peak {peak / 1024:.1f} MiB (VmHWM {status_after['VmHWM'] / 1024:.1f}); "
                 f"serve CPU {serve_cpu:.1f} s, PostgreSQL CPU {cluster_cpu:.1f} s")
        return figures

    # -- the run --------------------------------------------------------------------------------------

    def run(self):
        a, result = self.args, {}
        progress(f"Generating {a.statements:,} statements into one tenant ({SLUG})")
        result["generate_s"] = round(self.generate(a.generator, a.statements, 1, a.seed), 1)
        progress("VACUUM (ANALYZE) app.statements and a checkpoint (hint bits set before anything is timed)")
        started = time.monotonic()
        self.psql("VACUUM (ANALYZE) app.statements")
        self.psql("CHECKPOINT")
        result["vacuum_s"] = round(time.monotonic() - started, 1)
        tenant_id = self.psql(f"SELECT id FROM app.tenants WHERE slug = '{SLUG}'")[0][0]
        n = int(self.psql(f"SELECT count(*) FROM app.statements WHERE tenant_id = '{tenant_id}'")[0][0])
        # The small export: statements stored before the stored time of the row at 1 % (ISO 8601 in UTC, as the API takes it).
        cutoff = self.psql(f"""SELECT to_char(stored AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') FROM app.statements
                               WHERE tenant_id = '{tenant_id}' ORDER BY stored, id OFFSET {max(n // 100, 1)} LIMIT 1""")[0][0]
        small = int(self.psql(f"SELECT count(*) FROM app.statements WHERE tenant_id = '{tenant_id}' AND stored < '{cutoff}'")[0][0])
        sizes = self.psql("SELECT pg_table_size('app.statements'), pg_indexes_size('app.statements'), "
                          "pg_relation_size(reltoastrelid) FROM pg_class WHERE oid = 'app.statements'::regclass")[0]
        result["dataset"] = {"tenant": SLUG, "tenant_id": tenant_id, "statements": n, "table_bytes": int(sizes[0]),
                             "index_bytes": int(sizes[1]), "toast_bytes": int(sizes[2]), "small_export_until": cutoff,
                             "small_export_rows": small}
        if n != a.statements:
            raise RuntimeError(f"the tenant holds {n} statements, asked for {a.statements}")
        if a.statements >= 100000 and int(sizes[2]) > int(sizes[0]) // 2:
            progress("note: most statement bytes live in TOAST")

        copies = []
        copy_target = os.path.join(self.work, "copy.ndjson")

        def timed_copy(when):
            progress(f"COPY ... TO STDOUT into a file as the superuser ({when})")
            run = self.copy(tenant_id, copy_target)
            run["when"] = when
            run["content"] = file_digest(copy_target)
            copies.append(run)
            progress(f"  {run['rows']:,} rows in {run['seconds']:.2f} s ({run['rows'] / run['seconds']:,.0f} rows/s)")
            if run["rows"] != n:
                raise RuntimeError(f"COPY wrote {run['rows']} rows, expected {n}")

        progress("Warm-up: COPY ... TO /dev/null (not the ceiling)")
        warm = self.copy(tenant_id, "/dev/null")
        result["copy_warm_up_devnull"] = warm
        progress(f"  {warm['rows']:,} rows in {warm['seconds']:.2f} s")
        progress("EXPLAIN ANALYZE of the export's query, superuser and tenant role under RLS")
        result["plans"] = self.explain(tenant_id)
        for key, plan in result["plans"].items():
            progress(f"  {key}: {plan['execution_ms']:.0f} ms in PostgreSQL")

        self.token = self.cli("token", "issue", "--tenant", SLUG, "--role", "admin", "--ttl", "7200").strip().splitlines()[-1]
        progress("Starting tenantscope serve")
        self.serve()
        exports = {}
        try:
            timed_copy("before the exports")
            progress(f"Export: the first ~1 % by stored time ({small:,} rows), NDJSON")
            exports["small_ndjson"] = self.export("small_ndjson", {"statements": {"until": cutoff}, "format": "ndjson"}, small)
            progress(f"Export: all {n:,} statements, NDJSON")
            exports["ndjson"] = self.export("ndjson", {"statements": {}, "format": "ndjson"}, n)
            if a.copy_runs >= 3:
                timed_copy("between the exports")
            progress(f"Export: all {n:,} statements, gzip NDJSON")
            exports["gzip_ndjson"] = self.export("gzip_ndjson", {"statements": {}, "format": "ndjson", "gzip": True}, n)
            for i in range(max(a.copy_runs - len(copies), 0)):
                timed_copy("after the exports")
            progress("COPY ... TO STDOUT | gzip -6 into a file (the gzip ceiling)")
            gz = self.copy(tenant_id, os.path.join(self.work, "copy.ndjson.gz"), through_gzip=True)
            gz["rows"] = n
            result["copy_gzip"] = gz
            progress(f"  {n:,} rows in {gz['seconds']:.2f} s ({n / gz['seconds']:,.0f} rows/s)")
            result["serve"] = {"final_rss_mib": round(proc_status(self.server.pid)["VmRSS"] / 1024, 1)}
        finally:
            self.stop_server()
        result["copies"] = copies
        result["exports"] = exports

        # The same lines as COPY: the export writes statement::text, one a line; COPY's text format would escape
        # backslashes, tabs and newlines, which the generated statements never hold. Compared as sets of lines:
        # statements sharing a `stored` time come in no fixed order, in the export as in COPY.
        copy_lines = copies[0]["content"]["lines_sha256"]
        result["verification"] = {
            "ndjson_lines": exports["ndjson"]["check"]["lines"],
            "ndjson_equals_copy_output": exports["ndjson"]["content"]["lines_sha256"] == copy_lines,
            "gzip_decompresses_to_ndjson": exports["gzip_ndjson"]["content"]["lines_sha256"] == exports["ndjson"]["content"]["lines_sha256"],
            "copy_outputs_identical": len({c["content"]["lines_sha256"] for c in copies}) == 1,
            "sample_parsed_in_full": exports["ndjson"]["check"]["parsed_in_full"],
        }
        for key in ("ndjson_equals_copy_output", "gzip_decompresses_to_ndjson", "copy_outputs_identical"):
            if not result["verification"][key]:
                self.problems.append(f"check failed: {key}")
        result["verification"]["problems"] = self.problems
        ceiling = statistics.median(c["rows"] / c["seconds"] for c in copies)
        result["ceiling_rows_per_s"] = round(ceiling, 1)
        result["ratios"] = {
            "ndjson_export_to_copy": round(exports["ndjson"]["rows_per_s"] / ceiling, 3),
            "gzip_export_to_copy": round(exports["gzip_ndjson"]["rows_per_s"] / ceiling, 3),
            "gzip_export_to_copy_gzip": round(exports["gzip_ndjson"]["rows_per_s"] / (n / result["copy_gzip"]["seconds"]), 3),
        }
        return result


def mib(x):
    return f"{x / MIB:,.1f}"


def write_markdown(path, data):
    r, p = data["result"], data["parameters"]
    e, c = r["exports"], r["copies"]
    ceiling = r["ceiling_rows_per_s"]
    gz_ceiling = r["dataset"]["statements"] / r["copy_gzip"]["seconds"]
    kind = data["binary"]["kind"]
    lines = [
        "# Statement exports through the API against a raw COPY of the same rows",
        "",
        f"Generated by `bench/exports/run.sh` on {data['date']} (commit `{(data['git']['commit'] or 'unknown')[:12]}`"
        f"{', working tree with uncommitted changes' if data['git']['dirty'] else ''}), **{kind} binary** (`{data['binary']['path']}`), "
        f"{data['cpus']} CPUs shared with other work. Load average (1 min) at start {data['load_average']['start'][0]}, at end "
        f"{data['load_average']['end'][0]}." + (" A debug build: the server's own per-row work is far slower than a release "
                                                "build's, so the export figures are a lower bound." if kind == "debug" else ""),
        "",
        f"Dataset: {r['dataset']['statements']:,} statements in one tenant (`{SLUG}`), generated by `bench/query/generate.sql` "
        f"(seed {p['seed']}) in {r['generate_s']} s; table {mib(r['dataset']['table_bytes'])} MiB (TOAST {mib(r['dataset']['toast_bytes'])} MiB), "
        f"indexes {mib(r['dataset']['index_bytes'])} MiB. The exports are `POST /api/v1/exports` with a tenant admin token and "
        "`{\"statements\": {}, \"format\": \"ndjson\"}` (and `\"gzip\": true`); the ceiling is the same query "
        "(`SELECT statement::text FROM app.statements WHERE tenant_id = … ORDER BY stored`, the product's own) as the cluster's superuser with "
        "`COPY … TO STDOUT` into a file through psql, the median of the runs below.",
        "",
        "| export | rows | job s | rows/s (job) | wall s (POST → done) | COPY rows/s | export / COPY | RSS before MiB | RSS peak MiB | growth MiB | VmHWM MiB | file MiB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for key, label, ref in (("small_ndjson", "NDJSON, first ~1 % (`until`)", ceiling), ("ndjson", "NDJSON, whole tenant", ceiling),
                            ("gzip_ndjson", "gzip NDJSON, whole tenant", ceiling), ("gzip_ndjson", "gzip NDJSON against COPY \\| gzip -6", gz_ceiling)):
        x = e[key]
        lines.append(f"| {label} | {x['rows']:,} | {x['job_s']:.2f} | {x['rows_per_s']:,.0f} | {x['wall_s']:.2f} | {ref:,.0f} | "
                     f"{x['rows_per_s'] / ref:.2f} | {x['rss']['before_mib']:.1f} | {x['rss']['peak_sampled_mib']:.1f} | "
                     f"{x['rss']['growth_mib']:.1f} | {x['rss']['vmhwm_mib']:.1f} | {mib(x['size_bytes'])} |")
    lines += [
        "",
        "rows/s (job) is the job's rows over its own `finished_at − started_at` (the read, the writing, the fsync and the move into "
        "the store); wall adds the wait for a worker to claim the job (it polls every second) and this client's 0.1 s status polls. "
        "RSS is the serve process's VmRSS: before is the median of a 1 s sample just before the POST, peak the highest of the samples "
        f"every {p['sample_ms']} ms from the POST until done; VmHWM was reset (`clear_refs`) just before the POST, so it is the "
        "kernel's own peak for that export. The small export's row is at the small size's scale: a fixed per-job cost, not a rate. "
        "Median RSS in the first and in the last quarter of each whole-tenant export (the half-second series is in the JSON): "
        + "; ".join(f"{label} {e[k]['rss']['median_first_quarter_mib']:.1f} and {e[k]['rss']['median_last_quarter_mib']:.1f} MiB, "
                    f"{e[k]['rss']['after_mib']:.1f} MiB once done" for k, label in (("ndjson", "NDJSON"), ("gzip_ndjson", "gzip")))
        + ".",
        "",
        "| ceiling run | rows | seconds | rows/s | PostgreSQL CPU s | psql (+ gzip) CPU s | file MiB |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for x in c:
        lines.append(f"| COPY into a file, {x['when']} | {x['rows']:,} | {x['seconds']:.2f} | {x['rows'] / x['seconds']:,.0f} | "
                     f"{x['postgres_cpu_s']:.1f} | {x['client_cpu_s']:.1f} | {mib(x['bytes'])} |")
    g = r["copy_gzip"]
    lines.append(f"| COPY \\| gzip -6 into a file | {r['dataset']['statements']:,} | {g['seconds']:.2f} | {gz_ceiling:,.0f} | "
                 f"{g['postgres_cpu_s']:.1f} | {g['client_cpu_s']:.1f} | {mib(g['bytes'])} |")
    w = r["copy_warm_up_devnull"]
    lines += [
        f"| (warm-up, COPY to /dev/null) | {w['rows']:,} | {w['seconds']:.2f} | {w['rows'] / w['seconds']:,.0f} | {w['postgres_cpu_s']:.1f} | "
        f"{w['client_cpu_s']:.1f} | – |",
        "",
        "Where the time goes (CPU seconds during each whole-tenant export, from /proc): "
        + "; ".join(f"{label}: serve {e[k]['serve_cpu_s']:.1f} s, PostgreSQL {e[k]['postgres_cpu_s']:.1f} s over {e[k]['job_s']:.1f} s of job time"
                    for k, label in (("ndjson", "NDJSON"), ("gzip_ndjson", "gzip"))) + ". "
        + "PostgreSQL alone (EXPLAIN ANALYZE, no transfer): "
        + ", ".join(f"{k.replace('_', ' ')} {v['execution_ms'] / 1000:.2f} s" for k, v in r["plans"].items()) + ".",
        "",
        "Checks: the NDJSON download holds exactly "
        f"{r['verification']['ndjson_lines']:,} lines, each a JSON object (every 500th, the first and the last parsed in full), "
        f"{'the same lines as the COPY output' if r['verification']['ndjson_equals_copy_output'] else 'NOT the same lines as the COPY output'} "
        "(as sets: statements stored in one transaction share their `stored` time and come in no fixed order); "
        f"the gzip download {'decompresses to the same lines' if r['verification']['gzip_decompresses_to_ndjson'] else 'does NOT decompress to the same lines'}; "
        "each job's `rows` equals the table's count and its `size_bytes` the download's size.",
    ]
    if r["verification"]["problems"]:
        lines += ["", "**Checks that failed:** " + "; ".join(r["verification"]["problems"])]
    with open(path, "w") as handle:
        handle.write("\n".join(lines) + "\n")


def main():
    parser = argparse.ArgumentParser()
    for name in ("--state-dir", "--bin", "--results-dir", "--generator", "--load-start"):
        parser.add_argument(name, required=True)
    for name in ("--statements", "--seed", "--copy-runs", "--sample-ms"):
        parser.add_argument(name, type=int, required=True)
    args = parser.parse_args()
    args.keep = os.environ.get("KEEP_STATE") == "1"
    run_started = time.monotonic()
    result = Bench(args).run()
    result["run_s"] = round(time.monotonic() - run_started, 1)
    data = {
        "benchmark": "bench/exports",
        **run_facts(args.bin, args.load_start),
        "parameters": {"statements": args.statements, "tenants": 1, "seed": args.seed, "copy_runs": args.copy_runs,
                       "sample_ms": args.sample_ms},
        "machine": {"cpus": os.cpu_count(), "memory_kib": int(open("/proc/meminfo").readline().split()[1]),
                    "kernel": os.uname().release,
                    "cpu_model": next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), None)},
        "result": result,
    }
    write_results(args.results_dir, "exports", data, write_markdown)
    progress(f"Wrote {args.results_dir}/exports.json and exports.md ({result['run_s']:.0f} s in measure.py)")
    if result["verification"]["problems"]:
        progress("CHECKS FAILED: " + "; ".join(result["verification"]["problems"]))
        sys.exit(1)


if __name__ == "__main__":
    main()
