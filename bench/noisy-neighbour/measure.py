#!/usr/bin/env python3
"""bench/noisy-neighbour measurement (run by run.sh once the embedded cluster is up).

Generates the dataset (bench/query/generate.sql) and rebuilds the roll-ups. The noisy tenant is the biggest
(`qb-t001`), the quiet one the second biggest (`qb-t002`, `standard` tier). The quiet tenant's
dashboard page (`/dashboards/learning`, through its session cookie) is driven by wrk at one connection in three
phases of the same run, each against a fresh `serve` with the report cache off (every request reaches
PostgreSQL, the case limits exist for):

1. idle: the quiet tenant alone;
2. flood, limits off (`serve --no-tenant-limits`): the noisy tenant also runs its four reports at 16
   connections (4 per report) and posts batches of 100 statements at 2 connections;
3. flood, limits on (the default), the noisy tenant in the `standard` tier: the same flood under its limits;
4. the same with the noisy tenant moved to the `free` tier (`tenantscope tenant limits qb-t001 --tier free`);
5. the standard tier again with `--tenant-rate-wait 0`: requests over the rate refused at once, as before
   architecture decision 51, which shows what pacing and held refusals change.

Writes bench/results/noisy-neighbour.{json,md}. Python 3 standard library, psql and wrk.
"""

import argparse
import base64
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from cluster import Cluster, progress as tagged_progress, run_facts, write_results, wrk_milliseconds  # noqa: E402

REPORTS = ["active_learners", "completion_rate_by_course", "time_to_complete", "cohort_comparison"]
NOISY, QUIET = "qb-t001", "qb-t002"
AIM_RATIO = 2.0
# name, serve's limit options, flood, the noisy tenant's tier
PHASES = [
    ("idle", [], False, "standard"),
    ("flood_limits_off", ["--no-tenant-limits"], True, "standard"),
    ("flood_limits_on_standard", [], True, "standard"),
    ("flood_limits_on_free", [], True, "free"),
    ("flood_limits_on_standard_refused_at_once", ["--tenant-rate-wait", "0"], True, "standard"),
]
LABELS = {"idle": "idle", "flood_limits_off": "flood, limits off", "flood_limits_on_standard": "flood, limits on, noisy tenant standard",
          "flood_limits_on_free": "flood, limits on, noisy tenant free",
          "flood_limits_on_standard_refused_at_once": "flood, limits on, noisy tenant standard, `--tenant-rate-wait 0`"}


def progress(message):
    tagged_progress("noisy-neighbour", message)


def wrk_command(url, connections, seconds, headers=(), script=None):
    command = ["wrk", f"-t{min(connections, 2)}", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "30s"]
    for header in headers:
        command += ["-H", header]
    if script:
        command += ["-s", script]
    return command + [url]


