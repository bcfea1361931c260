import Foundation
import Logging
import PostgresNIO
import TenantScopeCore

/// The one reporting helper: `run(principal, report, surface, parameters)`.
///
/// It checks the scope (cross-tenant only for platform admins), parses and bounds the parameters,
/// runs the catalog's SQL through ``ScopedDatabase`` in the principal's scope, and writes the audit
/// record for every cross-tenant query and every refused scope attempt. Handlers never write SQL.
public struct ReportRunner: Sendable {
    public let catalog: ReportCatalog
    private let sessions: ScopedDatabase
    private let audit: AuditLog
    private let logger: Logger

    public init(catalog: ReportCatalog, database: Database, logger: Logger) {
        self.catalog = catalog
        self.sessions = database.sessions
        self.audit = database.audit
        self.logger = logger
    }

    /// The reports `principal` may run on `surface`.
    public func list(for principal: Principal, surface: ReportRequest.Surface) async throws -> [ReportDefinition] {
        try await authorize(principal, surface: surface, report: nil)
        return catalog.definitions.filter { surface == .tenant ? $0.tenantQuery != nil : $0.platformQuery != nil }
    }

    /// Which SQL of a report to run: the served one (roll-ups plus raw for today) or the same answer
    /// from raw tables only (for consistency checks and benchmarks).
    public enum Path: String, Sendable {
        case served, cold
    }

    public func run(
        _ principal: Principal, report name: String, surface: ReportRequest.Surface,
        parameters: [(String, String)], path: Path = .served, now: Date = Date()
    ) async throws -> ReportResult {
        let scope = try await authorize(principal, surface: surface, report: name)
        guard let definition = catalog[name], (surface == .tenant ? definition.tenantQuery : definition.platformQuery) != nil else {
            throw TenantScopeError.notFound("no report named '\(name)' on the \(surface.rawValue) surface")
        }
        let request: ReportRequest
        do {
            request = try ReportRequest(definition: definition, surface: surface, rawParameters: parameters, today: ISO8601Timestamp.day(now))
        } catch {
            if surface == .platform { try await record(principal, scope: scope, request: nil, name: name, parameters: parameters, rows: nil, outcome: "invalid_parameters") }
            throw error
        }

        let attributes: [String: String] = if case .tenantUser(let user) = principal { user.attributes } else { [:] }
        let query = request.query!
        let text: String
        switch path {
        case .served: text = query.sql
        case .cold:
            guard let cold = query.coldSQL else {
                throw TenantScopeError.invalidInput("report '\(name)' on the \(surface.rawValue) surface reads roll-ups only; it has no raw-table variant")
            }
            text = cold
        }
        let (sql, names) = SQLText.positional(text)
        var bindings = PostgresBindings()
        for placeholder in names {
            let value = placeholder.hasPrefix("attr_")
                ? attributes[String(placeholder.dropFirst(5))].map(ReportValue.text) ?? .null
                : request.values[placeholder] ?? .null
            switch value {
            case .integer(let number): bindings.append(number)
            case .text(let text): bindings.append(text)
            case .null: bindings.appendNull()
            }
        }

        let rows: [[ReportCell]]
        do {
            rows = try await sessions.run(scope) { connection in
                var rows: [[ReportCell]] = []
                for try await row in try await connection.query(PostgresQuery(unsafeSQL: sql, binds: bindings)) {
                    let cells = row.makeRandomAccess()
                    rows.append(try query.fields.indices.map { try ReportCell.decode(cells[$0], as: query.fields[$0].type) })
                }
                return rows
            }
        } catch {
            if surface == .platform { try await record(principal, scope: scope, request: request, name: name, parameters: parameters, rows: nil, outcome: "error") }
            throw error
        }
        if surface == .platform {
            try await record(principal, scope: scope, request: request, name: name, parameters: parameters, rows: rows.count, outcome: "ok")
        }
        return ReportResult(request: request, scope: scope, rows: rows)
    }

    /// Maps principal × surface to a data scope, auditing and refusing what is not allowed.
    @discardableResult
    private func authorize(_ principal: Principal, surface: ReportRequest.Surface, report: String?) async throws -> DataScope {
        switch (principal, surface) {
        case (.tenantUser(let user), .tenant):
            return .tenant(user.tenant)
        case (.platformAdmin(let name), .platform):
            return .platform(operator: name)
        case (.tenantUser(let user), .platform):
            try await audit.append(.init(principal: principal, scopeTenant: user.tenant, action: "platform_scope_refused", report: report, outcome: "refused"))
            logger.notice("Cross-tenant scope refused", metadata: ["tenant.id": "\(user.tenant)", "report": "\(report ?? "-")"])
            throw TenantScopeError.forbidden("platform reports need a platform-admin token")
        case (.platformAdmin, .tenant):
            try await audit.append(.init(principal: principal, scopeTenant: nil, action: "tenant_scope_refused", report: report, outcome: "refused"))
            throw TenantScopeError.forbidden("tenant reports need a tenant token")
        }
    }

    private func record(
        _ principal: Principal, scope: DataScope, request: ReportRequest?, name: String,
        parameters: [(String, String)], rows: Int?, outcome: String
    ) async throws {
        let values = request.map { $0.values.mapValues(\.description) }
            ?? Dictionary(parameters.map { ($0.0, String($0.1.prefix(200))) }, uniquingKeysWith: { first, _ in first })
        try await audit.append(.init(
            principal: principal, scopeTenant: nil, action: "cross_tenant_query", report: name,
            parameters: values, rowCount: rows, outcome: outcome
        ))
    }
}

/// One value of a report row.
public enum ReportCell: Sendable, Hashable, Encodable, CustomStringConvertible {
    case text(String)
    case integer(Int)
    case number(Double)
    case null

    static func decode(_ cell: PostgresCell, as type: ReportDefinition.FieldType) throws -> ReportCell {
        switch type {
        case .text: try cell.decode(String?.self).map(ReportCell.text) ?? .null
        case .integer: try cell.decode(Int?.self).map(ReportCell.integer) ?? .null
        case .number: try cell.decode(Double?.self).map(ReportCell.number) ?? .null
        case .date: try cell.decode(Date?.self).map { .text(ISO8601Timestamp.day($0)) } ?? .null
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .text(let value): try container.encode(value)
        case .integer(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .null: try container.encodeNil()
        }
    }

    public var description: String {
        switch self {
        case .text(let value): value
        case .integer(let value): "\(value)"
        case .number(let value): "\(value)"
        case .null: ""
        }
    }
}

/// What a report run returns: the scope it ran in, the parameters, the columns and the rows.
public struct ReportResult: Sendable {
    public let request: ReportRequest
    public let scope: DataScope
    public let rows: [[ReportCell]]

    public var fields: [ReportDefinition.Field] { request.query?.fields ?? [] }
}
