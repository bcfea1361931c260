#!/usr/bin/env python3
"""bench/gate measurement (run by run.sh once the embedded cluster is up).

Creates one tenant, then in each of ROUNDS rounds drives four pgbench transactions as the tenant login under
row-level security, each for SECONDS_PER_CELL at 1 and 8 connections, alternating so load drifts hit both
alike: a read (one SELECT of the tenant's roll-up state) and a write (one product-event INSERT), each opened
with the scope's first statement as it was before migration 28 (the baseline) and as it is now (the same
settings, and gate.tenant_gate in the same statement). Writes bench/results/gate.{json,md}: the median
transactions per second and latency of each, and the ratio now/before. Python 3 standard library, psql and
pgbench.
"""

import argparse
import os
import re
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from cluster import Cluster, progress as tagged_progress, run_facts, write_results  # noqa: E402

CONNECTIONS = [1, 8]
OPERATIONS = ["read", "write"]
FIRST_STATEMENT = {
    # ScopedDatabase before migration 28: the four settings.
    "before": ("SELECT set_config('app.tenant_ctx', :ctx, true), set_config('statement_timeout', '30000', true), "
               "set_config('TimeZone', 'UTC', true), set_config('role', 'tenantscope_tenant', true);"),
    # ScopedDatabase now: the same settings, the context set in the gate's own argument.
    "gated": ("SELECT gate.tenant_gate(set_config('app.tenant_ctx', :ctx, true), {write}), set_config('statement_timeout', '30000', true), "
              "set_config('TimeZone', 'UTC', true), set_config('role', 'tenantscope_tenant', true);"),
}
STATEMENT = {
    "read": "SELECT refreshed_at FROM app.rollup_state;",
    "write": "INSERT INTO app.feature_events (feature_key, actor, occurred_at) VALUES ('bench-gate', 'actor', now());",
}


def progress(message):
    tagged_progress("gate-bench", message)


class Bench(Cluster):
    def __init__(self, args):
        super().__init__(args.state_dir, args.bin)
        self.args = args

    def setup(self):
        self.cli("tenant", "create", "bench-gate", "--name", "Gate bench")
        # The tenant login and a signed tenant context, as the server sets them (architecture decisions 2, 28).
        self.tenant_password = self.psql("SELECT value FROM app_private.settings WHERE key = 'tenant_login_password'")[0][0]
        self.context = self.psql("""
            SELECT t.id || '.' || x.expiry || '.'
                   || encode(app_private.hmac(convert_to(t.id || '.' || x.expiry, 'UTF8'), decode(s.value, 'hex'), 'sha256'), 'hex')
            FROM app.tenants t, app_private.settings s, (SELECT (extract(epoch FROM now())::bigint + 86400)::text AS expiry) x
            WHERE t.slug = 'bench-gate' AND s.key = 'tenant_context_key'""")[0][0]

    def pgbench(self, mode, operation, connections):
        script = os.path.join(self.state_dir, f"pgbench-{mode}-{operation}.sql")
        with open(script, "w") as handle:
            handle.write("\n".join([
                "BEGIN READ ONLY;" if operation == "read" else "BEGIN;",
                FIRST_STATEMENT[mode].replace("{write}", "true" if operation == "write" else "false"),
                STATEMENT[operation],
                "COMMIT;",
                "",
            ]))
        env = dict(self.env, PGPASSWORD=self.tenant_password, PGAPPNAME="tenantscope-bench")
        command = ["pgbench", "-n", "-M", "extended", f"-c{connections}", f"-j{min(connections, 2)}", f"-T{self.args.seconds}",
                   "-h", "127.0.0.1", "-p", str(self.port), "-U", "tenantscope_app_tenant", "-D", f"ctx={self.context}", "-f", script,
                   "tenantscope"]
        result = subprocess.run(command, capture_output=True, text=True, env=env)
        if result.returncode != 0:
            raise RuntimeError(f"pgbench {mode} {operation} failed: {result.stderr.strip()[-500:]}")
        failed = re.search(r"number of failed transactions: ([0-9]+)", result.stdout)
        return {"per_second": float(re.search(r"^tps = ([0-9.]+)", result.stdout, re.M).group(1)),
                "latency_average_ms": float(re.search(r"^latency average = ([0-9.]+) ms", result.stdout, re.M).group(1)),
                "failed": int(failed.group(1)) if failed else 0}

    def run(self):
        a = self.args
        self.setup()
        rounds = []
        for round_number in range(a.rounds):
            cells = {}
            for operation in OPERATIONS:
                for connections in CONNECTIONS:
                    for mode in ("before", "gated") if round_number % 2 == 0 else ("gated", "before"):
                        progress(f"Round {round_number + 1}/{a.rounds}: {operation}, {mode}, {connections} connection(s), {a.seconds} s")
                        cells.setdefault(mode, {}).setdefault(operation, {})[str(connections)] = self.pgbench(mode, operation, connections)
            rounds.append(cells)
        median = {mode: {operation: {str(c): {
            "per_second": round(statistics.median(r[mode][operation][str(c)]["per_second"] for r in rounds), 1),
            "latency_average_ms": round(statistics.median(r[mode][operation][str(c)]["latency_average_ms"] for r in rounds), 3),
            "failed": sum(r[mode][operation][str(c)]["failed"] for r in rounds),
        } for c in CONNECTIONS} for operation in OPERATIONS} for mode in ("before", "gated")}
        return {"rounds": rounds, "median": median}