def parse_wrk(output):
    percentiles = {p: wrk_milliseconds(v) for p, v in re.findall(r"^\s+(50|90|99)%\s+(\S+)\s*$", output, re.M)}
    if "99" not in percentiles:
        raise RuntimeError(f"wrk measured no latencies:\n{output}")
    total = int(re.search(r"^\s+([0-9]+) requests in", output, re.M).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: ([0-9]+)", output)
    errors = re.search(r"Socket errors: (.*)$", output, re.M)
    rate = float(re.search(r"^Requests/sec:\s+([0-9.]+)", output, re.M).group(1))
    return {"p50_ms": percentiles.get("50"), "p90_ms": percentiles.get("90"), "p99_ms": percentiles.get("99"),
            "requests": total, "requests_per_second": rate, "non_2xx": int(non2xx.group(1)) if non2xx else 0,
            "socket_errors": errors.group(1) if errors else None}


class NoHTTPRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Bench(Cluster):
    def __init__(self, args):
        super().__init__(args.state_dir, args.bin)
        self.args = args

    def serve(self, limit_options):
        return self.start_serve("--report-cache-mb", "0", *limit_options)

    def stop(self, process):
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
        # serve stops the embedded cluster it ran on: start it again for the next phase.
        subprocess.run([self.binary, "db", "start", "--state-dir", self.state_dir], capture_output=True, check=True, env=self.env)

    def session_cookie(self, port, token):
        """The quiet tenant's dashboard session, as an embedding page gets it (`/embed/learning?token=`)."""
        opener = urllib.request.build_opener(NoHTTPRedirect)
        try:
            opener.open(f"http://127.0.0.1:{port}/embed/learning?token={token}")
        except urllib.error.HTTPError as redirect:
            if redirect.code != 303:
                raise
            cookie = redirect.headers.get("Set-Cookie", "")
            return cookie.split(";", 1)[0]
        raise RuntimeError("/embed/learning did not redirect")

    def phase(self, name, limit_options, flood, tokens, lrs_authorization):
        a = self.args
        process, port = self.serve(limit_options)
        try:
            base = f"http://127.0.0.1:{port}"
            cookie = self.session_cookie(port, tokens["quiet"])
            floods = []
            if flood:
                env = dict(self.env, NOISY_LRS_AUTHORIZATION=lrs_authorization)
                for report in REPORTS:
                    floods.append(("reports", subprocess.Popen(
                        wrk_command(f"{base}/api/v1/reports/{report}", 4, a.seconds + 4,
                                    headers=[f"Authorization: Bearer {tokens['noisy']}"]),
                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=self.env)))
                floods.append(("ingest", subprocess.Popen(
                    wrk_command(base, 2, a.seconds + 4, script=a.ingest_script),
                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)))
                time.sleep(2)  # the flood is under way before the quiet tenant is measured
            progress(f"{name}: the quiet tenant's dashboard at 1 connection for {a.seconds} s")
            quiet = parse_wrk(subprocess.run(wrk_command(f"{base}/dashboards/learning", 1, a.seconds, headers=[f"Cookie: {cookie}"]),
                                             capture_output=True, text=True, check=True, env=self.env).stdout)
            noisy = {"reports": {"requests": 0, "non_2xx": 0, "requests_per_second": 0.0},
                     "ingest": {"requests": 0, "non_2xx": 0, "requests_per_second": 0.0}}
            for kind, flooder in floods:
                output, _ = flooder.communicate(timeout=a.seconds + 120)
                cell = parse_wrk(output)
                for key in ("requests", "non_2xx", "requests_per_second"):
                    noisy[kind][key] += cell[key]
            stored = int(self.psql(f"SELECT count(*) FROM app.statements s JOIN app.tenants t ON t.id = s.tenant_id "
                                   f"WHERE t.slug = '{NOISY}'")[0][0])
            return {"quiet": quiet, "noisy": noisy if flood else None, "noisy_statements_after": stored}
        finally:
            self.stop(process)

    def run(self):
        a = self.args
        result = {"phases": {}}
        progress(f"Generating {a.statements} statements over {a.tenants} tenants")
        result["generate_s"] = round(self.generate(a.generator, a.statements, a.tenants, a.seed), 1)
        progress("Rebuilding the roll-ups")
        result["rebuild_s"] = self.rebuild()
        self.settle()
        sizes = dict(self.psql("SELECT t.slug, count(*) FROM app.statements s JOIN app.tenants t ON t.id = s.tenant_id "
                               f"WHERE t.slug IN ('{NOISY}', '{QUIET}') GROUP BY t.slug"))
        result["tenant_statements"] = {slug: int(count) for slug, count in sizes.items()}
        tokens = {
            "noisy": self.cli("token", "issue", "--tenant", NOISY, "--role", "viewer", "--ttl", "7200").strip().splitlines()[-1],
            "quiet": self.cli("token", "issue", "--tenant", QUIET, "--role", "viewer", "--ttl", "7200").strip().splitlines()[-1],
        }
        key = self.cli("lrs-key", "create", "--tenant", NOISY, "--label", "noisy-neighbour")
        credential = re.search(r"key:\s+(\S+)", key).group(1) + ":" + re.search(r"secret:\s+(\S+)", key).group(1)
        authorization = "Basic " + base64.b64encode(credential.encode()).decode()
        result["limits"] = {}
        for name, limit_options, flood, tier in PHASES:
            self.cli("tenant", "limits", NOISY, "--tier", tier)
            result["limits"][tier] = self.cli("tenant", "limits", NOISY)
            result["phases"][name] = self.phase(name, limit_options, flood, tokens, authorization)
        return result


def write_markdown(path, data):
    r = data["result"]
    phases = r["phases"]
    idle = phases["idle"]["quiet"]["p99_ms"]
    lines = [
        "# Noisy neighbour: a quiet tenant's dashboard while another tenant floods",
        "",
        f"Generated by `bench/noisy-neighbour/run.sh` on {data['date']} (commit `{(data['git']['commit'] or 'unknown')[:12]}`"
        f"{', working tree with uncommitted changes' if data['git']['dirty'] else ''}), {data['binary']['kind']} binary, {data['cpus']} CPUs. "
        f"Load average (1 min) at start {data['load_average']['start'][0]}, at end {data['load_average']['end'][0]}. "
        "wrk, the server and PostgreSQL share the same cores: the flood's clients take CPU from both tenants in every phase.",
        "",
        f"Dataset: {data['parameters']['statements']:,} generated statements over {data['parameters']['tenants']} tenants. "
        f"Noisy tenant `{NOISY}` ({r['tenant_statements'].get(NOISY, 0):,} statements), quiet tenant `{QUIET}` "
        f"({r['tenant_statements'].get(QUIET, 0):,}), in the `standard` tier (the noisy one in the tier its phase names). The quiet tenant's dashboard page "
        f"(`/dashboards/learning`, four report panels) at one connection, {data['parameters']['seconds']} s per phase, "
        "report cache off so every request reaches PostgreSQL. The flood: the noisy tenant's four reports at 16 "
        "connections (4 each) and batches of 100 statements at 2 connections, with no back-off on 429. With the limits on, "
        "a request over the noisy tenant's rate waits up to `--tenant-rate-wait` (2 s by default) for its tokens, and one "
        "whose tokens come later is refused when that wait is over (architecture decision 51); the last phase refuses at once.",
        "",
        "| phase | quiet p50 ms | quiet p99 ms | p99 / idle | quiet req/s | noisy report req/s (non-2xx) | noisy ingest req/s (non-2xx) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, label in LABELS.items():
        phase = phases[name]
        q = phase["quiet"]
        noisy = phase["noisy"]
        reports = f"{noisy['reports']['requests_per_second']:,.0f} ({noisy['reports']['non_2xx']:,})" if noisy else "–"
        ingest = f"{noisy['ingest']['requests_per_second']:,.0f} ({noisy['ingest']['non_2xx']:,})" if noisy else "–"
        lines.append(f"| {label} | {q['p50_ms']:.1f} | {q['p99_ms']:.1f} | {q['p99_ms'] / idle:.2f} | {q['requests_per_second']:,.1f} | "
                     f"{reports} | {ingest} |")
    standard = phases["flood_limits_on_standard"]["quiet"]["p99_ms"] / idle
    free = phases["flood_limits_on_free"]["quiet"]["p99_ms"] / idle
    off = phases["flood_limits_off"]["quiet"]["p99_ms"] / idle
    at_once = phases["flood_limits_on_standard_refused_at_once"]["quiet"]["p99_ms"] / idle
    quiet_errors = sum(phases[p]["quiet"]["non_2xx"] for p in phases)
    lines += [
        "",
        f"Aim (issue 18): the quiet tenant's p99 under the flood within {AIM_RATIO:.0f}× of idle with the limits on. In this run: "
        f"{off:.2f}× with the limits off; with them on, {standard:.2f}× when the noisy tenant is in the standard tier "
        f"({'met' if standard <= AIM_RATIO else 'not met'}) and {free:.2f}× when it is in the free tier "
        f"({'met' if free <= AIM_RATIO else 'not met'}). Refusing at once instead (`--tenant-rate-wait 0`, the standard tier): "
        f"{at_once:.2f}×.",
        "",
        "The quiet tenant got no answer other than 2xx." if quiet_errors == 0 else
        f"The quiet tenant got {quiet_errors} answers other than 2xx.",
        "",
        "The noisy tenant's limits in the phases (`tenantscope tenant limits qb-t001`); the quiet tenant stays standard:",
        "",
        "```",
        *[r["limits"][tier].rstrip() for tier in ("standard", "free")],
        "```",
    ]
    with open(path, "w") as handle:
        handle.write("\n".join(lines) + "\n")


def main():
    parser = argparse.ArgumentParser()
    for name in ("--state-dir", "--bin", "--results-dir", "--generator", "--ingest-script", "--load-start"):
        parser.add_argument(name, required=True)
    for name in ("--statements", "--tenants", "--seed", "--seconds"):
        parser.add_argument(name, type=int, required=True)
    args = parser.parse_args()

    result = Bench(args).run()
    idle = result["phases"]["idle"]["quiet"]["p99_ms"]
    data = {
        "benchmark": "bench/noisy-neighbour",
        **run_facts(args.bin, args.load_start),
        "parameters": {"statements": args.statements, "tenants": args.tenants, "seed": args.seed, "seconds": args.seconds},
        "result": result,
        "ratios": {name: round(phase["quiet"]["p99_ms"] / idle, 3) for name, phase in result["phases"].items()},
        "aim": {"p99_ratio_limits_on": AIM_RATIO},
    }
    write_results(args.results_dir, "noisy-neighbour", data, write_markdown)
    progress(f"Wrote {args.results_dir}/noisy-neighbour.json and noisy-neighbour.md")


if __name__ == "__main__":
    main()
