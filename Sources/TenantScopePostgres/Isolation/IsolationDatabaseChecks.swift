import Foundation
import Logging
import PostgresNIO
import TenantScopeCore

/// The database half of `tenantscope verify-isolation`: the catalog rules, then every tenant table read
/// as the attacking tenant, the platform role and the server's login role, then the escapes of
/// docs/security.md (shared/design/SECURITY.md) tried as each of those roles.
///
/// Each attempt runs in a transaction that is rolled back (except where the point is what survives a
/// commit), and says beforehand what counts as a refusal: the SQLSTATEs a correct database answers with.
/// An attempt that fails with any other SQLSTATE proves nothing and is reported as an error, so a typo
/// in an attempt cannot pass as a refusal.
public struct IsolationDatabaseChecks: Sendable {
    public let admin: AdminDatabase
    public let logger: Logger

    public init(admin: AdminDatabase, logger: Logger) {
        self.admin = admin
        self.logger = logger
    }

    // MARK: - Roles

    enum Role: Sendable, Hashable, CaseIterable {
        case tenant, platform, login, tenantLogin

        var label: String {
            switch self {
            case .tenant: "tenant role in B's signed scope"
            case .platform: "platform role"
            case .login: "server login role (\(Database.appRole))"
            case .tenantLogin: "tenant login role (\(Database.tenantLoginRole))"
            }
        }

        /// The login a role's attempts run on outside a scoped transaction.
        func endpoint(of database: Database) -> DatabaseEndpoint {
            self == .tenantLogin ? database.tenantEndpoint : database.appEndpoint
        }
    }

    static let canaryLabel = "A's canary"
    static let tenantLabel = "A's tenant id"

    static func scan(_ victim: IsolationProbe.Member) -> LeakScan {
        LeakScan([.init(label: canaryLabel, value: victim.canary), .init(label: tenantLabel, value: victim.tenant.id.description)])
    }

    /// What a role may see of the victim: the platform and the server's login role read the tenant
    /// directory by design (tenant ids, never tenant data).
    static func mayShow(_ role: Role) -> Set<String> {
        role == .tenant || role == .tenantLogin ? [] : [tenantLabel]
    }

    // MARK: - Schema

    /// The schema's version, as the server checks it.
    public func schemaVersion() async throws -> Int {
        try await admin.owner.query("SELECT app.schema_version()", logger: logger).collect().first?.decode(Int.self) ?? 0
    }

    /// `SchemaAudit`, the cluster hardening (`ClusterHardening.verificationQuery`) and the extensions that
    /// must not be installed: every problem is a finding.
    public func schema() async -> [IsolationCheck] {
        var checks: [IsolationCheck] = []
        do {
            let problems = try await admin.owner.withConnection { connection in
                try await SchemaAudit.problems(on: connection, logger: logger)
            }
            checks += problems.map {
                IsolationCheck(area: .schema, attempt: "schema rule", credential: "owner (catalog)", status: "problem", outcome: .finding, detail: $0)
            }
            if problems.isEmpty {
                checks.append(IsolationCheck(area: .schema, attempt: "SchemaAudit: every isolation rule of the catalog", credential: "owner (catalog)",
                                             status: "ok", outcome: .passed,
                                             detail: "forced row-level security with a policy on every tenant table, invoker views, no owned objects, revoked functions, no learner rows for the platform"))
            }
        } catch {
            checks.append(IsolationCheck(area: .schema, attempt: "SchemaAudit", credential: "owner (catalog)", status: error.sqlStateOrName,
                                         outcome: .error, detail: "the audit query failed: \(Self.message(error))"))
        }
        do {
            let hardened = try await admin.owner.query(PostgresQuery(unsafeSQL: ClusterHardening.verificationQuery), logger: logger)
                .collect().first?.decode(Bool?.self) ?? nil
            checks.append(IsolationCheck(
                area: .schema, attempt: "cluster hardening: set_config, pg_notify and advisory locks revoked from PUBLIC",
                credential: "owner (catalog)", status: hardened == true ? "ok" : "missing", outcome: hardened == true ? .passed : .finding,
                detail: hardened == true ? "every revoke is in force"
                    : "a revoke is missing: a superuser runs `tenantscope db hardening-sql --owner ROLE | psql`"))
        } catch {
            checks.append(IsolationCheck(area: .schema, attempt: "cluster hardening", credential: "owner (catalog)", status: error.sqlStateOrName,
                                         outcome: .error, detail: Self.message(error)))
        }
        do {
            var installed: [String] = []
            for try await name in try await admin.owner.query("""
                SELECT extname FROM pg_extension WHERE extname IN ('dblink', 'postgres_fdw') ORDER BY 1
                """, logger: logger).decode(String.self) {
                installed.append(name)
            }
            checks.append(IsolationCheck(
                area: .schema, attempt: "dblink and postgres_fdw are not installed", credential: "owner (catalog)",
                status: installed.isEmpty ? "ok" : "installed", outcome: installed.isEmpty ? .passed : .finding,
                detail: installed.isEmpty ? "neither extension is installed in this database"
                    : "installed: \(installed.joined(separator: ", ")) (connections out of the database, even from READ ONLY transactions)"))
        } catch {
            checks.append(IsolationCheck(area: .schema, attempt: "installed extensions", credential: "owner (catalog)", status: error.sqlStateOrName,
                                         outcome: .error, detail: Self.message(error)))
        }
        return checks
    }

