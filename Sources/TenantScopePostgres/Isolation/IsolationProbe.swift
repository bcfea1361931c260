import Crypto
import Foundation
import Logging
import PostgresNIO
import TenantScopeCore

/// Two short-lived tenants for `tenantscope verify-isolation`: A (the victim) and B (the attacker), each
/// with a random canary planted in a row of every tenant table, an LRS key, a saved view with a shared
/// link, and statements whose learners, courses, enrollments and roll-ups are derived as ingest derives
/// them. Whatever B can reach is then searched for A's canary and A's tenant id.
///
/// The canary is a random UUID that appears nowhere else: not in a slug, a tenant name, an id or anything
/// the checks send, so finding it in an answer can only mean A's data came back. Values that identify
/// A's objects (its slug, view and link ids, statement ids, registration, course IRI) are separate and
/// are what the checks send.
public struct IsolationProbe: Sendable {
    public struct Member: Sendable {
        public let tenant: Tenant
        /// Planted in every tenant table that holds text (see ``IsolationProbe/tablesWithoutText``).
        public let canary: String
        /// The scope the probe's data was written in (`system:isolation-probe-…`, admin).
        public let scope: TenantScope
        public let lrsKey: LRSCredentialSecret
        /// Statement ids, in the order stored: registered, completed, experienced.
        public let statementIDs: [UUID]
        public let registration: UUID
        public let courseIRI: String
        public let learnerMbox: String
        public let featureEventID: UUID
        public let view: SavedViewStore.SavedView
        public let linkID: UUID
        public let linkToken: String

        /// A row of this member in `t`: one that carries the canary, or, in a table without text, its tenant id.
        /// The canary is also looked for in hex, as `row_to_json` prints a `bytea` column (attachment content).
        public func rowMatch(in table: String) -> String {
            IsolationProbe.tablesWithoutText.contains(table)
                ? "(t.tenant_id = '\(tenant.id)')"
                : "(row_to_json(t)::text LIKE '%\(canary)%' OR row_to_json(t)::text LIKE '%\(Hex.encode(Array(canary.utf8)))%')"
        }
    }

    /// Tenant tables whose rows hold only ids, times, counts, keyed learner hashes or the feature key (kept
    /// neutral on purpose: the platform's feature-adoption report lists feature keys across tenants).
    public static let tablesWithoutText: Set<String> = [
        "app.rollup_state", "app.daily_active_learners", "app.daily_learner_activity", "app.learner_active_days",
        "app.daily_feature_usage", "app.rollup_queue", "app.learners_by_last_day",
        "app.monthly_completion_times_all_regions", "app.monthly_completion_times_all_courses", "app.export_removals",
    ]

    /// The feature key of the probe's product event (the same for both tenants).
    public static let featureKey = "probe.isolation"

    /// The victim.
    public let a: Member
    /// The attacker.
    public let b: Member

    /// The tables that hold `tenant_id`, read from the catalog (as the owner) so a new table is covered
    /// automatically.
    public static func tenantTables(in admin: AdminDatabase, logger: Logger) async throws -> [String] {
        var tables: [String] = []
        for try await name in try await admin.owner.query(PostgresQuery(unsafeSQL: tenantTablesQuery), logger: logger).decode(String.self) {
            tables.append(name)
        }
        return tables
    }

    static let tenantTablesQuery = """
        SELECT format('%I.%I', n.nspname, c.relname)
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
        WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'app_private')
        ORDER BY 1
        """

    /// Creates both tenants and plants their data. On failure, removes whatever it created and rethrows.
    public static func create(in admin: AdminDatabase, logger: Logger, progress: @Sendable (String) -> Void = { _ in }) async throws -> IsolationProbe {
        let run = String(UUID().uuidString.prefix(8)).lowercased()
        var created: [Tenant] = []
        do {
            var members: [Member] = []
            for label in ["a", "b"] {
                let slug = try TenantSlug("probe-\(run)-\(label)")
                let tenant = try await admin.tenants.create(
                    slug: slug, name: "Isolation probe \(label.uppercased()) (verify-isolation; delete if left over)", logger: logger)
                created.append(tenant)
                progress("Created probe tenant \(slug) (\(tenant.id))")
                members.append(try await plant(in: tenant, admin: admin, logger: logger))
            }
            return IsolationProbe(a: members[0], b: members[1])
        } catch {
            for tenant in created {
                _ = try? await admin.runtime.tenants.delete(slug: tenant.slug, logger: logger)
            }
            throw error
        }
    }

