#!/usr/bin/env python3
"""bench/rollups measurement (run by run.sh once the embedded cluster is up).

In one run: generates the dataset (bench/query/generate.sql), rebuilds every roll-up (the baseline), times
passes of the roll-up service with nothing queued, watches PostgreSQL's CPU time with `serve` at rest, adds a
small increment with the queue rows the LRS writes and times the pass that catches it up, then rebuilds again
and checks the incremental roll-ups equal the rebuilt ones. Writes bench/results/rollups.{json,md}.
Python 3 standard library and psql only.
"""

import argparse
import glob
import os
import signal
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from cluster import Cluster, run_facts, write_results  # noqa: E402

AIM_INCREMENT_RATIO = 0.05


def progress(message):
    print(f"[rollup-bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class Bench(Cluster):
    def __init__(self, args):
        super().__init__(args.state_dir, args.bin)
        self.args = args

    def catch_up(self):
        match = self.cli("rollups", "catch-up", pattern=r"Caught up ([0-9]+) tenant\(s\) with queued work in ([0-9.]+) s\.")
        return int(match.group(1)), float(match.group(2))

    # -- PostgreSQL's CPU time ----------------------------------------------------------------------

    def postmaster_pid(self):
        for path in glob.glob(os.path.join(self.args.state_dir, "**", "postmaster.pid"), recursive=True):
            with open(path) as handle:
                return int(handle.readline())
        raise RuntimeError("no postmaster.pid under the state directory")

    @staticmethod
    def stat_fields(pid):
        with open(f"/proc/{pid}/stat") as handle:
            text = handle.read()
        return text[text.rindex(")") + 2:].split()

    def cluster_cpu_seconds(self):
        """CPU time of the postmaster, its reaped children (cutime/cstime) and its live children."""
        ticks = os.sysconf("SC_CLK_TCK")
        root = self.postmaster_pid()
        fields = self.stat_fields(root)
        total = sum(int(fields[i]) for i in (11, 12, 13, 14))  # utime stime cutime cstime
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                child = self.stat_fields(int(entry))
            except OSError:
                continue
            if int(child[1]) == root:
                total += int(child[11]) + int(child[12])
        return total / ticks

    def watch_cpu(self, seconds):
        before, started = self.cluster_cpu_seconds(), time.monotonic()
        time.sleep(seconds)
        return (self.cluster_cpu_seconds() - before) / (time.monotonic() - started)

    # -- roll-up contents, for the incremental == rebuild check ---------------------------------------

    def rollup_digest(self):
        rows = self.psql("""
            SELECT 'daily_learner_activity', count(*), md5(coalesce(string_agg(format('%s|%s|%s|%s', tenant_id, day, learner_hash, statements), ','
                          ORDER BY tenant_id, day, learner_hash), '')) FROM app.daily_learner_activity
            UNION ALL
            SELECT 'daily_active_learners', count(*), md5(coalesce(string_agg(format('%s|%s|%s|%s', tenant_id, day, learners, statements), ','
                          ORDER BY tenant_id, day), '')) FROM app.daily_active_learners
            UNION ALL
            SELECT 'learner_active_days', count(*), md5(coalesce(string_agg(format('%s|%s|%s', tenant_id, learner_hash, active), ','
                          ORDER BY tenant_id, learner_hash), '')) FROM app.learner_active_days
            UNION ALL
            SELECT 'daily_enrollment_outcomes', count(*), md5(coalesce(string_agg(format('%s|%s|%s|%s|%s|%s|%s', tenant_id, day, course_id,
                          cohort, region, days_to_complete, enrollments), ',' ORDER BY tenant_id, day, course_id, cohort, region, days_to_complete), ''))
            FROM app.daily_enrollment_outcomes
            UNION ALL
            SELECT 'monthly_course_outcomes', count(*), md5(coalesce(string_agg(format('%s|%s|%s|%s|%s|%s|%s', tenant_id, month, course_id,
                          cohort, region, enrolled, completed), ',' ORDER BY tenant_id, month, course_id, cohort, region), ''))
            FROM app.monthly_course_outcomes
            UNION ALL
            SELECT 'monthly_completion_times', count(*), md5(coalesce(string_agg(format('%s|%s|%s|%s|%s|%s', tenant_id, month, course_id,
                          region, days_to_complete, completions), ',' ORDER BY tenant_id, month, course_id, region, days_to_complete), ''))
            FROM app.monthly_completion_times
            UNION ALL
            SELECT 'learners_by_last_day', count(*), md5(coalesce(string_agg(format('%s|%s|%s', tenant_id, last_day, learners), ','
                          ORDER BY tenant_id, last_day), '')) FROM app.learners_by_last_day
            UNION ALL
            SELECT 'enrollments', count(*), md5(coalesce(string_agg(format('%s|%s|%s|%s|%s', e.tenant_id, l.actor_key, c.course_iri, e.enrolled_at,
                          e.completed_at), ',' ORDER BY e.tenant_id, l.actor_key, c.course_iri), ''))
            FROM app.enrollments e JOIN app.learners l ON l.tenant_id = e.tenant_id AND l.id = e.learner_id
            JOIN app.courses c ON c.tenant_id = e.tenant_id AND c.id = e.course_id
            """)
        return {name: {"rows": int(count), "md5": digest} for name, count, digest in rows}

    # -- the run --------------------------------------------------------------------------------------

    def run(self):
        a = self.args
        result = {}
        progress(f"Creating {a.tenants} tenants and generating {a.statements} statements (bench/query/generate.sql)")
        result["generate_s"] = round(self.generate(a.generator, a.statements, a.tenants, a.seed), 1)
        progress("Baseline: a full rebuild of every tenant's derived facts and roll-ups (`rollups rebuild`)")
        result["rebuild_s"] = self.rebuild()
        self.settle()

        progress(f"At rest: {a.idle_passes} passes of the service with nothing queued (`rollups catch-up`)")
        idle = [self.catch_up() for _ in range(a.idle_passes)]
        if any(tenants for tenants, _ in idle):
            raise RuntimeError(f"a pass at rest caught up tenants: {idle}")
        result["idle_pass_s"] = {"median": statistics.median(s for _, s in idle), "max": max(s for _, s in idle), "runs": len(idle)}

        progress(f"At rest: PostgreSQL's CPU time for {a.idle_seconds} s with no server, then {a.idle_seconds} s with `serve` running")
        result["cluster_cpu_no_server"] = self.watch_cpu(a.idle_seconds)
        serve = subprocess.Popen([a.bin, "serve", "--state-dir", a.state_dir, "--port", "0", "--rollup-interval", "5"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=self.env)
        try:
            time.sleep(5)  # start-up: migrations checked, pools opened, first pass done
            if serve.poll() is not None:
                raise RuntimeError(f"serve exited with {serve.returncode}")
            result["cluster_cpu_serve_idle"] = self.watch_cpu(a.idle_seconds)
        finally:
            serve.send_signal(signal.SIGTERM)
            serve.wait(timeout=60)
        # serve stops the embedded cluster it ran on when it exits: start it again for the rest of the run.
        subprocess.run([a.bin, "db", "start", "--state-dir", a.state_dir], capture_output=True, check=True, env=self.env)

        rounds = []
        for round_number in range(1, a.increment_rounds + 1):
            # Each round starts from the same settled state (statistics current, no checkpoint owed), so the
            # timed pass does not pay for the previous round's writes.
            self.settle()
            progress(f"Increment {round_number}/{a.increment_rounds}: {a.increment_percent} % of every tenant's statements again under "
                     "new ids, dated in the last two days, with the queue rows the LRS writes")
            added = self.psql(f"""
                WITH picked AS (
                  SELECT s.* FROM app.statements s
                  WHERE NOT s.voided AND s.voids IS NULL AND abs(hashtext(s.id::text)) % 100 < {a.increment_percent}
                ), fresh AS (
                  INSERT INTO app.statements (tenant_id, id, statement, actor_key, actor_name, verb_id, object_id, object_type, course_iri,
                                              course_title, registration, "timestamp", stored, completes_course, cohort, learner_region)
                  SELECT p.tenant_id, n.id, jsonb_set(p.statement, '{{id}}', to_jsonb(n.id::text)), p.actor_key, p.actor_name, p.verb_id,
                         p.object_id, p.object_type, p.course_iri, p.course_title, p.registration,
                         now() - random() * interval '2 days', clock_timestamp(), p.completes_course, p.cohort, p.learner_region
                  FROM picked p CROSS JOIN LATERAL (SELECT gen_random_uuid() AS id, p.id AS source) n
                  RETURNING tenant_id, actor_key, "timestamp", stored
                ), actors AS (
                  INSERT INTO app.learning_facts_queue (tenant_id, actor_key, stored_from)
                  SELECT tenant_id, actor_key, min(stored) FROM fresh GROUP BY 1, 2
                ), days AS (
                  INSERT INTO app.rollup_queue (tenant_id, day, actor_key, statements)
                  SELECT tenant_id, ("timestamp" AT TIME ZONE 'UTC')::date, actor_key, count(*) FROM fresh GROUP BY 1, 2, 3
                )
                SELECT count(*) FROM fresh""")
            tenants, seconds = self.catch_up()
            rounds.append({"statements": int(added[0][0]), "tenants": tenants, "seconds": seconds})
            progress(f"  caught up {tenants} tenants in {seconds:.2f} s")
        result["increment_rounds"] = rounds
        result["increment_statements"] = rounds[0]["statements"]
        result["increment_pass"] = {"tenants": rounds[0]["tenants"], "seconds": statistics.median(r["seconds"] for r in rounds)}

        progress("Check: the incrementally caught-up roll-ups equal a rebuild of the same data")
        incremental = self.rollup_digest()
        result["rebuild_again_s"] = self.rebuild()
        rebuilt = self.rollup_digest()
        result["incremental_equals_rebuild"] = incremental == rebuilt
        result["digests"] = {"incremental": incremental, "rebuilt": rebuilt}
        result["dataset"] = {name: int(count) for name, count in self.psql("""
            SELECT 'statements', count(*) FROM app.statements UNION ALL SELECT 'learners', count(*) FROM app.learners
            UNION ALL SELECT 'enrollments', count(*) FROM app.enrollments
            UNION ALL SELECT 'daily_enrollment_outcomes', count(*) FROM app.daily_enrollment_outcomes""")}
        return result


def write_markdown(path, data):
    r = data["result"]
    baseline = (r["rebuild_s"] + r["rebuild_again_s"]) / 2
    round_seconds = ", ".join(f"{x['seconds']:.2f}" for x in r["increment_rounds"])
    rounds_text = "one round" if len(r["increment_rounds"]) == 1 else f"median of {len(r['increment_rounds'])} rounds"
    lines = [
        "# Roll-up service: at rest and per increment, against a full rebuild",
        "",
        f"Generated by `bench/rollups/run.sh` on {data['date']} (commit `{(data['git']['commit'] or 'unknown')[:12]}`"
        f"{', working tree with uncommitted changes' if data['git']['dirty'] else ''}), {data['binary']['kind']} binary, "
        f"{data['cpus']} CPUs. Load average (1 min) at start {data['load_average']['start'][0]}, at end {data['load_average']['end'][0]}: "
        "other work shared the machine, so absolute figures are noisy; the ratios compare figures of the same run. "
        "Almost all of a pass is PostgreSQL's work, so the binary's build matters little here.",
        "",
        f"Dataset: {data['parameters']['statements']:,} generated statements over {data['parameters']['tenants']} tenants "
        f"(bench/query's generator, Zipf sizes), {r['dataset']['learners']:,} learners, {r['dataset']['enrollments']:,} enrollments.",
        "",
        "| measure | value | against the rebuild |",
        "|---|---:|---:|",
        f"| full rebuild of every tenant (`rollups rebuild`), the baseline: mean of the two in this run | {baseline:.2f} s | 1 |",
        f"| a pass with nothing queued (median of {r['idle_pass_s']['runs']}, max {r['idle_pass_s']['max'] * 1000:.1f} ms) | "
        f"{r['idle_pass_s']['median'] * 1000:.1f} ms | {r['idle_pass_s']['median'] / baseline:.5f} |",
        f"| a pass after a {data['parameters']['increment_percent']} % increment ({r['increment_statements']:,} statements in "
        f"{r['increment_pass']['tenants']} tenants), {rounds_text} "
        f"({round_seconds} s) | {r['increment_pass']['seconds']:.2f} s | "
        f"**{r['increment_pass']['seconds'] / baseline:.3f}** |",
        f"| PostgreSQL's CPU with no server running | {r['cluster_cpu_no_server'] * 100:.1f} % of a core | |",
        f"| PostgreSQL's CPU with `serve` at rest (roll-up pass every 5 s) | {r['cluster_cpu_serve_idle'] * 100:.1f} % of a core | |",
        "",
        f"Aim (issue 16): a 1 % increment costs at most {AIM_INCREMENT_RATIO:.0%} of a rebuild — "
        f"{'met' if data['aims']['increment_met'] else 'NOT met'} here; at rest the service costs about nothing "
        f"({(r['cluster_cpu_serve_idle'] - r['cluster_cpu_no_server']) * 100:+.1f} points of a core over PostgreSQL with no server).",
        "",
        f"Incrementally caught-up roll-ups equal a rebuild of the same data: **{'yes' if r['incremental_equals_rebuild'] else 'NO'}** "
        "(learner-day activity, day totals, each learner's active days, the learners by last day, enrollment outcomes, their monthly sums and enrollments compared row by row "
        "through a digest).",
        "",
        "How it is measured: pass times are the command's own timing of the pass (no process start-up, but the opening of its database connection, which a running server keeps open); PostgreSQL's CPU is the "
        "postmaster's and its children's user + system time from `/proc` over the window. The increment copies every tenant's "
        "sampled statements under new ids as the superuser and writes the queue rows the LRS writes in its ingest transaction "
        "(`app.learning_facts_queue`: the touched actors; `app.rollup_queue`: each actor's new statements per day); the catch-up "
        "then merges the touched actors' new statements into their derived facts (architecture decision 36), writes only the "
        "enrollment outcomes that changed (decision 50), and adds the queued per-day counts to the learner days, the day totals "
        "and the learners' active-day ranges without reading the statements again (decision 54).",
    ]
    with open(path, "w") as handle:
        handle.write("\n".join(lines) + "\n")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--state-dir", required=True)
    parser.add_argument("--bin", required=True)
    parser.add_argument("--results-dir", required=True)
    parser.add_argument("--generator", required=True)
    parser.add_argument("--statements", type=int, required=True)
    parser.add_argument("--tenants", type=int, required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--idle-passes", type=int, required=True)
    parser.add_argument("--idle-seconds", type=int, required=True)
    parser.add_argument("--increment-percent", type=int, required=True)
    parser.add_argument("--increment-rounds", type=int, required=True)
    parser.add_argument("--load-start", required=True)
    args = parser.parse_args()

    result = Bench(args).run()
    baseline = (result["rebuild_s"] + result["rebuild_again_s"]) / 2
    data = {
        "benchmark": "bench/rollups",
        **run_facts(args.bin, args.load_start),
        "parameters": {"statements": args.statements, "tenants": args.tenants, "seed": args.seed,
                       "idle_passes": args.idle_passes, "idle_seconds": args.idle_seconds, "increment_percent": args.increment_percent,
                       "increment_rounds": args.increment_rounds},
        "result": result,
        "ratios": {"idle_pass_to_rebuild": result["idle_pass_s"]["median"] / baseline,
                   "increment_pass_to_rebuild": result["increment_pass"]["seconds"] / baseline},
        "aims": {"increment_ratio": AIM_INCREMENT_RATIO,
                 "increment_met": result["increment_pass"]["seconds"] / baseline <= AIM_INCREMENT_RATIO},
    }
    write_results(args.results_dir, "rollups", data, write_markdown)
    progress(f"Wrote {args.results_dir}/rollups.json and rollups.md")
    if not result["incremental_equals_rebuild"]:
        progress("FAILED: the incremental roll-ups differ from the rebuild")
        sys.exit(1)


if __name__ == "__main__":
    main()
