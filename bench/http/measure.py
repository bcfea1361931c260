#!/usr/bin/env python3
"""bench/http measurement (run by run.sh once the embedded cluster is up).

Generates the dataset (bench/query/generate.sql), rebuilds the roll-ups, then drives every tenant report of the
biggest tenant over HTTP with wrk at 1, 8 and 32 connections, first against `serve` with the report cache off
(every request runs its scoped transaction) and then with it on (the default), in the same run. Writes
bench/results/http.{json,md}. Python 3 standard library, psql and wrk.
"""

import argparse
import os
import re
import signal
import subprocess
import sys
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from cluster import Cluster, progress as tagged_progress, run_facts, write_results, wrk_milliseconds  # noqa: E402

REPORTS = ["active_learners", "completion_rate_by_course", "time_to_complete", "cohort_comparison"]
CONNECTIONS = [1, 8, 32]
AIMS = {"p99_ms_one_connection": 10.0, "requests_per_second_32": 1000.0}


def progress(message):
    tagged_progress("http-bench", message)


def wrk(url, token, connections, seconds):
    # wrk's own timeout is 2 s, and it leaves a request that takes longer out of the latencies: at 10M statements
    # uncached reports at 32 connections took longer than that.
    command = ["wrk", f"-t{min(connections, 2)}", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "30s",
               "-H", f"Authorization: Bearer {token}", url]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    percentiles = {p: wrk_milliseconds(v) for p, v in re.findall(r"^\s+(50|99)%\s+(\S+)$", output, re.M)}
    rate = float(re.search(r"^Requests/sec:\s+([0-9.]+)", output, re.M).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: ([0-9]+)", output)
    errors = re.search(r"Socket errors: (.*)$", output, re.M)
    return {"p50_ms": percentiles.get("50"), "p99_ms": percentiles.get("99"), "requests_per_second": rate,
            "non_2xx": int(non2xx.group(1)) if non2xx else 0, "socket_errors": errors.group(1) if errors else None}


class Bench(Cluster):
    def __init__(self, args):
        super().__init__(args.state_dir, args.bin)
        self.args = args

    def serve(self, cache_mb, report_functions=True):
        # Capacity, not a tenant's share of it: limits are measured in bench/noisy-neighbour.
        flags = ["--report-cache-mb", str(cache_mb), "--no-tenant-limits"]
        return self.start_serve(*flags, *([] if report_functions else ["--no-session-functions"]))

    @staticmethod
    def stop(process):
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)

    def measure(self, result, token, servers):
        """Drives every report at every connection count on each of `servers` ((mode, (process, port)) pairs), then
        stops them."""
        a = self.args
        try:
            cell = 0
            for report in REPORTS:
                for _, (_, port) in servers:
                    url = f"http://127.0.0.1:{port}/api/v1/reports/{report}"
                    with urllib.request.urlopen(urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})) as response:
                        if response.status != 200:
                            raise RuntimeError(f"{report}: HTTP {response.status}")
                for connections in CONNECTIONS:
                    turn = servers if cell % 2 == 0 else list(reversed(servers))
                    cell += 1
                    for mode, (_, port) in turn:
                        url = f"http://127.0.0.1:{port}/api/v1/reports/{report}"
                        progress(f"{mode}: {report} at {connections} connection(s), {a.seconds} s")
                        result["runs"].setdefault(mode, {}).setdefault(report, {})[str(connections)] = wrk(url, token, connections, a.seconds)
        finally:
            for _, (process, _) in servers:
                self.stop(process)
            # serve stops the embedded cluster it ran on: start it again for the next server.
            subprocess.run([self.binary, "db", "start", "--state-dir", self.state_dir], capture_output=True, check=True, env=self.env)

    def run(self):
        a = self.args
        result = {"runs": {}}
        if a.reuse:
            progress(f"Measuring the kept dataset in {a.state_dir} as it is")
            result["generate_s"] = result["rebuild_s"] = None
        else:
            progress(f"Generating {a.statements} statements over {a.tenants} tenants")
            result["generate_s"] = round(self.generate(a.generator, a.statements, a.tenants, a.seed), 1)
            progress("Rebuilding the roll-ups")
            result["rebuild_s"] = self.rebuild()
            self.settle()
        result["tenant_statements"] = int(self.psql(
            "SELECT count(*) FROM app.statements s JOIN app.tenants t ON t.id = s.tenant_id WHERE t.slug = 'qb-t001'")[0][0])
        token = self.cli("token", "issue", "--tenant", "qb-t001", "--role", "viewer", "--ttl", "7200").strip().splitlines()[-1]
        # "transactions" is the uncached server with its reports run as four-statement transactions instead of one call
        # each (architecture decision 61): the baseline of the one-call path. The two servers run side by side on the
        # same cluster and each cell is measured on both, in turn, the first of them alternating from cell to cell.
        self.measure(result, token, [("uncached", self.serve(0, True)), ("transactions", self.serve(0, False))])
        self.measure(result, token, [("cached", self.serve(64, True))])
        return result


def ms(value):
    """A latency cell; none when wrk recorded no latency (every request of the cell outlived wrk's timeout)."""
    return "–" if value is None else f"{value:.2f}"


def cells(run):
    """A mode's p50, p99 and rate cells of one table row."""
    return f"{ms(run['p50_ms'])} | {ms(run['p99_ms'])} | {run['requests_per_second']:,.0f}"


