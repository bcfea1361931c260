import Foundation

/// The result of one `tenantscope verify-isolation` run: where and when it ran, the probe tenants, and
/// every check. Written as `isolation-report.json` (this type's ``json``) and `isolation-report.html`.
public struct IsolationReport: Sendable {
    public struct Probe: Sendable, Hashable {
        public var slug: String
        public var tenantID: String
        /// The canary planted in every tenant table: grep logs and exports for it.
        public var canary: String

        public init(slug: String, tenantID: String, canary: String) {
            self.slug = slug
            self.tenantID = tenantID
            self.canary = canary
        }
    }

    public struct Summary: Sendable, Hashable {
        public var checks: Int
        public var counts: [IsolationCheck.Outcome: Int]
        public var httpRequests: Int
        public var databaseAttempts: Int

        public func count(_ outcome: IsolationCheck.Outcome) -> Int { counts[outcome] ?? 0 }
        public var findings: Int { count(.finding) }
        public var errors: Int { count(.error) }

        /// `findings` when any check found a leak, `errors` when none did but some could not run, else `isolated`.
        public var verdict: String {
            findings > 0 ? "findings" : errors > 0 ? "errors" : "isolated"
        }
    }

    public var serverURL: String
    public var startedAt: Date
    public var finishedAt: Date
    /// `git rev-parse HEAD` in the directory the command ran in, when that works.
    public var commit: String?
    /// The database's schema version (`app.schema_version()`).
    public var schemaVersion: Int?
    /// The tenant whose data must not leak, and the tenant that tries.
    public var victim: Probe?
    public var attacker: Probe?
    public var checks: [IsolationCheck]

    public init(serverURL: String, startedAt: Date, finishedAt: Date, commit: String?, schemaVersion: Int?,
                victim: Probe?, attacker: Probe?, checks: [IsolationCheck]) {
        self.serverURL = serverURL
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.commit = commit
        self.schemaVersion = schemaVersion
        self.victim = victim
        self.attacker = attacker
        self.checks = checks
    }

    public var summary: Summary {
        var counts: [IsolationCheck.Outcome: Int] = [:]
        for check in checks { counts[check.outcome, default: 0] += 1 }
        return Summary(checks: checks.count, counts: counts,
                       httpRequests: checks.filter { $0.area == .http }.count,
                       databaseAttempts: checks.filter { $0.area == .database }.count)
    }

    /// The checks that fail the run, findings first.
    public var failures: [IsolationCheck] {
        checks.filter { $0.outcome == .finding } + checks.filter { $0.outcome == .error }
    }

    /// One line with the counts, for the end of the command's output.
    public var summaryLine: String {
        let s = summary
        let parts = IsolationCheck.Outcome.allCases.map { "\(s.count($0)) \($0 == .finding ? "findings" : $0 == .error ? "errors" : $0.rawValue)" }
        return "verify-isolation: \(s.verdict) — \(s.checks) checks (\(s.httpRequests) HTTP requests, \(s.databaseAttempts) database attempts): "
            + parts.joined(separator: ", ")
    }

    public var json: JSONValue {
        let s = summary
        func probe(_ probe: Probe?) -> JSONValue {
            guard let probe else { return .null }
            return ["slug": .string(probe.slug), "tenant_id": .string(probe.tenantID), "canary": .string(probe.canary)]
        }
        var counts: JSONObject = [:]
        for outcome in IsolationCheck.Outcome.allCases { counts[outcome.rawValue] = JSONValue(s.count(outcome)) }
        return [
            "tool": "tenantscope verify-isolation",
            "server_url": .string(serverURL),
            "started_at": .string(ISO8601Timestamp.format(startedAt)),
            "finished_at": .string(ISO8601Timestamp.format(finishedAt)),
            "commit": commit.map(JSONValue.string) ?? .null,
            "schema_version": schemaVersion.map { JSONValue($0) } ?? .null,
            "probe_tenants": ["victim_a": probe(victim), "attacker_b": probe(attacker)],
            "summary": [
                "verdict": .string(s.verdict),
                "checks": JSONValue(s.checks),
                "http_requests": JSONValue(s.httpRequests),
                "database_attempts": JSONValue(s.databaseAttempts),
                "outcomes": .object(counts),
            ],
            "checks": .array(checks.map { check in
                [
                    "area": .string(check.area.rawValue),
                    "attempt": .string(check.attempt),
                    "credential": .string(check.credential),
                    "status": .string(check.status),
                    "outcome": .string(check.outcome.rawValue),
                    "detail": .string(check.detail),
                ]
            }),
        ]
    }
}