    // MARK: - Tenant tables

    /// Every tenant table (and the tenant directory), read whole by B, by the platform role, and by the
    /// server's login role without a context; with a positive control that A's rows are there to be found.
    public func tables(_ probe: IsolationProbe) async -> [IsolationCheck] {
        let tables: [String]
        let learnerColumns: [String: [String]]
        do {
            tables = try await IsolationProbe.tenantTables(in: admin, logger: logger)
            learnerColumns = try await self.learnerColumns()
        } catch {
            return [IsolationCheck(area: .control, attempt: "list the tenant tables", credential: "owner (catalog)", status: error.sqlStateOrName,
                                   outcome: .error, detail: Self.message(error))]
        }
        let a = probe.a
        let scan = Self.scan(a)
        let readable = tables + ["app.tenants"]
        var checks: [IsolationCheck] = []
        do {
            // A's derivation lock keeps the roll-up service from consuming A's queued row while B looks.
            checks += try await admin.runtime.sessions.run(a.scope, logger: logger) { [admin, logger] connection in
                try await connection.execute("SELECT app.lock_tenant_derivation()")
                // A queued derivation and a queued roll-up day, committed while the lock is held: the roll-up
                // service consumes queued rows within a pass, so they are planted here rather than with the
                // rest of A's data.
                try await admin.runtime.sessions.run(a.scope, access: .readWrite, logger: logger) { other in
                    try await other.execute("""
                        INSERT INTO app.learning_facts_queue (actor_key) VALUES (\("mbox:mailto:queued-\(a.canary)@probe.invalid"))
                        """)
                    try await other.execute("INSERT INTO app.rollup_queue (day) VALUES (current_date)")
                }
                var checks: [IsolationCheck] = []
                for table in tables {
                    let count = try await connection.query(PostgresQuery(unsafeSQL: "SELECT count(*) FROM \(table) t WHERE \(a.rowMatch(in: table))"))
                        .collect().first?.decode(Int.self) ?? 0
                    checks.append(IsolationCheck(
                        area: .control, attempt: "A's canary row in \(table)", credential: "tenant role in A's signed scope", status: "\(count) rows",
                        outcome: count > 0 ? .passed : .error,
                        detail: count > 0 ? "the probe's data is there to be found"
                            : "the probe planted nothing here, so reading it as B proves nothing: IsolationProbe must plant a row in this table"))
                }
                for table in readable {
                    checks.append(await readWhole(table, as: .tenant, b: probe.b, scan: scan, learnerColumns: [], victim: a))
                }
                return checks
            }
        } catch {
            checks.append(IsolationCheck(area: .control, attempt: "hold A's derivation lock and read A's tables", credential: "tenant role in A's signed scope",
                                         status: error.sqlStateOrName, outcome: .error, detail: Self.message(error)))
        }
        for table in readable {
            checks.append(await readWhole(table, as: .platform, b: probe.b, scan: scan, learnerColumns: learnerColumns[table] ?? [], victim: a))
        }
        for role in [Role.login, .tenantLogin] {
            for table in readable {
                checks.append(await readWhole(table, as: role, b: probe.b, scan: scan, learnerColumns: [], victim: a))
            }
        }
        checks += await pooledConnection(probe, tables: readable)
        return checks
    }

    /// Columns that identify learners, per table: the platform may not read a row of A in such a table.
    func learnerColumns() async throws -> [String: [String]] {
        var columns: [String: [String]] = [:]
        for try await (table, column) in try await admin.owner.query("""
            SELECT format('%I.%I', n.nspname, c.relname), a.attname::text
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_attribute a ON a.attrelid = c.oid
            WHERE n.nspname = 'app' AND NOT a.attisdropped AND a.attnum > 0
              AND a.attname IN ('learner_hash', 'learner_key', 'actor_key', 'actor', 'actor_name', 'statement')
            """, logger: logger).decode((String, String).self) {
            columns[table, default: []].append(column)
        }
        return columns
    }

    /// Judges what a pooled connection showed after A's transaction: a finding when it shows anything of A.
    static func leftoverChecks(_ results: [(String, String)], credential: String, scan: LeakScan, leaked: String,
                               clean: (String, String) -> String) -> [IsolationCheck] {
        results.map { attempt, text in
            let leaks = scan.found(in: text)
            return IsolationCheck(area: .database, attempt: attempt, credential: credential, status: "ok",
                                  outcome: leaks.isEmpty ? .passed : .finding,
                                  detail: leaks.isEmpty ? clean(attempt, text) : "\(leaked) \(leaks.joined(separator: " and "))")
        }
    }

