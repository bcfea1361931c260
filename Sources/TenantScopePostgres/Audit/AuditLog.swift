import Foundation
import Logging
import PostgresNIO
import TenantScopeCore

/// Appends to the append-only, hash-chained audit log (`app.audit_log`), as the server's login role.
///
/// Every append carries a principal signed with the tenant-context key (``AuditPrincipalSigner``) and
/// goes through `app.append_signed_audit`, in a transaction apart from the request's, so a refused request
/// is recorded too; concurrent appends share one batch (``AuditAppender``). The tenant and platform roles cannot append at all, and the server's role cannot append without
/// a valid signature. After appends, the checkpoint writer (if any) records the chain head outside the
/// database (``AuditCheckpoints``), so that rewriting or truncating history is detected by
/// `tenantscope audit verify` even by someone who can rewrite the whole chain.
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
            case .tenant(let tenant): tenant.actor.hasPrefix("system:") ? "system" : "tenant_user"
            }
            self.init(actor: scope.actor, actorKind: kind, scopeTenant: scope.tenant, action: action, report: report,
                      parameters: parameters, rowCount: rowCount, outcome: outcome)
        }
    }

    let pool: DatabasePool
    let signer: AuditPrincipalSigner
    /// Told after every append, so it can checkpoint the new chain head.
    public let checkpoints: AuditCheckpoints?
    /// Writes the appends of all concurrent requests in batches (decision 34).
    let appender: AuditAppender

    init(pool: DatabasePool, signer: AuditPrincipalSigner, checkpoints: AuditCheckpoints?) {
        self.pool = pool
        self.signer = signer
        self.checkpoints = checkpoints
        self.appender = AuditAppender(pool: pool)
    }

    @discardableResult
    public func append(_ entry: Entry, logger: Logger) async throws -> Int {
        guard let kind = AuditPrincipalSigner.Kind(rawValue: entry.actorKind) else {
            throw TenantScopeError.invalidInput("audit actor kind '\(entry.actorKind)' is not one of \(AuditPrincipalSigner.Kind.allCases.map(\.rawValue))")
        }
        let principal = signer.principal(actor: entry.actor, kind: kind, expiresAt: Date().addingTimeInterval(60))
        let parameters = JSONValue.object(JSONObject(entry.parameters.mapValues(JSONValue.string))).jsonText
        let seq = try await appender.append(.init(
            principal: principal, scopeTenant: entry.scopeTenant.map { $0.rawValue.uuidString } ?? "", action: entry.action,
            report: entry.report ?? "", parameters: parameters, rowCount: entry.rowCount.map(String.init) ?? "", outcome: entry.outcome
        ), logger: logger)
        await checkpoints?.noteAppend()
        return seq
    }

    /// The newest row's sequence number and hash (nil for an empty log): what a checkpoint records.
    public func head(logger: Logger) async throws -> AuditCheckpoints.Head? {
        try await pool.query("SELECT seq, hash FROM app.audit_head()", logger: logger).first.map { row in
            let (seq, hash) = try row.decode((Int, String).self)
            return AuditCheckpoints.Head(seq: seq, hash: hash)
        }
    }
}