    /// Deletes both tenants (everything they own goes with them); one check per tenant.
    public func remove(from admin: AdminDatabase, logger: Logger) async -> [IsolationCheck] {
        await Self.remove([a.tenant, b.tenant], from: admin, logger: logger)
    }

    public static func remove(_ tenants: [Tenant], from admin: AdminDatabase, logger: Logger) async -> [IsolationCheck] {
        var checks: [IsolationCheck] = []
        for tenant in tenants {
            do {
                let deleted = try await admin.runtime.tenants.delete(slug: tenant.slug, logger: logger)
                checks.append(IsolationCheck(area: .cleanup, attempt: "delete probe tenant \(tenant.slug)", credential: "server login role",
                                             status: deleted == nil ? "not found" : "ok", outcome: deleted == nil ? .error : .passed,
                                             detail: deleted == nil ? "the probe tenant was already gone" : "deleted with everything it owned"))
            } catch {
                checks.append(IsolationCheck(area: .cleanup, attempt: "delete probe tenant \(tenant.slug)", credential: "server login role",
                                             status: error.sqlStateOrName, outcome: .error,
                                             detail: "could not delete it: remove it with `tenantscope tenant delete \(tenant.slug) --confirm`"))
            }
        }
        return checks
    }

    /// Plants one member's data, through the same stores the server uses where there is one.
    static func plant(in tenant: Tenant, admin: AdminDatabase, logger: Logger) async throws -> Member {
        let database = admin.runtime
        let canary = UUID().uuidString.lowercased()
        let scope = ScopePolicy.maintenance(of: tenant.id, job: "isolation-probe-\(canary)")
        let registration = UUID()
        let courseIRI = "https://probe.invalid/courses/\(UUID().uuidString.lowercased())"
        let learnerMbox = "mailto:learner-\(UUID().uuidString.lowercased())@probe.invalid"
        let statementIDs = [UUID(), UUID(), UUID()]
        let now = Date()

        // Statements through the LRS's own validation and insert: the canary is the learner's name, the
        // course title, the cohort and the region; learners, courses and enrollments are derived from them.
        let verbs = ["registered", "completed", "experienced"]
        let ages: [Double] = [2 * 86_400, 86_400, 3_600]
        var statements: [JSONValue] = (0..<3).map { index in
            [
                "id": .string(statementIDs[index].uuidString.lowercased()),
                "actor": ["objectType": "Agent", "mbox": .string(learnerMbox), "name": .string("learner-\(canary)")],
                "verb": ["id": .string("http://adlnet.gov/expapi/verbs/\(verbs[index])"), "display": ["en-US": .string(verbs[index])]],
                "object": [
                    "objectType": "Activity", "id": .string(courseIRI),
                    "definition": ["type": "http://adlnet.gov/expapi/activities/course", "name": ["en-US": .string("course-\(canary)")]],
                ],
                "context": [
                    "registration": .string(registration.uuidString.lowercased()),
                    "extensions": [
                        "https://tenantscope.dev/xapi/extensions/cohort": .string("cohort-\(canary)"),
                        "https://tenantscope.dev/xapi/extensions/learner-region": .string("region-\(canary)"),
                    ],
                ],
                "timestamp": .string(ISO8601Timestamp.format(now.addingTimeInterval(-ages[index]))),
            ]
        }
        // Attachment content too (the last statement references it by hash): the canary is its bytes.
        let attachmentBytes = Array("attachment-\(canary)".utf8)
        let attachment = AttachmentContent(sha2: Hex.encode(SHA256.hash(data: attachmentBytes)), contentType: "text/plain", bytes: attachmentBytes)
        if case .object(var last) = statements[2] {
            last["attachments"] = [[
                "usageType": "https://probe.invalid/attachments/canary", "display": ["en-US": "canary"], "contentType": "text/plain",
                "length": .number(String(attachmentBytes.count)), "sha2": .string(attachment.sha2),
            ]]
            statements[2] = .object(last)
        }
        let validator = StatementValidator(authority: ["homePage": "https://tenantscope.dev/lrs-keys", "name": "verify-isolation"])
        let prepared = try StatementBatch.parse(Data(JSONValue.array(statements).jsonText.utf8), validator: validator)
        _ = try await database.statements.store(prepared, attachments: [attachment], in: scope, logger: logger)

        let featureEventID = UUID()
        _ = try await database.featureEvents.store(
            [FeatureEvent(id: featureEventID, featureKey: featureKey, actor: "actor-\(canary)", occurredAt: now.addingTimeInterval(-60))],
            in: scope, logger: logger)

        try await database.sessions.run(scope, access: .readWrite, statementTimeout: .seconds(120), logger: logger) { connection in
            // Learners, courses and enrollments, then every roll-up, as the roll-up service would.
            try await connection.execute("SELECT app.derive_queued_learning_facts(10000)")
            try await connection.execute("SELECT app.catch_up_rollups('10 minutes', true)")
        }

        // A State document of the learner in the course, through the LRS's own store: the canary is its id
        // and its content.
        let probeAgentKey = try DocumentQuery.agentKey(#"{"mbox":"\#(learnerMbox)"}"#)
        try await database.documents.write(
            DocumentContent(bytes: Array(#"{"canary":"\#(canary)"}"#.utf8), contentType: "application/json"), mode: .replace,
            to: DocumentAddress(kind: .state, activityID: courseIRI, agentKey: probeAgentKey, registration: registration.uuidString.lowercased()),
            id: "state-\(canary)", preconditions: .init(), in: scope, logger: logger)

        let view = try await database.savedViews.save(in: scope, name: "view-\(canary)", days: 30, course: courseIRI, logger: logger)
        guard let (linkID, linkToken) = try await database.savedViews.share(in: scope, view: view.id, lifetime: .seconds(3_600), logger: logger) else {
            throw TenantScopeError.environment("the probe's saved view vanished before it could be shared")
        }
        // A custom report (a draft) whose title and SQL carry the canary, through its store.
        _ = try await CustomReportStore(database: database).saveDraft(
            in: scope, name: "probe_" + canary.replacingOccurrences(of: "-", with: "_"), title: "report-\(canary)",
            sql: "SELECT 'custom-\(canary)' AS canary", logger: logger)
        // An export job (revoked at once, so no worker runs it) and a weekly export schedule, both requested
        // by a name that carries the canary, through their stores.
        let requester = ExportJobStore.Requester(name: "probe-\(canary)", kind: "operator", role: .admin)
        let exportRequest = ExportRequest(source: .report(name: "active_learners", parameters: [:]), format: .csv, compressed: false)
        if let job = try await database.exportJobs.create(exportRequest, by: requester, in: scope, logger: logger) {
            // Revoking queues its (never written) file for removal: the probe's row of app.export_removals, which the
            // export worker leaves for its removal retry age (ten minutes).
            _ = try await database.exportJobs.revoke(job.id, in: scope, logger: logger)
        }
        let weekday = (Calendar(identifier: .iso8601).component(.weekday, from: now) + 3) % 7 + 1
        _ = try await database.exportSchedules.create(exportRequest, cadence: .weekly, hour: 6, weekday: weekday, by: requester, in: scope,
                                                      logger: logger)
        let lrsKey = try await admin.lrsKeys.create(tenant: tenant.id, label: "verify-isolation probe", logger: logger)
        return Member(tenant: tenant, canary: canary, scope: scope, lrsKey: lrsKey, statementIDs: statementIDs,
                      registration: registration, courseIRI: courseIRI, learnerMbox: learnerMbox, featureEventID: featureEventID,
                      view: view, linkID: linkID, linkToken: linkToken)
    }
}

extension Error {
    /// The SQLSTATE of a PostgreSQL error, or the error's type name, for a report's status column.
    var sqlStateOrName: String {
        probeSQLState ?? String(describing: type(of: self))
    }

    /// The SQLSTATE of a PostgreSQL error (nil for any other error).
    var probeSQLState: String? { (self as? PSQLError)?.serverInfo?[.sqlState] }
}