    /// Reads all of `table` as `role`: nothing of A may come back (the platform and the login role may see
    /// A's tenant id, never its canary or, for the platform, a learner-level row of A).
    func readWhole(_ table: String, as role: Role, b: IsolationProbe.Member, scan: LeakScan, learnerColumns: [String],
                   victim: IsolationProbe.Member) async -> IsolationCheck {
        let victimRows = table == "app.tenants" ? "t.id = '\(victim.tenant.id)'" : "t.tenant_id = '\(victim.tenant.id)'"
        let probe = """
            SELECT count(*)::text || ' rows, ' || count(*) FILTER (WHERE \(victimRows))::text || ' of A' AS summary,
                   coalesce(string_agg(row_to_json(t)::text, E'\\n'), '') AS rows
            FROM \(table) t
            """
        let setup = role == .tenantLogin ? ["SELECT set_config('role', 'tenantscope_tenant', true)"] : []
        let attempt = role == .tenantLogin ? "read all of \(table) as the tenant role without a context" : "read all of \(table)"
        let result = await execute(setup: setup, probe: .raw(probe, columns: 2), as: role, b: b)
        switch result {
        case .failure(let error):
            let state = error.probeSQLState ?? ""
            if state == "42501", role != .tenant {
                return IsolationCheck(area: .database, attempt: attempt, credential: role.label, status: state, outcome: .refused,
                                      detail: "no privilege on the table")
            }
            return IsolationCheck(area: .database, attempt: attempt, credential: role.label, status: error.sqlStateOrName, outcome: .error,
                                  detail: "unexpected failure: \(Self.message(error))")
        case .success(let text):
            let summary = text.split(separator: "\n", maxSplits: 1).first.map(String.init) ?? ""
            let leaks = scan.found(in: text).filter { !Self.mayShow(role).contains($0) }
            if !leaks.isEmpty {
                return IsolationCheck(area: .database, attempt: attempt, credential: role.label, status: "ok", outcome: .finding,
                                      detail: "\(summary); the rows show \(leaks.joined(separator: " and "))")
            }
            if role != .platform, !summary.hasSuffix(" 0 of A") {
                return IsolationCheck(area: .database, attempt: attempt, credential: role.label, status: "ok", outcome: .finding,
                                      detail: "\(summary): rows of A are visible")
            }
            if role == .platform, !learnerColumns.isEmpty, !summary.hasSuffix(" 0 of A") {
                return IsolationCheck(area: .database, attempt: attempt, credential: role.label, status: "ok", outcome: .finding,
                                      detail: "\(summary): the platform reads learner-level rows (\(learnerColumns.joined(separator: ", ")))")
            }
            return IsolationCheck(area: .database, attempt: attempt, credential: role.label, status: "ok", outcome: .passed,
                                  detail: role == .platform ? "\(summary); aggregates only, no canary" : "\(summary); nothing of A")
        }
    }

