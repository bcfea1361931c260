import Foundation
import Logging
import PostgresNIO
import TenantScopeCore

/// Reviewed custom reports (migration 21), always in the owning tenant's scope: each operation is one statement, run as
/// one call of its session function (architecture decision 62), on the primary so a tenant sees its own writes.
///
/// The lifecycle is draft → previewed → approved. Saving a text again puts the report back to draft;
/// approving needs a preview of exactly the current text (its SHA-256), which a CHECK constraint enforces too.
public struct CustomReportStore: Sendable {
    let sessions: ScopedDatabase

    public init(database: Database) {
        self.sessions = database.sessions
    }

    public enum State: String, Sendable, Codable {
        case draft, previewed, approved
    }

    public struct Report: Sendable, Hashable {
        public var name: String
        public var title: String
        public var sql: String
        public var sqlSHA256: String
        public var state: State
        public var createdBy: String
        public var approvedBy: String?
        /// Shown on the tenant's dashboard as a panel (while approved): a tenant admin's choice.
        public var dashboardPanel: Bool = false
    }

    static func validate(name: String, title: String) throws {
        guard name.range(of: #"^[a-z][a-z0-9_]{0,62}\z"#, options: .regularExpression) != nil else {
            throw TenantScopeError.invalidInput("a custom report name is 1 to 63 lower-case letters, digits or _, starting with a letter")
        }
        // Counted as PostgreSQL counts (code points); text cannot hold U+0000.
        guard (1...200).contains(title.unicodeScalars.count), !title.unicodeScalars.contains("\u{0}") else {
            throw TenantScopeError.invalidInput("a custom report title has 1 to 200 characters and no NUL")
        }
    }

    /// Saves (or replaces) a draft; the scope's actor is its author.
    public func saveDraft(in scope: TenantScope, name: String, title: String, sql: String, logger: Logger) async throws -> Report {
        try Self.validate(name: name, title: title)
        let hash = SQLGuard.sha256(sql)
        let rows = try await sessions.writeRows(scope, BoundStatement(sql: """
            INSERT INTO app.custom_reports (name, title, sql, sql_sha256, created_by) VALUES (($1::text), ($2::text), ($3::text), ($4::text), ($5::text))
            ON CONFLICT (tenant_id, name) DO UPDATE SET title = EXCLUDED.title, sql = EXCLUDED.sql, sql_sha256 = EXCLUDED.sql_sha256,
              state = 'draft', created_by = EXCLUDED.created_by, created_at = now(), previewed_by = NULL, previewed_at = NULL,
              previewed_sha256 = NULL, approved_by = NULL, approved_at = NULL
            RETURNING dashboard_panel
            """, values: [.text(name), .text(title), .text(sql), .text(hash), .text(scope.actor)]), columnTypes: ["boolean"], logger: logger)
        let panel = try rows.first?.decode(Bool.self) ?? false
        return Report(name: name, title: title, sql: sql, sqlSHA256: hash, state: .draft, createdBy: scope.actor, approvedBy: nil,
                      dashboardPanel: panel)
    }

    public func reports(in scope: TenantScope, logger: Logger) async throws -> [Report] {
        try await reports(in: scope, pinnedOnly: false, logger: logger)
    }

    /// The approved reports pinned to the dashboard, by name.
    public func dashboardPanels(in scope: TenantScope, logger: Logger) async throws -> [Report] {
        try await reports(in: scope, pinnedOnly: true, logger: logger)
    }

    private func reports(in scope: TenantScope, pinnedOnly: Bool, logger: Logger) async throws -> [Report] {
        try await sessions.readRows(scope, BoundStatement(sql: """
            SELECT name, title, sql, sql_sha256, state, created_by, approved_by, dashboard_panel FROM app.custom_reports
            WHERE NOT ($1::boolean) OR (dashboard_panel AND state = 'approved')
            ORDER BY name
            """, values: [.boolean(pinnedOnly)]), columnTypes: ["text", "text", "text", "text", "text", "text", "text", "boolean"],
            replicas: false, logger: logger).rows.map { row in
            let (name, title, sql, hash, state, by, approver, panel) = try row.decode((String, String, String, String, String, String, String?, Bool).self)
            return Report(name: name, title: title, sql: sql, sqlSHA256: hash, state: State(rawValue: state) ?? .draft,
                          createdBy: by, approvedBy: approver, dashboardPanel: panel)
        }
    }

    public func report(in scope: TenantScope, named name: String, logger: Logger) async throws -> Report? {
        try await reports(in: scope, logger: logger).first { $0.name == name }
    }

    /// Records a preview of the text whose hash is `sha256` (the latest preview's admin and time); false when the report
    /// changed since. A report another preview of the same text marked meanwhile is previewed again, not "changed": of
    /// concurrent previews of one draft each found the other's mark and answered 409 (the UPDATE re-checks a row another
    /// transaction changed against its new version, so this holds however they interleave).
    public func markPreviewed(in scope: TenantScope, name: String, sha256: String, logger: Logger) async throws -> Bool {
        try await changed(scope, BoundStatement(sql: """
            UPDATE app.custom_reports SET state = 'previewed', previewed_by = ($1::text), previewed_at = now(), previewed_sha256 = ($2::text)
            WHERE name = ($3::text) AND sql_sha256 = ($2::text) AND (state = 'draft' OR (state = 'previewed' AND previewed_sha256 = ($2::text)))
            RETURNING name
            """, values: [.text(scope.actor), .text(sha256), .text(name)]), logger: logger)
    }

    /// Approves a previewed report; false unless it is previewed with its current text.
    public func approve(in scope: TenantScope, name: String, logger: Logger) async throws -> Bool {
        try await changed(scope, BoundStatement(sql: """
            UPDATE app.custom_reports SET state = 'approved', approved_by = ($1::text), approved_at = now()
            WHERE name = ($2::text) AND state = 'previewed' AND previewed_sha256 = sql_sha256 RETURNING name
            """, values: [.text(scope.actor), .text(name)]), logger: logger)
    }

    /// Pins an approved report to the tenant's dashboard, or takes any report off it; pinning is false unless the
    /// report is approved. A pinned report that is edited leaves the dashboard until it is approved again.
    public func setDashboardPanel(in scope: TenantScope, name: String, shown: Bool, logger: Logger) async throws -> Bool {
        try await changed(scope, BoundStatement(sql: """
            UPDATE app.custom_reports SET dashboard_panel = ($1::boolean) WHERE name = ($2::text) AND (state = 'approved' OR NOT ($1::boolean))
            RETURNING name
            """, values: [.boolean(shown), .text(name)]), logger: logger)
    }

    /// Whether `update` (one statement returning the name of the report it changed) changed the report.
    private func changed(_ scope: TenantScope, _ update: BoundStatement, logger: Logger) async throws -> Bool {
        try await sessions.writeRows(scope, update, columnTypes: ["text"], logger: logger).count == 1
    }
}
