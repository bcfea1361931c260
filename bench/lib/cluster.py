"""Shared by the Python benchmarks: the embedded cluster a run started (psql as its superuser or owner),
the product's CLI on it, the generated dataset (bench/query/generate.sql) and facts about the run.
Python 3 standard library and psql only."""

import json
import os
import re
import subprocess
import time


def progress(tag, message):
    print(f"[{tag} {time.strftime('%H:%M:%S')}] {message}", file=__import__("sys").stderr, flush=True)


class Cluster:
    def __init__(self, state_dir, binary):
        self.state_dir = state_dir
        self.binary = binary
        with open(os.path.join(state_dir, "embedded.json")) as handle:
            state = json.load(handle)
        self.port = state["port"]
        self.passwords = {"postgres": state["superuserPassword"], "tenantscope": state["ownerPassword"]}
        # The product reads these before --state-dir; a benchmark talks to its own cluster only.
        self.env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TENANTSCOPE_STATE_DIR")}

    def start_serve(self, *arguments, timeout_s=60):
        """Starts `tenantscope serve` on this cluster and a free port with `arguments`, waits until /readyz
        answers 200 and returns (process, port). Its output goes to serve.log in the state directory; when it
        does not become ready the error carries the end of that log (a crash shows its cause)."""
        import urllib.request
        port = free_port()
        log_path = os.path.join(self.state_dir, "serve.log")
        with open(log_path, "ab") as log:
            process = subprocess.Popen([self.binary, "serve", "--state-dir", self.state_dir, "--port", str(port), *arguments],
                                       stdout=log, stderr=log, env=self.env)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and process.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as response:
                    if response.status == 200:
                        return process, port
            except OSError:
                time.sleep(0.1)
        process.kill()
        with open(log_path, errors="replace") as log:
            tail = "".join(log.readlines()[-30:])
        raise RuntimeError(f"serve did not become ready within {timeout_s} s; the end of {log_path}:\n{tail}")

    def psql(self, sql, user="postgres", variables=None, single_transaction=False, file=None):
        """Runs SQL (or a file) and returns the rows as lists of tab-separated fields."""
        env = dict(self.env, PGPASSWORD=self.passwords[user], PGAPPNAME="tenantscope-bench")
        command = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-A", "-t", "-F", "\t"]
        for name, value in (variables or {}).items():
            command += ["-v", f"{name}={value}"]
        if single_transaction:
            command.append("-1")
        command += ["-f", file] if file else []
        command.append(f"host=127.0.0.1 port={self.port} dbname=tenantscope user={user} sslmode=disable")
        result = subprocess.run(command, input=None if file else sql, capture_output=True, text=True, env=env)
        if result.returncode != 0:
            raise RuntimeError(f"psql failed ({result.returncode}): {result.stderr.strip()}")
        return [line.split("\t") for line in result.stdout.splitlines() if line.strip()]

    def cli(self, *arguments, pattern=None):
        """Runs a tenantscope command on the cluster; returns its output, or the match of `pattern` in it."""
        result = subprocess.run([self.binary, *arguments, "--state-dir", self.state_dir], capture_output=True, text=True, env=self.env)
        if result.returncode != 0:
            raise RuntimeError(f"tenantscope {' '.join(arguments)} failed: {result.stderr.strip()[-500:]}")
        if pattern is None:
            return result.stdout
        match = re.search(pattern, result.stdout)
        if not match:
            raise RuntimeError(f"unexpected output of tenantscope {' '.join(arguments)}: {result.stdout.strip()}")
        return match

    def tenant_login(self, slug):
        """The tenant login's password and a tenant context for `slug` signed with the database's key (valid a
        day), as the server sets them (architecture decisions 2, 28): pgbench then runs under the same
        row-level security as a request."""
        password = self.psql("SELECT value FROM app_private.settings WHERE key = 'tenant_login_password'")[0][0]
        context = self.psql(f"""
            SELECT t.id || '.' || x.expiry || '.'
                   || encode(app_private.hmac(convert_to(t.id || '.' || x.expiry, 'UTF8'), decode(s.value, 'hex'), 'sha256'), 'hex')
            FROM app.tenants t, app_private.settings s, (SELECT (extract(epoch FROM now())::bigint + 86400)::text AS expiry) x
            WHERE t.slug = '{slug}' AND s.key = 'tenant_context_key'""")[0][0]
        return password, context

    def pgbench_as_tenant(self, script, connections, seconds, password, variables):
        """Runs a pgbench script file as the tenant login (`-M extended`, `-D` for each of `variables`); returns
        transactions per second, average latency and failed transactions."""
        env = dict(self.env, PGPASSWORD=password, PGAPPNAME="tenantscope-bench")
        command = ["pgbench", "-n", "-M", "extended", f"-c{connections}", f"-j{min(connections, 2)}", f"-T{seconds}",
                   "-h", "127.0.0.1", "-p", str(self.port), "-U", "tenantscope_app_tenant"]
        for name, value in variables.items():
            command += ["-D", f"{name}={value}"]
        result = subprocess.run(command + ["-f", script, "tenantscope"], capture_output=True, text=True, env=env)
        if result.returncode != 0:
            raise RuntimeError(f"pgbench {os.path.basename(script)} failed: {result.stderr.strip()[-500:]}")
        failed = re.search(r"number of failed transactions: ([0-9]+)", result.stdout)
        return {"per_second": float(re.search(r"^tps = ([0-9.]+)", result.stdout, re.M).group(1)),
                "latency_average_ms": float(re.search(r"^latency average = ([0-9.]+) ms", result.stdout, re.M).group(1)),
                "failed": int(failed.group(1)) if failed else 0}

    def generate(self, generator, statements, tenants, seed):
        """Creates tenants qb-t001... (the biggest first) and generates the statements; returns seconds."""
        started = time.monotonic()
        self.psql(f"""INSERT INTO app.tenants (slug, name, tier)
                      SELECT format('qb-t%s', lpad(i::text, greatest(3, length(i::text)), '0')), format('Bench tenant %s', i), 'standard'
                      FROM generate_series(1, {tenants}) i""", user="tenantscope")
        self.psql(None, variables={"statements": statements, "seed": seed}, single_transaction=True, file=generator)
        return time.monotonic() - started

    def rebuild(self):
        """`tenantscope rollups rebuild`; returns the command's own timing in seconds."""
        return float(self.cli("rollups", "rebuild", pattern=r"in ([0-9.]+) s\.").group(1))

    def settle(self):
        self.psql("VACUUM (ANALYZE) app.statements, app.learners, app.courses, app.enrollments, app.daily_learner_activity, "
                  "app.daily_enrollment_outcomes, app.monthly_course_outcomes, app.monthly_completion_times, "
                  "app.monthly_course_outcomes_all_regions, app.monthly_completion_times_all_regions, "
                  "app.monthly_cohort_outcomes_all_courses, app.monthly_completion_times_all_courses, app.learner_active_days, "
                  "app.rollup_state, app.rollup_queue, app.learning_facts_queue")
        self.psql("CHECKPOINT")