    /// What a pooled connection carries from one transaction into the next: an earlier committed context
    /// (`current_setting` reads '' instead of NULL), a session-level `SET` of A's context, and the last
    /// value of a sequence A used. Each runs on one connection of the tenant login, as the pool hands it on.
    func pooledConnection(_ probe: IsolationProbe, tables: [String]) async -> [IsolationCheck] {
        let a = probe.a, b = probe.b
        let scan = Self.scan(a)
        let sessions = admin.runtime.sessions
        var checks: [IsolationCheck] = []
        let credential = "tenant login role, one pooled connection"

        // current_setting without a context after a committed SET LOCAL.
        do {
            let results = try await OneShotConnection.with(admin.runtime.tenantEndpoint, logger: logger) { connection in
                _ = try await sessions.run(.tenant(a.scope), on: connection, access: .readOnly, statementTimeout: nil, logger: logger) { scoped in
                    try await scoped.query("SELECT count(*) FROM app.statements")
                }
                var results: [(String, String)] = []
                let leftover = try await connection.query("SELECT coalesce(current_setting('app.tenant_ctx', true), '<null>')", logger: logger)
                    .collect().first?.decode(String.self) ?? ""
                results.append(("current_setting('app.tenant_ctx', true) after A's transaction committed",
                                leftover.isEmpty ? "''" : leftover))
                for table in tables {
                    try await connection.query("BEGIN", logger: logger)
                    try await connection.query("SELECT set_config('role', 'tenantscope_tenant', true)", logger: logger)
                    let text = try await Self.text(of: .raw("SELECT coalesce(string_agg(row_to_json(t)::text, E'\\n'), '') FROM \(table) t", columns: 1)) {
                        try await connection.query(PostgresQuery(unsafeSQL: $0), logger: logger)
                    }
                    try await connection.query("ROLLBACK", logger: logger)
                    results.append(("read all of \(table) as the tenant role, after A's transaction, without a context", text))
                }
                return results
            }
            checks += Self.leftoverChecks(results, credential: credential, scan: scan, leaked: "shows") { attempt, text in
                attempt.hasPrefix("current_setting") ? "reads \(text): the policy's nullif(…, '') fails closed" : "nothing of A"
            }
        } catch {
            checks.append(IsolationCheck(area: .database, attempt: "current_setting without a context after a committed SET LOCAL", credential: credential,
                                         status: error.sqlStateOrName, outcome: .error, detail: Self.message(error)))
        }

        // A session-level SET of A's own context, committed: the next transactions (B's, the platform's) must not inherit it.
        do {
            let results = try await OneShotConnection.with(admin.runtime.tenantEndpoint, logger: logger) { connection in
                try await sessions.run(.tenant(a.scope), on: connection, access: .readOnly, statementTimeout: nil, logger: logger) { scoped in
                    let context = try await scoped.query("SELECT current_setting('app.tenant_ctx')").collect().first?.decode(String.self) ?? ""
                    try await scoped.execute(PostgresQuery(unsafeSQL: "SET app.tenant_ctx = \(Self.literal(context))"))
                }
                var results: [(String, String)] = []
                for table in tables {
                    let text = try await sessions.run(.tenant(b.scope), on: connection, access: .readOnly, statementTimeout: nil, logger: logger) { scoped in
                        try await Self.text(of: .raw("SELECT coalesce(string_agg(row_to_json(t)::text, E'\\n'), '') FROM \(table) t", columns: 1)) {
                            try await scoped.query(PostgresQuery(unsafeSQL: $0))
                        }
                    }
                    results.append(("read all of \(table) in B's scope after A's session-level SET app.tenant_ctx", text))
                }
                return results
            }
            checks += Self.leftoverChecks(results, credential: credential, scan: scan, leaked: "the leftover leaked: shows") { _, _ in
                "the next transaction's SET LOCAL masks the leftover: nothing of A"
            }
        } catch {
            checks.append(IsolationCheck(area: .database, attempt: "session-level SET app.tenant_ctx left on a pooled connection", credential: credential,
                                         status: error.sqlStateOrName, outcome: .error, detail: Self.message(error)))
        }

        // lastval/currval of a sequence A just used on the same connection.
        do {
            let sequence = try await admin.owner.query(
                "SELECT pg_get_serial_sequence('app.learning_facts_queue', 'seq')", logger: logger).collect().first?.decode(String?.self) ?? nil
            let outcome = try await OneShotConnection.with(admin.runtime.tenantEndpoint, logger: logger) { connection in
                let value = try await sessions.run(.tenant(a.scope), on: connection, access: .readWrite, statementTimeout: nil, logger: logger) { scoped in
                    try await scoped.query("""
                        INSERT INTO app.learning_facts_queue (actor_key) VALUES (\("mbox:mailto:queued-\(a.canary)-2@probe.invalid")) RETURNING seq
                        """).collect().first?.decode(Int64.self) ?? -1
                }
                var results: [(String, Role, Result<String, any Error>)] = []
                var probes = ["SELECT lastval()"]
                if let sequence { probes.append("SELECT currval(\(Self.literal(sequence)))") }
                // Only B's: platform transactions never run on the tenant login's connections (decision 28).
                for (role, scope) in [(Role.tenant, DataScope.tenant(b.scope))] {
                    for sql in probes {
                        do {
                            let text = try await sessions.run(scope, on: connection, access: .readOnly, statementTimeout: nil, logger: logger) { scoped in
                                try await Self.text(of: .raw("SELECT (\(sql.dropFirst(7)))::text", columns: 1)) { try await scoped.query(PostgresQuery(unsafeSQL: $0)) }
                            }
                            results.append((sql, role, .success(text)))
                        } catch {
                            results.append((sql, role, .failure(error)))
                        }
                    }
                }
                return (value, results)
            }
            for (sql, role, result) in outcome.1 {
                let attempt = "\(sql) after A drew \(outcome.0) from a sequence on this connection"
                switch result {
                case .failure(let error) where ["42501", "55000"].contains(error.probeSQLState ?? ""):
                    checks.append(IsolationCheck(area: .database, attempt: attempt, credential: role.label + " (same pooled connection)",
                                                 status: error.probeSQLState ?? "", outcome: .refused, detail: Self.message(error)))
                case .failure(let error):
                    checks.append(IsolationCheck(area: .database, attempt: attempt, credential: role.label + " (same pooled connection)",
                                                 status: error.sqlStateOrName, outcome: .error, detail: "unexpected failure: \(Self.message(error))"))
                case .success(let text):
                    let shows = text.split(separator: "\n").contains { $0 == "\(outcome.0)" }
                    checks.append(IsolationCheck(area: .database, attempt: attempt, credential: role.label + " (same pooled connection)", status: "ok",
                                                 outcome: shows ? .finding : .passed,
                                                 detail: shows ? "reads the value A's transaction generated" : "returned \(text), not A's value"))
                }
            }
        } catch {
            checks.append(IsolationCheck(area: .database, attempt: "lastval/currval on a pooled connection", credential: credential,
                                         status: error.sqlStateOrName, outcome: .error, detail: Self.message(error)))
        }
        return checks
    }