def table_rows(runs, first, second, ratio=False):
    """One row per report and connection count: the two modes' cells, and with `ratio` the first's rate over the second's."""
    rows = []
    for report in REPORTS:
        for connections in CONNECTIONS:
            a, b = runs[first][report][str(connections)], runs[second][report][str(connections)]
            row = f"| {report} | {connections} | {cells(a)} | {cells(b)} |"
            if ratio:
                rate = a["requests_per_second"] / b["requests_per_second"] if b["requests_per_second"] else float("nan")
                row += f" **{rate:.2f}** |"
            rows.append(row)
    return rows


def write_markdown(path, data):
    r = data["result"]
    lines = [
        "# Tenant reports over HTTP: p50 / p99 and requests per second, report cache off and on",
        "",
        f"Generated by `bench/http/run.sh` on {data['date']} (commit `{(data['git']['commit'] or 'unknown')[:12]}`"
        f"{', working tree with uncommitted changes' if data['git']['dirty'] else ''}), {data['binary']['kind']} binary, {data['cpus']} CPUs. "
        f"Load average (1 min) at start {data['load_average']['start'][0]}, at end {data['load_average']['end'][0]}. "
        "wrk, the server and PostgreSQL share the same two cores, so absolute rates are lower than on a separate client; "
        "the modes are measured in the same run: uncached and transactions side by side, cell by cell, then cached.",
        "",
        f"Dataset: {data['parameters']['statements']:,} generated statements over {data['parameters']['tenants']} tenants"
        f"{' (the dataset bench/query generated and kept)' if r['generate_s'] is None else ''}; the biggest "
        f"tenant (`qb-t001`, {r['tenant_statements']:,} statements) is asked, with a viewer token, for each report with its catalog "
        f"defaults, {data['parameters']['seconds']} s per cell. \"uncached\" is `serve --report-cache-mb 0` (each request runs its "
        "report on the roll-ups, as one call of the report's function); \"cached\" is the default, where the same question is answered from the "
        "tenant-keyed cache until the tenant's roll-ups change (architecture decision 33).",
        "",
        "| report | connections | uncached p50 ms | uncached p99 ms | uncached req/s | cached p50 ms | cached p99 ms | cached req/s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    lines += table_rows(r["runs"], "uncached", "cached")
    if "transactions" in r["runs"]:
        lines += [
            "",
            "Uncached, each report as one call of its session function (the default) against the same server started with "
            "`--no-session-functions` (each report in a four-statement transaction: `BEGIN`, the scope, the report, `COMMIT`; "
            "architecture decision 61). Both servers ran at once on the same cluster; each cell was measured on one and then "
            "the other, which went first alternating from cell to cell:",
            "",
            "| report | connections | one call p50 ms | one call p99 ms | one call req/s | transactions p50 ms | transactions p99 ms | transactions req/s | req/s ratio |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        lines += table_rows(r["runs"], "uncached", "transactions", ratio=True)
    bad = [(mode, report, n) for mode, reports in r["runs"].items() for report, by_connections in reports.items()
           for n, cell in by_connections.items() if cell["non_2xx"] or cell["socket_errors"]]
    aims = data["aims"]
    lines += [
        "",
        f"Aims (issue 16, at 10M statements over 1,000 tenants): every report p99 ≤ {AIMS['p99_ms_one_connection']:.0f} ms at one "
        f"connection and ≥ {AIMS['requests_per_second_32']:,.0f} requests/s at 32. In this run: uncached "
        f"{'met' if aims['uncached_met'] else 'not met'}, cached {'met' if aims['cached_met'] else 'not met'} (at this dataset's size).",
        "",
        "Every response was a 2xx." if not bad else
        f"Responses other than 2xx or socket errors (a timeout is a request wrk gave up on) in: {bad}. A cell without "
        "latencies is one where wrk's timeout cut off the requests it would have measured.",
    ]
    with open(path, "w") as handle:
        handle.write("\n".join(lines) + "\n")


def main():
    parser = argparse.ArgumentParser()
    for name in ("--state-dir", "--bin", "--results-dir", "--generator", "--load-start"):
        parser.add_argument(name, required=True)
    for name in ("--statements", "--tenants", "--seed", "--seconds"):
        parser.add_argument(name, type=int, required=True)
    parser.add_argument("--reuse", action="store_true", help="measure the dataset in --state-dir as it is (no generation)")
    args = parser.parse_args()

    result = Bench(args).run()

    def met(mode):
        cells = result["runs"][mode]
        return all(cells[r]["1"]["p99_ms"] is not None and cells[r]["1"]["p99_ms"] <= AIMS["p99_ms_one_connection"] and
                   cells[r]["32"]["requests_per_second"] >= AIMS["requests_per_second_32"] for r in REPORTS)

    data = {
        "benchmark": "bench/http",
        **run_facts(args.bin, args.load_start),
        "parameters": {"statements": args.statements, "tenants": args.tenants, "seed": args.seed, "seconds": args.seconds},
        "result": result,
        "aims": {**AIMS, "uncached_met": met("uncached"), "cached_met": met("cached")},
    }
    write_results(args.results_dir, "http", data, write_markdown)
    progress(f"Wrote {args.results_dir}/http.json and http.md")


if __name__ == "__main__":
    main()
