import Foundation
import Logging
import PostgresNIO
import TenantScopeCore

/// The append-only, hash-chained audit log (`app.audit_log`).
///
/// Appends go through `app.append_audit`, which the server's login role may execute but tenant and
/// platform roles may not, in a transaction of their own: a refused request is still recorded.
public struct AuditLog: Sendable {
    public struct Entry: Sendable, Hashable {
        public var actor: String
        public var actorKind: String
        public var scopeTenant: TenantID?
        public var action: String
        public var report: String?
        public var parameters: [String: String]
        public var rowCount: Int?
        public var outcome: String

        public init(
            actor: String, actorKind: String, scopeTenant: TenantID?, action: String, report: String? = nil,
            parameters: [String: String] = [:], rowCount: Int? = nil, outcome: String
        ) {
            self.actor = actor
            self.actorKind = actorKind
            self.scopeTenant = scopeTenant
            self.action = action
            self.report = report
            self.parameters = parameters
            self.rowCount = rowCount
            self.outcome = outcome
        }

        public init(principal: Principal, scopeTenant: TenantID?, action: String, report: String? = nil,
                    parameters: [String: String] = [:], rowCount: Int? = nil, outcome: String) {
            self.init(actor: principal.auditName, actorKind: principal.auditKind, scopeTenant: scopeTenant, action: action,
                      report: report, parameters: parameters, rowCount: rowCount, outcome: outcome)
        }

        /// An entry for work done in a scope: a platform operator's query, or an action in one tenant.
        public init(scope: DataScope, action: String, report: String? = nil,
                    parameters: [String: String] = [:], rowCount: Int? = nil, outcome: String) {
            let kind = switch scope {
            case .platform: "platform_admin"
            case .tenant: "tenant_user"
            }
            self.init(actor: scope.actor, actorKind: kind, scopeTenant: scope.tenant, action: action, report: report,
                      parameters: parameters, rowCount: rowCount, outcome: outcome)
        }
    }

    public struct Row: Sendable, Hashable {
        public var seq: Int
        public var occurredAt: Date
        public var entry: Entry
        public var hash: String
    }

    let appClient: PostgresClient
    let ownerClient: PostgresClient

    @discardableResult
    public func append(_ entry: Entry, logger: Logger) async throws -> Int {
        let parameters = JSONValue.object(entry.parameters.mapValues(JSONValue.string)).jsonText
        let rows = try await appClient.query("""
            SELECT app.append_audit(\(entry.actor), \(entry.actorKind), \(entry.scopeTenant?.rawValue), \(entry.action),
                                    \(entry.report), \(parameters)::jsonb, \(entry.rowCount), \(entry.outcome))
            """, logger: logger)
        return try await rows.collect().first?.decode(Int.self) ?? 0
    }

    /// The newest rows, newest last (owner connection: an operator's view).
    public func tail(limit: Int, logger: Logger) async throws -> [Row] {
        var result: [Row] = []
        let rows = try await ownerClient.query("""
            SELECT seq, occurred_at, actor, actor_kind, scope_tenant_id, action, report, parameters::text, row_count, outcome, hash
            FROM (SELECT * FROM app.audit_log ORDER BY seq DESC LIMIT \(limit)) r ORDER BY seq
            """, logger: logger)
        for try await row in rows {
            let cells = row.makeRandomAccess()
            let parametersText = try cells[7].decode(String.self)
            let parameters = (try? JSONParser.parse(Array(parametersText.utf8)))?.objectValue ?? [:]
            result.append(Row(
                seq: try cells[0].decode(Int.self), occurredAt: try cells[1].decode(Date.self),
                entry: Entry(
                    actor: try cells[2].decode(String.self), actorKind: try cells[3].decode(String.self),
                    scopeTenant: try cells[4].decode(UUID?.self).map(TenantID.init), action: try cells[5].decode(String.self),
                    report: try cells[6].decode(String?.self), parameters: parameters.mapValues { $0.stringValue ?? $0.jsonText },
                    rowCount: try cells[8].decode(Int?.self), outcome: try cells[9].decode(String.self)
                ),
                hash: try cells[10].decode(String.self)
            ))
        }
        return result
    }

    /// The first row whose hash or link does not match, or nil when the chain is intact.
    public func firstBrokenRow(logger: Logger) async throws -> Int? {
        try await ownerClient.query("SELECT app.first_broken_audit_row()", logger: logger).collect().first?.decode(Int?.self) ?? nil
    }
}