    // MARK: - Escapes

    enum Expectation: Sendable {
        /// Must fail with one of these SQLSTATEs; running at all is a finding.
        case refused(Set<String>)
        /// May fail with one of these, or run and show nothing of A.
        case refusedOrNothing(Set<String>)
        /// Must run and show nothing of A.
        case nothing
        /// Runs and shows whole-table volumes: accepted and documented (docs/security.md).
        case volumes
    }

    enum Probe: Sendable {
        /// A SELECT whose rows are turned into JSON text.
        case rows(String)
        /// A statement whose first `columns` columns are text, read as they come (EXPLAIN, summaries).
        case raw(String, columns: Int)
    }

    struct Attempt: Sendable {
        var name: String
        var setup: [String] = []
        var probe: Probe?
        var expect: Expectation
        var roles: Set<Role> = Set(Role.allCases)
        /// Replaces the expectation for some roles.
        var expectFor: [Role: Expectation] = [:]
    }

    /// The escapes of docs/security.md, each as the tenant role in B's scope, the platform role and the
    /// server's login role (where it means something for that role).
    public func escapes(_ probe: IsolationProbe) async -> [IsolationCheck] {
        let a = probe.a, b = probe.b
        let facts: (owner: String, bContext: String, sequences: [String], privateTables: [String], tables: [String])
        do {
            let owner = try await admin.owner.query("SELECT current_user::text", logger: logger).collect().first?.decode(String.self) ?? "tenantscope"
            let bContext = try await admin.runtime.sessions.run(b.scope, logger: logger) { connection in
                try await connection.query("SELECT current_setting('app.tenant_ctx')").collect().first?.decode(String.self) ?? ""
            }
            var sequences: [String] = []
            for try await name in try await admin.owner.query("""
                SELECT format('%I.%I', schemaname, sequencename) FROM pg_sequences WHERE schemaname IN ('app', 'app_private') ORDER BY 1
                """, logger: logger).decode(String.self) { sequences.append(name) }
            var privateTables: [String] = []
            for try await name in try await admin.owner.query("""
                SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = 'app_private' AND c.relkind IN ('r', 'p', 'v', 'm') ORDER BY 1
                """, logger: logger).decode(String.self) { privateTables.append(name) }
            let tables = try await IsolationProbe.tenantTables(in: admin, logger: logger)
            facts = (owner, bContext, sequences, privateTables, tables)
        } catch {
            return [IsolationCheck(area: .database, attempt: "prepare the escape attempts", credential: "owner", status: error.sqlStateOrName,
                                   outcome: .error, detail: Self.message(error))]
        }
        let attempts = Self.attempts(victim: a, owner: facts.owner, attackerContext: facts.bContext, sequences: facts.sequences,
                                     privateTables: facts.privateTables, tenantTables: facts.tables)
        let scan = Self.scan(a)
        var checks: [IsolationCheck] = []
        for attempt in attempts {
            for role in Role.allCases where attempt.roles.contains(role) {
                let result = await execute(setup: attempt.setup, probe: attempt.probe, as: role, b: b)
                checks.append(Self.judge(attempt, role: role, result: result, scan: scan))
            }
        }
        return checks
    }