def write_markdown(path, data):
    median = data["result"]["median"]
    git = data["git"]
    lines = [
        "# The tenant gate's cost per tenant transaction",
        "",
        f"Generated by `bench/gate/run.sh` on {data['date']} (commit `{(git['commit'] or '')[:12]}`"
        f"{', working tree with uncommitted changes' if git.get('dirty') else ''}), {data['cpus']} CPUs. "
        f"Load average (1 min) at start {data['load_average']['start'][0]}, at end {data['load_average']['end'][0]}. "
        "pgbench and PostgreSQL share the same cores; the tenantscope binary only set the cluster up, so its build does not matter here.",
        "",
        "Each transaction is what a request opens, as the tenant login under row-level security: `BEGIN`, the scope's first "
        "statement, one statement (a read of the tenant's roll-up state, or one product-event insert), `COMMIT`. "
        "\"before\" opens it as `ScopedDatabase` did before migration 28 (four `set_config`); \"gated\" as it does now, "
        "with `gate.tenant_gate` in the same statement (no extra round trip). "
        f"Median of {data['parameters']['rounds']} rounds of {data['parameters']['seconds']} s per cell, the two modes alternating.",
        "",
        "| transaction | connections | before tx/s | gated tx/s | gated / before | before latency ms | gated latency ms |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for operation in OPERATIONS:
        for c in map(str, CONNECTIONS):
            before, gated = median["before"][operation][c], median["gated"][operation][c]
            lines.append(f"| {operation} | {c} | {before['per_second']:,.0f} | {gated['per_second']:,.0f} | "
                         f"{data['ratio_gated_to_before'][operation][c]:.3f} | {before['latency_average_ms']:.3f} | {gated['latency_average_ms']:.3f} |")
    failures = sum(median[m][o][c]["failed"] for m in median for o in OPERATIONS for c in map(str, CONNECTIONS))
    lines += ["", f"Failed transactions: {failures}.",
              "",
              "A request's transaction also runs the request's own queries and its round trips to the server; this measures "
              "the smallest transaction, where the gate's share is largest."]
    with open(path, "w") as handle:
        handle.write("\n".join(lines) + "\n")


def main():
    parser = argparse.ArgumentParser()
    for name in ("--state-dir", "--bin", "--results-dir", "--load-start"):
        parser.add_argument(name, required=True)
    for name in ("--seconds", "--rounds"):
        parser.add_argument(name, type=int, required=True)
    args = parser.parse_args()

    result = Bench(args).run()
    median = result["median"]
    data = {
        "benchmark": "bench/gate",
        **run_facts(args.bin, args.load_start),
        "parameters": {"seconds": args.seconds, "rounds": args.rounds, "connections": CONNECTIONS},
        "baseline": "the same transaction opened with the first statement as it was before migration 28 (no gate)",
        "result": result,
        "ratio_gated_to_before": {operation: {str(c): round(median["gated"][operation][str(c)]["per_second"]
                                                           / median["before"][operation][str(c)]["per_second"], 3)
                                              for c in CONNECTIONS} for operation in OPERATIONS},
    }
    write_results(args.results_dir, "gate", data, write_markdown)
    progress(f"Wrote {args.results_dir}/gate.json and gate.md")


if __name__ == "__main__":
    main()
