#!/usr/bin/env python3
"""bench/http measurement (run by run.sh once the embedded cluster is up).

Generates the dataset (bench/query/generate.sql), rebuilds the roll-ups, then drives every tenant report of the
biggest tenant over HTTP with wrk at 1, 8 and 32 connections, first against `serve` with the report cache off
(every request runs its scoped transaction) and then with it on (the default), in the same run. Writes
bench/results/http.{json,md}. Python 3 standard library, psql and wrk.
"""

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from cluster import Cluster, run_facts  # noqa: E402

REPORTS = ["active_learners", "completion_rate_by_course", "time_to_complete", "cohort_comparison"]
CONNECTIONS = [1, 8, 32]
AIMS = {"p99_ms_one_connection": 10.0, "requests_per_second_32": 1000.0}


def progress(message):
    print(f"[http-bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def milliseconds(text):
    """wrk's latency (e.g. 812.00us, 3.41ms, 1.02s) in ms."""
    value, unit = re.fullmatch(r"([0-9.]+)(us|ms|s|m)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def wrk(url, token, connections, seconds):
    command = ["wrk", f"-t{min(connections, 2)}", f"-c{connections}", f"-d{seconds}s", "--latency",
               "-H", f"Authorization: Bearer {token}", url]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    percentiles = {p: milliseconds(v) for p, v in re.findall(r"^\s+(50|99)%\s+(\S+)$", output, re.M)}
    rate = float(re.search(r"^Requests/sec:\s+([0-9.]+)", output, re.M).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: ([0-9]+)", output)
    errors = re.search(r"Socket errors: (.*)$", output, re.M)
    return {"p50_ms": percentiles.get("50"), "p99_ms": percentiles.get("99"), "requests_per_second": rate,
            "non_2xx": int(non2xx.group(1)) if non2xx else 0, "socket_errors": errors.group(1) if errors else None}


class Bench(Cluster):
    def __init__(self, args):
        super().__init__(args.state_dir, args.bin)
        self.args = args

    def serve(self, cache_mb):
        port = free_port()
        process = subprocess.Popen([self.binary, "serve", "--state-dir", self.state_dir, "--port", str(port),
                                    "--report-cache-mb", str(cache_mb)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=self.env)
        for _ in range(300):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as response:
                    if response.status == 200:
                        return process, port
            except OSError:
                time.sleep(0.1)
        process.kill()
        raise RuntimeError("serve did not become healthy within 30 s")

    @staticmethod
    def stop(process):
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)

    def run(self):
        a = self.args
        result = {"runs": {}}
        progress(f"Generating {a.statements} statements over {a.tenants} tenants")
        result["generate_s"] = round(self.generate(a.generator, a.statements, a.tenants, a.seed), 1)
        progress("Rebuilding the roll-ups")
        result["rebuild_s"] = self.rebuild()
        self.settle()
        result["tenant_statements"] = int(self.psql(
            "SELECT count(*) FROM app.statements s JOIN app.tenants t ON t.id = s.tenant_id WHERE t.slug = 'qb-t001'")[0][0])
        token = self.cli("token", "issue", "--tenant", "qb-t001", "--role", "viewer", "--ttl", "7200").strip().splitlines()[-1]
        for mode, cache_mb in (("uncached", 0), ("cached", 64)):
            process, port = self.serve(cache_mb)
            try:
                for report in REPORTS:
                    url = f"http://127.0.0.1:{port}/api/v1/reports/{report}"
                    with urllib.request.urlopen(urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})) as response:
                        if response.status != 200:
                            raise RuntimeError(f"{report}: HTTP {response.status}")
                    for connections in CONNECTIONS:
                        progress(f"{mode}: {report} at {connections} connection(s), {a.seconds} s")
                        result["runs"].setdefault(mode, {}).setdefault(report, {})[str(connections)] = wrk(url, token, connections, a.seconds)
            finally:
                self.stop(process)
                # serve stops the embedded cluster it ran on: start it again for the next server.
                subprocess.run([self.binary, "db", "start", "--state-dir", self.state_dir], capture_output=True, check=True, env=self.env)
        return result


def write_markdown(path, data):
    r = data["result"]
    lines = [
        "# Tenant reports over HTTP: p50 / p99 and requests per second, report cache off and on",
        "",
        f"Generated by `bench/http/run.sh` on {data['date']} (commit `{(data['git']['commit'] or 'unknown')[:12]}`"
        f"{', working tree with uncommitted changes' if data['git']['dirty'] else ''}), {data['binary']['kind']} binary, {data['cpus']} CPUs. "
        f"Load average (1 min) at start {data['load_average']['start'][0]}, at end {data['load_average']['end'][0]}. "
        "wrk, the server and PostgreSQL share the same two cores, so absolute rates are lower than on a separate client; "
        "the two modes are measured in the same run, one after the other.",
        "",
        f"Dataset: {data['parameters']['statements']:,} generated statements over {data['parameters']['tenants']} tenants; the biggest "
        f"tenant (`qb-t001`, {r['tenant_statements']:,} statements) is asked, with a viewer token, for each report with its catalog "
        f"defaults, {data['parameters']['seconds']} s per cell. \"uncached\" is `serve --report-cache-mb 0` (each request runs its "
        "scoped transaction on the roll-ups); \"cached\" is the default, where the same question is answered from the "
        "tenant-keyed cache until the tenant's roll-ups change (architecture decision 33).",
        "",
        "| report | connections | uncached p50 ms | uncached p99 ms | uncached req/s | cached p50 ms | cached p99 ms | cached req/s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for report in REPORTS:
        for connections in CONNECTIONS:
            u = r["runs"]["uncached"][report][str(connections)]
            c = r["runs"]["cached"][report][str(connections)]
            lines.append(f"| {report} | {connections} | {u['p50_ms']:.2f} | {u['p99_ms']:.2f} | {u['requests_per_second']:,.0f} | "
                         f"{c['p50_ms']:.2f} | {c['p99_ms']:.2f} | {c['requests_per_second']:,.0f} |")
    bad = [(mode, report, n) for mode, reports in r["runs"].items() for report, cells in reports.items()
           for n, cell in cells.items() if cell["non_2xx"] or cell["socket_errors"]]
    aims = data["aims"]
    lines += [
        "",
        f"Aims (issue 16, at 10M statements over 1,000 tenants): every report p99 ≤ {AIMS['p99_ms_one_connection']:.0f} ms at one "
        f"connection and ≥ {AIMS['requests_per_second_32']:,.0f} requests/s at 32. In this run: uncached "
        f"{'met' if aims['uncached_met'] else 'not met'}, cached {'met' if aims['cached_met'] else 'not met'} (at this dataset's size).",
        "",
        "Every response was a 2xx." if not bad else f"Responses other than 2xx or socket errors in: {bad}.",
    ]
    with open(path, "w") as handle:
        handle.write("\n".join(lines) + "\n")


def main():
    parser = argparse.ArgumentParser()
    for name in ("--state-dir", "--bin", "--results-dir", "--generator", "--load-start"):
        parser.add_argument(name, required=True)
    for name in ("--statements", "--tenants", "--seed", "--seconds"):
        parser.add_argument(name, type=int, required=True)
    args = parser.parse_args()

    result = Bench(args).run()

    def met(mode):
        cells = result["runs"][mode]
        return all(cells[r]["1"]["p99_ms"] <= AIMS["p99_ms_one_connection"] and
                   cells[r]["32"]["requests_per_second"] >= AIMS["requests_per_second_32"] for r in REPORTS)

    data = {
        "benchmark": "bench/http",
        **run_facts(args.bin, args.load_start),
        "parameters": {"statements": args.statements, "tenants": args.tenants, "seed": args.seed, "seconds": args.seconds},
        "result": result,
        "aims": {**AIMS, "uncached_met": met("uncached"), "cached_met": met("cached")},
    }
    os.makedirs(args.results_dir, exist_ok=True)
    with open(os.path.join(args.results_dir, "http.json"), "w") as handle:
        json.dump(data, handle, indent=2)
        handle.write("\n")
    write_markdown(os.path.join(args.results_dir, "http.md"), data)
    progress(f"Wrote {args.results_dir}/http.json and http.md")


if __name__ == "__main__":
    main()