    static func attempts(victim a: IsolationProbe.Member, owner: String, attackerContext: String, sequences: [String],
                         privateTables: [String], tenantTables: [String]) -> [Attempt] {
        let victimID = a.tenant.id.description
        let expiry = Int(Date().timeIntervalSince1970) + 300
        let contextParts = attackerContext.split(separator: ".")
        var forged: [(String, String)] = [
            ("A's bare tenant id", victimID),
            ("A's id with a made-up MAC", "\(victimID).\(expiry).\(String(repeating: "0", count: 64))"),
        ]
        if contextParts.count == 3 {
            forged.append(("B's signed context relabelled for A", "\(victimID).\(contextParts[1]).\(contextParts[2])"))
        }
        let readStatements = Probe.rows("SELECT statement::text FROM app.statements")
        let denied: Set<String> = ["42501"]
        var attempts: [Attempt] = []

        // The context.
        attempts.append(Attempt(
            name: "set_config('app.tenant_ctx', A's id, true) inside a SELECT (LATERAL subquery)",
            probe: .rows("""
                SELECT x.statement::text FROM (SELECT set_config('app.tenant_ctx', \(literal(victimID)), true)) s,
                LATERAL (SELECT statement FROM app.statements OFFSET 0) x
                """),
            expect: .refused(denied), expectFor: [.login: .refused(["42501", "P0001"])]))
        for (label, context) in forged {
            attempts.append(Attempt(
                name: "set_config('app.tenant_ctx', \(label), true), then read app.statements as the tenant role",
                setup: ["SELECT set_config('app.tenant_ctx', \(literal(context)), true)"],
                probe: readStatements, expect: .refused(denied), expectFor: [.login: .refused(["P0001"])]))
            attempts.append(Attempt(
                name: "SET app.tenant_ctx = \(label) (the SET command needs no function privilege), then read app.statements",
                setup: ["SET app.tenant_ctx = \(literal(context))"],
                probe: readStatements, expect: .refused(["42501", "P0001"]), expectFor: [.tenant: .refused(["P0001"])]))
        }
        // The logins have no SELECT of their own. The tenant login also tries after becoming the tenant
        // role, as the server does, so that what is tested is the forged context (the policy's P0001).
        attempts = attempts.flatMap { attempt -> [Attempt] in
            guard attempt.name.contains(", then read app.statements") else { return [attempt] }
            var asTenant = attempt
            asTenant.name += " (tenant login, then SET LOCAL ROLE tenantscope_tenant)"
            asTenant.roles = [.tenantLogin]
            // The context first and then the role, in the server's order: the tenant role may not call set_config.
            asTenant.setup = attempt.setup + ["SET LOCAL ROLE tenantscope_tenant"]
            asTenant.expectFor[.tenantLogin] = .refused(["P0001"])
            var others = attempt
            others.expectFor[.login] = .refused(denied)
            others.expectFor[.tenantLogin] = .refused(denied)
            return [others, asTenant]
        }
        attempts.append(Attempt(name: "current_setting('app.tenant_ctx', true)",
                                probe: .rows("SELECT current_setting('app.tenant_ctx', true) AS context"), expect: .nothing))

        // Roles.
        attempts.append(Attempt(name: "set_config('role', the owner \(owner), true)",
                                probe: .rows("SELECT set_config('role', \(literal(owner)), true)"), expect: .refused(denied)))
        attempts.append(Attempt(name: "set_config('role', 'none', true) back to the login role, then read app.statements",
                                setup: ["SELECT set_config('role', 'none', true)"], probe: readStatements,
                                expect: .refused(denied)))
        attempts.append(Attempt(name: "SET ROLE \(owner) (the owner)", setup: ["SET ROLE \(identifier(owner))"], expect: .refused(denied)))
        attempts.append(Attempt(name: "SET ROLE tenantscope_aggregates", setup: ["SET ROLE tenantscope_aggregates"], expect: .refused(denied)))
        // PostgreSQL checks SET ROLE against the session user: each surface's transactions run on a login
        // that is a member of that surface's role only (architecture decision 28).
        attempts.append(Attempt(name: "SET ROLE tenantscope_platform, then read the platform's learner activity",
                                setup: ["SET ROLE tenantscope_platform"],
                                probe: .rows("SELECT row_to_json(a)::text FROM app.platform_learner_activity(30) a"),
                                expect: .refused(denied), roles: [.tenant, .tenantLogin]))
        // The cross-tenant aggregates are the platform's and the server login's; in a tenant transaction they would
        // tell every tenant's learner counts (architecture decision 89).
        attempts.append(Attempt(name: "app.platform_window_learners(30) (every tenant's learner counts)",
                                probe: .rows("SELECT row_to_json(w)::text FROM app.platform_window_learners(30) w"),
                                expect: .refused(denied), roles: [.tenant, .tenantLogin]))
        attempts.append(Attempt(name: "app.rollup_watermarks() (every tenant's id)",
                                probe: .rows("SELECT row_to_json(w)::text FROM app.rollup_watermarks() w"),
                                expect: .refused(denied), roles: [.tenant, .tenantLogin, .platform]))
        attempts.append(Attempt(name: "SET ROLE tenantscope_tenant, then read app.statements",
                                setup: ["SET ROLE tenantscope_tenant"], probe: readStatements, expect: .refused(denied),
                                roles: [.platform, .login]))
        attempts.append(Attempt(name: "RESET ROLE, then app.runtime_keys() (the key that signs tenant contexts)",
                                setup: ["RESET ROLE"], probe: .rows("SELECT * FROM app.runtime_keys()"), expect: .refused(denied),
                                roles: [.tenant, .tenantLogin]))
        attempts.append(Attempt(name: "SET SESSION AUTHORIZATION \(owner)", setup: ["SET SESSION AUTHORIZATION \(identifier(owner))"],
                                expect: .refused(denied)))
        attempts.append(Attempt(name: "RESET ROLE (back to the login role), then read app.statements", setup: ["RESET ROLE"],
                                probe: readStatements, expect: .refusedOrNothing(denied), roles: [.tenant, .platform]))
        attempts.append(Attempt(name: "RESET ROLE, become the platform role, then read app.learners",
                                setup: ["RESET ROLE", "SELECT set_config('role', 'tenantscope_platform', true)"],
                                probe: .rows("SELECT row_to_json(l)::text FROM app.learners l"), expect: .refused(denied), roles: [.tenant]))

        // Side channels.
        attempts.append(Attempt(name: "pg_notify('tenantscope', …) (a spoofed message to listeners)",
                                probe: .rows("SELECT pg_notify('tenantscope', 'spoofed by verify-isolation')"), expect: .refused(denied)))
        attempts.append(Attempt(name: "pg_advisory_lock (survives commit on a pooled connection)",
                                probe: .rows("SELECT pg_advisory_lock(7263)"), expect: .refused(denied)))
        attempts.append(Attempt(name: "pg_try_advisory_xact_lock", probe: .rows("SELECT pg_try_advisory_xact_lock(7263)"), expect: .refused(denied)))
        attempts.append(Attempt(name: "lastval()", probe: .rows("SELECT lastval()"), expect: .refused(["42501", "55000"])))
        for sequence in sequences {
            attempts.append(Attempt(name: "nextval('\(sequence)')", probe: .rows("SELECT nextval(\(literal(sequence)))"), expect: .refused(denied)))
            attempts.append(Attempt(name: "currval('\(sequence)')", probe: .rows("SELECT currval(\(literal(sequence)))"),
                                    expect: .refused(["42501", "55000"])))
            attempts.append(Attempt(name: "SELECT last_value FROM \(sequence)", probe: .rows("SELECT last_value FROM \(sequence)"), expect: .refused(denied)))
        }
        attempts.append(Attempt(name: "dblink_connect (dblink must not be installed)",
                                probe: .rows("SELECT dblink_connect('dbname=postgres')"), expect: .refused(["42883"])))
        attempts.append(Attempt(name: "CREATE EXTENSION dblink", setup: ["CREATE EXTENSION dblink"],
                                expect: .refused(["42501", "0A000", "58P01", "42710"])))

        // Secrets.
        for table in privateTables {
            attempts.append(Attempt(name: "read \(table)", probe: .rows("SELECT row_to_json(t)::text FROM \(table) t"), expect: .refused(denied)))
        }
        attempts.append(Attempt(name: "app.learner_key(A's learner address) (a keyed hash, per tenant)",
                                probe: .rows("SELECT app.learner_key(\(literal("mbox:" + a.learnerMbox)))"),
                                expect: .nothing, expectFor: [.platform: .refused(denied), .login: .refused(denied), .tenantLogin: .refused(denied)]))
        attempts.append(Attempt(name: "app.tenant_directory() (the login role's directory)",
                                probe: .rows("SELECT * FROM app.tenant_directory()"),
                                expect: .refused(denied), expectFor: [.login: .nothing]))

        // Switching the protection off.
        for table in tenantTables {
            attempts.append(Attempt(name: "ALTER TABLE \(table) NO FORCE ROW LEVEL SECURITY",
                                    setup: ["ALTER TABLE \(table) NO FORCE ROW LEVEL SECURITY"], expect: .refused(denied)))
        }
        attempts.append(Attempt(name: "ALTER TABLE app.statements DISABLE ROW LEVEL SECURITY",
                                setup: ["ALTER TABLE app.statements DISABLE ROW LEVEL SECURITY"], expect: .refused(denied)))
        attempts.append(Attempt(name: "DROP POLICY tenant_isolation ON app.statements",
                                setup: ["DROP POLICY tenant_isolation ON app.statements"], expect: .refused(denied)))
        attempts.append(Attempt(name: "CREATE POLICY … USING (true) ON app.statements",
                                setup: ["CREATE POLICY verify_isolation_probe ON app.statements USING (true)"], expect: .refused(denied)))
        attempts.append(Attempt(name: "CREATE VIEW app.… over app.statements (owner's rights)",
                                setup: ["CREATE VIEW app.verify_isolation_probe AS SELECT * FROM app.statements"], expect: .refused(denied)))
        attempts.append(Attempt(name: "CREATE TEMP VIEW over app.statements, then read it",
                                setup: ["CREATE TEMP VIEW verify_isolation_probe AS SELECT * FROM app.statements"],
                                probe: .rows("SELECT statement::text FROM verify_isolation_probe"), expect: .refusedOrNothing(denied)))

        // Volumes: visible, accepted and documented.
        attempts.append(Attempt(name: "pg_class.reltuples of app.statements (whole-table volume)",
                                probe: .rows("SELECT reltuples::bigint AS reltuples FROM pg_class WHERE oid = 'app.statements'::regclass"),
                                expect: .volumes))
        attempts.append(Attempt(name: "pg_stat_user_tables for app.statements (whole-table volume)",
                                probe: .rows("SELECT n_live_tup, n_tup_ins FROM pg_stat_user_tables WHERE relid = 'app.statements'::regclass"),
                                expect: .volumes))
        attempts.append(Attempt(name: "pg_relation_size('app.statements') (whole-table volume)",
                                probe: .rows("SELECT pg_relation_size('app.statements') AS bytes"), expect: .volumes))
        attempts.append(Attempt(name: "EXPLAIN ANALYZE over app.statements (rows removed by the policy: a volume)",
                                probe: .raw("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) SELECT * FROM app.statements", columns: 1),
                                expect: .volumes, expectFor: [.platform: .refused(denied), .login: .refused(denied), .tenantLogin: .refused(denied)]))
        // The tenant login has no USAGE on schema app of its own: naming a table there is refused outright.
        return attempts.map { attempt in
            guard case .volumes = attempt.expect, attempt.expectFor[.tenantLogin] == nil else { return attempt }
            var attempt = attempt
            attempt.expectFor[.tenantLogin] = .refused(denied)
            return attempt
        }
    }