def free_port():
    """A TCP port on 127.0.0.1 nothing listens on (for a server the benchmark starts)."""
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wrk_milliseconds(text):
    """wrk's latency (e.g. 812.00us, 3.41ms, 1.02s) in ms."""
    value, unit = re.fullmatch(r"([0-9.]+)(us|ms|s|m)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def write_results(results_dir, name, data, write_markdown):
    """Writes <name>.json (every figure) and <name>.md (write_markdown's rendering) into results_dir."""
    os.makedirs(results_dir, exist_ok=True)
    with open(os.path.join(results_dir, f"{name}.json"), "w") as handle:
        json.dump(data, handle, indent=2)
        handle.write("\n")
    write_markdown(os.path.join(results_dir, f"{name}.md"), data)


def loadavg():
    with open("/proc/loadavg") as handle:
        return [float(x) for x in handle.read().split()[:3]]


def git(*args):
    try:
        return subprocess.run(["git", *args], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def run_facts(binary, load_start):
    """What every results file says about the run: date, commit, binary, load. BINARY_COMMIT names the commit the
    binary was built from when it is not the checkout's (a run of an older build); its tree's state is then unknown."""
    import datetime
    real = os.path.realpath(binary)
    commit = os.environ.get("BINARY_COMMIT")
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "git": {"commit": git("rev-parse", commit) or commit, "dirty": None} if commit else
               {"commit": git("rev-parse", "HEAD"), "dirty": bool(git("status", "--porcelain", "--untracked-files=no"))},
        "binary": {"path": binary, "kind": "release" if "/release/" in real else "debug" if "/debug/" in real else "unknown"},
        "cpus": os.cpu_count(),
        "load_average": {"start": [float(x) for x in load_start.split()], "end": loadavg()},
    }