    static func judge(_ attempt: Attempt, role: Role, result: Result<String, any Error>, scan: LeakScan) -> IsolationCheck {
        let expectation = attempt.expectFor[role] ?? attempt.expect
        func check(_ status: String, _ outcome: IsolationCheck.Outcome, _ detail: String) -> IsolationCheck {
            IsolationCheck(area: .database, attempt: attempt.name, credential: role.label, status: status, outcome: outcome, detail: detail)
        }
        switch result {
        case .failure(let error):
            let state = error.probeSQLState ?? ""
            switch expectation {
            case .refused(let states), .refusedOrNothing(let states):
                if states.contains(state) { return check(state, .refused, message(error)) }
                return check(error.sqlStateOrName, .error, "failed with an unexpected SQLSTATE (expected \(states.sorted().joined(separator: " or "))): \(message(error))")
            case .nothing, .volumes:
                return check(error.sqlStateOrName, .error, "expected to run: \(message(error))")
            }
        case .success(let text):
            let leaks = scan.found(in: text).filter { !mayShow(role).contains($0) }
            if !leaks.isEmpty {
                return check("ok", .finding, "ran and shows \(leaks.joined(separator: " and "))")
            }
            switch expectation {
            case .refused:
                return check("ok", .finding, "was not refused")
            case .refusedOrNothing, .nothing:
                return check("ok", .passed, "ran; nothing of A")
            case .volumes:
                let shown = text.replacingOccurrences(of: "\n", with: " ").prefix(160)
                return check("ok", .accepted, "whole-table volume, no row and no tenant's value (accepted, docs/security.md): \(shown)")
            }
        }
    }

    // MARK: - Running an attempt

    struct RolledBack: Error {
        let text: String
    }

    /// Runs `setup` then `probe` as `role` (B's scope for the tenant role) in a transaction that is always
    /// rolled back; returns the probe's text, or the error.
    func execute(setup: [String], probe: Probe?, as role: Role, b: IsolationProbe.Member) async -> Result<String, any Error> {
        switch role {
        case .tenant, .platform:
            let scope: DataScope = role == .tenant ? .tenant(b.scope) : .platform(ScopePolicy.platformCommand(operator: "verify-isolation"))
            do {
                _ = try await admin.runtime.sessions.run(scope, access: .readWrite, statementTimeout: .seconds(15), logger: logger) { connection -> Int in
                    for statement in setup { try await connection.execute(PostgresQuery(unsafeSQL: statement)) }
                    var text = ""
                    if let probe {
                        text = try await Self.text(of: probe) { try await connection.query(PostgresQuery(unsafeSQL: $0)) }
                    }
                    throw RolledBack(text: text)
                }
                return .failure(TenantScopeError.environment("the attempt's transaction committed"))
            } catch let rolledBack as RolledBack {
                return .success(rolledBack.text)
            } catch {
                return .failure(error)
            }
        case .login, .tenantLogin:
            do {
                let text = try await OneShotConnection.with(role.endpoint(of: admin.runtime), logger: logger) { connection in
                    try await connection.query("BEGIN", logger: logger)
                    try await connection.query("SET LOCAL statement_timeout = 15000", logger: logger)
                    for statement in setup { _ = try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger).collect() }
                    var text = ""
                    if let probe {
                        text = try await Self.text(of: probe) { try await connection.query(PostgresQuery(unsafeSQL: $0), logger: logger) }
                    }
                    try await connection.query("ROLLBACK", logger: logger)
                    return text
                }
                return .success(text)
            } catch {
                return .failure(error)
            }
        }
    }

    static func text(of probe: Probe, _ query: (String) async throws -> PostgresRowSequence) async throws -> String {
        switch probe {
        case .rows(let sql):
            let rows = try await query("SELECT coalesce(string_agg(row_to_json(q)::text, E'\\n'), '') FROM (\(sql)) q").collect()
            return try rows.first?.decode(String.self) ?? ""
        case .raw(let sql, let columns):
            var lines: [String] = []
            for row in try await query(sql).collect() {
                let cells = row.makeRandomAccess()
                lines.append(try (0..<min(columns, cells.count)).map { try cells[$0].decode(String?.self) ?? "" }.joined(separator: "\n"))
            }
            return lines.joined(separator: "\n")
        }
    }

    static func literal(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
    }

    static func identifier(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// The server's message of a PostgreSQL error, or the error's description.
    static func message(_ error: any Error) -> String {
        if let error = error as? PSQLError {
            return error.serverInfo?[.message] ?? "\(error.code)"
        }
        return "\(error)"
    }
}
