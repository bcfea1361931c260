import Foundation
import Logging
import PostgresNIO
import TenantScopeCore

/// The one reporting helper: `run(report, in: scope, parameters)`.
///
/// The scope is already decided (``ScopePolicy``): the runner picks the catalog query of the scope's
/// surface, parses and bounds the parameters, runs the SQL through ``ScopedDatabase`` in that scope, and
/// writes the audit record of every cross-tenant query. Handlers never write SQL.
public struct ReportRunner: Sendable {
    public let catalog: ReportCatalog
    private let sessions: ScopedDatabase
    private let audit: AuditLog
    private let cache: ReportResultCache?
    private let watermarks: (any RollupWatermarkSource)?
    /// The database whose dedicated clusters a platform report fans out to (architecture decision 49), read at each
    /// report: a cluster added since start-up is asked once it is open.
    private let database: Database
    /// How long each dedicated cluster may take.
    private let clusterTimeout: Duration

    /// With a `cache`, served tenant reports are answered from it while the tenant's roll-up watermark
    /// (read from `watermarks`, by default the database's, at most a second old) has not moved. A platform
    /// report waits at most `clusterTimeout` for each dedicated cluster; one that does not answer is named in
    /// the answer's ``ReportResult/clusters``, never silently left out.
    public init(catalog: ReportCatalog, database: Database, cache: ReportResultCache? = nil,
                watermarks: (any RollupWatermarkSource)? = nil, clusterTimeout: Duration = .seconds(10)) {
        self.catalog = catalog
        self.sessions = database.sessions
        self.audit = database.audit
        self.cache = cache
        self.watermarks = cache == nil ? nil : watermarks ?? RollupWatermarks(database: database)
        self.database = database
        self.clusterTimeout = clusterTimeout
    }

    /// The reports of a surface; given a tenant role, only those it may run.
    public func list(on surface: Surface, role: TenantUser.Role? = nil) -> [ReportDefinition] {
        catalog.definitions.filter { $0.query(on: surface) != nil && (role.map($0.allows) ?? true) }
    }

    /// Which SQL of a report to run: the served one (roll-ups plus raw for today) or the same answer
    /// from raw tables only (for consistency checks and benchmarks).
    public enum Path: String, Sendable {
        case served, cold
    }

    public func run(
        _ name: String, in scope: DataScope, parameters: [(String, String)],
        path: Path = .served, now: Date = Date(), logger: Logger
    ) async throws -> ReportResult {
        let surface = scope.surface
        guard let definition = catalog[name], definition.query(on: surface) != nil else {
            // A platform run is audited whatever its outcome, a name the catalog does not have on its surface included.
            try await record(scope, request: nil, name: name, parameters: parameters, rows: nil, outcome: "not_found", logger: logger)
            throw TenantScopeError.notFound("no report named '\(name)' on the \(surface.rawValue) surface")
        }
        // The role comes from the scope (the token's role; previews and shared links are viewers).
        if case .tenant(let tenant) = scope, !definition.allows(tenant.role) {
            throw TenantScopeError.forbidden("the report '\(name)' is for tenant \(definition.minimumRole?.rawValue ?? "")s only")
        }
        let request: ReportRequest
        do {
            request = try ReportRequest(definition: definition, surface: surface, rawParameters: parameters, today: ISO8601Timestamp.day(now))
        } catch {
            try await record(scope, request: nil, name: name, parameters: parameters, rows: nil, outcome: "invalid_parameters", logger: logger)
            throw error
        }

        let attributes: [String: String] = if case .tenant(let tenant) = scope { tenant.attributes } else { [:] }
        let query = request.query!
        let text: String
        switch path {
        case .served: text = query.sql
        case .cold:
            guard let cold = query.coldSQL else {
                try await record(scope, request: request, name: name, parameters: parameters, rows: nil, outcome: "invalid_parameters",
                                 logger: logger)
                throw TenantScopeError.invalidInput("report '\(name)' on the \(surface.rawValue) surface reads roll-ups only; it has no raw-table variant")
            }
            text = cold
        }
        // Served tenant answers may come from the cache; platform reports are audited per run and not cached.
        var cacheKey: ReportResultCache.Key?
        let runStarted = ContinuousClock.now
        if let cache, let watermarks, path == .served, case .tenant(let tenant) = scope,
           let watermark = await watermarks.watermark(of: tenant.tenant, logger: logger) {
            let key = ReportResultCache.Key(tenant: tenant.tenant, attributes: attributes, report: name, parameters: request.values,
                                            day: ISO8601Timestamp.day(now), watermark: watermark)
            if let rows = cache.rows(for: key) {
                return ReportResult(request: request, scope: scope, rows: rows)
            }
            cacheKey = key
        }

        let rows: [[ReportCell]]
        let freshness: DataFreshness
        // A platform report with dedicated clusters: their tenants' roll-up rows join the pool's in the one query.
        var fanOut: (sql: String, partials: [String: [String]], coverage: ClusterCoverage)?
        if case .platform = scope, let dedicated = database.dedicated, !dedicated.isEmpty || !dedicated.unopened.isEmpty {
            let merged: String
            do {
                merged = try PlatformSources.merged(text)
            } catch {
                try await record(scope, request: request, name: name, parameters: parameters, rows: nil, outcome: "error", logger: logger)
                throw error
            }
            let (partials, coverage) = await partialRows(in: scope, days: request.values["days"], logger: logger)
            fanOut = (merged, partials, coverage)
        }
        let coverage = fanOut?.coverage
        let planning = path == .served ? query.planning : .forEachRun
        let statement = fanOut.map { Self.statement($0.sql, request: request, attributes: attributes, arrays: $0.partials, planning: planning) }
            ?? Self.statement(text, request: request, attributes: attributes, planning: planning)
        let readsWatermark = cacheKey != nil && sessions.replicas != nil
        // Reads go to a read replica when one is fit (ScopedDatabase.runPreferringReplica).
        let answered: (rows: [[ReportCell]], watermark: Date?)
        do {
            // One round trip on the primary (architecture decisions 61 and 62); a platform report's audit row is written below.
            let read: (rows: [PostgresRow], freshness: DataFreshness)? = switch scope {
            case .tenant(let tenant) where !readsWatermark:
                try await sessions.readRows(tenant, statement, columns: query.fields.map(\.type), logger: logger)
            case .platform(let platform):
                try await sessions.platformRows(platform, statement, columns: query.fields.map(\.type), logger: logger)
            case .tenant:
                nil
            }
            if let read {
                answered = (try read.rows.map { try Self.cells(of: $0, fields: query.fields) }, nil)
                freshness = read.freshness
            } else {
                (answered, freshness) = try await sessions.runPreferringReplica(scope, planning: statement.planning, logger: logger) { connection in
                    // The watermark this transaction sees before its rows: each statement of a READ COMMITTED transaction
                    // takes a newer snapshot, so the rows reflect at least this watermark's roll-ups (read after them,
                    // a replica could have replayed a newer catch-up in between, and older rows would pass for newer).
                    let watermark = readsWatermark
                        ? try await connection.query("SELECT refreshed_at FROM app.rollup_state").collect().first?.decode(Date.self)
                        : nil
                    let rows = try await connection.rows(statement).map { try Self.cells(of: $0, fields: query.fields) }
                    return (rows, watermark)
                }
            }
        } catch {
            try await record(scope, request: request, name: name, parameters: parameters, rows: nil, outcome: "error", logger: logger)
            throw error
        }
        rows = answered.rows
        try await record(scope, request: request, name: name, parameters: parameters, rows: rows.count,
                         outcome: coverage.map { $0.isComplete ? "ok" : "partial" } ?? "ok", coverage: coverage, logger: logger)
        // An answer from a replica is stored only if it was computed at the key's watermark: one from a replica
        // still behind the primary's roll-ups must never be served as the answer at the primary's watermark. The
        // primary's own snapshot is at or past the key's (read at most a second before), never behind it. Nor is
        // an answer whose run went past midnight stored under the day before.
        if let cache, let cacheKey, cacheKey.isStillItsDay(askedAt: now, runStarted: runStarted),
           freshness.source == .primary || answered.watermark == cacheKey.watermark {
            cache.store(rows, for: cacheKey)
        }
        return ReportResult(request: request, scope: scope, rows: rows, freshness: freshness, clusters: coverage)
    }

    /// A row's cells, decoded as the report's fields say.
    static func cells(of row: PostgresRow, fields: [ReportDefinition.Field]) throws -> [ReportCell] {
        let cells = row.makeRandomAccess()
        return try fields.indices.map { try ReportCell.decode(cells[$0], as: fields[$0].type) }
    }

    /// Asks every dedicated cluster, at once and each within `clusterTimeout`, for its tenants' rows of the
    /// platform sources (``PlatformSources/partialSQL``), in the platform scope. Returns the rows as bind
    /// values (`fanout_<source>`: one JSON array per cluster that answered) and which clusters did.
    private func partialRows(in scope: DataScope, days: ReportValue?, logger: Logger) async -> ([String: [String]], ClusterCoverage) {
        let window: Int = if case .integer(let days) = days { days } else { 365 }
        let statement = Self.statement(PlatformSources.partialSQL, values: ["days": .integer(window)])
        let timeout = clusterTimeout
        let answers = await withTaskGroup(of: (ClusterName, Result<[String], any Error>).self) { group in
            for (name, sessions) in database.clusters.dropFirst().map({ ($0.cluster, $0.sessions) }) {
                group.addTask {
                    do {
                        return (name, .success(try await Self.within(timeout) {
                            try await sessions.run(scope, statementTimeout: timeout, retry: .anywhere, logger: logger) { connection in
                                let row = try await connection.rows(statement).first!.makeRandomAccess()
                                return try PlatformSources.all.indices.map { try row[$0].decode(String.self) }
                            }
                        }))
                    } catch {
                        return (name, .failure(error))
                    }
                }
            }
            var answers: [(ClusterName, Result<[String], any Error>)] = []
            for await answer in group { answers.append(answer) }
            return answers.sorted { $0.0.rawValue < $1.0.rawValue }
        }
        var arrays = Dictionary(uniqueKeysWithValues: PlatformSources.all.map { ("fanout_\($0.name)", [String]()) })
        arrays["fanout_clusters"] = []
        var answered: [ClusterName] = [.pool]
        // A cluster the control database names that could not be opened is missing too, never silently left out.
        var missing: [ClusterCoverage.Missing] = database.dedicated?.unopened.map { .init(cluster: $0, reason: "could not be opened") } ?? []
        for (name, result) in answers {
            switch result {
            case .success(let rows):
                answered.append(name)
                for (source, json) in zip(PlatformSources.all, rows) { arrays["fanout_\(source.name)", default: []].append(json) }
                arrays["fanout_clusters", default: []].append(name.rawValue)
            case .failure(let error):
                let reason = error is ClusterTimedOut ? "did not answer within \(timeout.components.seconds) s" : "unavailable"
                logger.warning("A cluster is missing from a platform report", metadata: [
                    "db.cluster": "\(name)", "error.type": "\(type(of: error))",
                ])
                missing.append(.init(cluster: name, reason: reason))
            }
        }
        return (arrays, ClusterCoverage(answered: answered, missing: missing.sorted { $0.cluster.rawValue < $1.cluster.rawValue }))
    }

    private struct ClusterTimedOut: Error {}

    /// `body`'s result, or ``ClusterTimedOut`` once `timeout` has passed (the body is then cancelled).
    private static func within<Result: Sendable>(_ timeout: Duration, _ body: @escaping @Sendable () async throws -> Result) async throws -> Result {
        try await withThrowingTaskGroup(of: Result.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw ClusterTimedOut()
            }
            defer { group.cancelAll() }
            return try await group.next()!
        }
    }

    /// Runs a tenant report for an export: the same checks, SQL and bindings as ``run(_:in:parameters:path:now:logger:)``,
    /// but never from the cache, and each row goes to `row` as PostgreSQL sends it instead of into an array,
    /// so memory stays flat however many rows there are. The report's columns go to `fields` before the first row.
    public func stream(
        _ name: String, in scope: TenantScope, parameters: [(String, String)], now: Date = Date(), statementTimeout: Duration,
        logger: Logger, fields: @escaping @Sendable ([ReportDefinition.Field]) async throws -> Void,
        row: @escaping @Sendable ([ReportCell]) async throws -> Void
    ) async throws {
        guard let definition = catalog[name], definition.query(on: .tenant) != nil else {
            throw TenantScopeError.notFound("no report named '\(name)' on the tenant surface")
        }
        guard definition.allows(scope.role) else {
            throw TenantScopeError.forbidden("the report '\(name)' is for tenant \(definition.minimumRole?.rawValue ?? "")s only")
        }
        let request = try ReportRequest(definition: definition, surface: .tenant, rawParameters: parameters, today: ISO8601Timestamp.day(now))
        let query = request.query!
        let statement = Self.statement(query.sql, request: request, attributes: scope.attributes)
        // A replica that fails once rows have gone out is not retried: the rows would go out twice.
        _ = try await sessions.runPreferringReplica(.tenant(scope), statementTimeout: statementTimeout, retry: .beforeBody, logger: logger) { connection in
            try await fields(query.fields)
            for try await each in try await connection.query(statement) {
                let cells = each.makeRandomAccess()
                try await row(try query.fields.indices.map { try ReportCell.decode(cells[$0], as: query.fields[$0].type) })
            }
        }
    }

    /// The SQL of a report with its named placeholders bound: parameters from the request, `attr_*`
    /// from the scope's signed row attributes (NULL when the actor has none).
    /// `arrays` binds `text[]` placeholders (a platform report's partial rows from the dedicated clusters); `planning`
    /// is how the statement is planned (the served SQL's own choice, decision 75).
    static func statement(_ text: String, request: ReportRequest, attributes: [String: String], arrays: [String: [String]] = [:],
                          planning: QueryPlanning = .forEachRun) -> BoundStatement {
        var values = request.values
        for (name, value) in attributes { values["attr_" + name] = .text(value) }
        let integers = Set(request.definition.parameters.compactMap { parameter -> String? in
            if case .integer = parameter.kind { parameter.name } else { nil }
        })
        var statement = statement(text, values: values, integers: integers, arrays: arrays)
        statement.planning = planning
        return statement
    }

    /// The SQL with its named placeholders bound from `values` and `arrays`. A name without a value is NULL, typed
    /// as an integer if it is in `integers` and as text otherwise (``BoundStatement``).
    static func statement(_ text: String, values: [String: ReportValue], integers: Set<String> = [],
                          arrays: [String: [String]] = [:]) -> BoundStatement {
        BoundStatement(text) { name in
            if let array = arrays[name] { return .textArray(array) }
            switch values[name] ?? .null {
            case .integer(let number): return .integer(number)
            case .text(let text): return .text(text)
            case .null: return integers.contains(name) ? .integer(nil) : .text(nil)
            }
        }
    }

    /// Writes the audit row of a cross-tenant query (tenant-scope reports are not audited per run).
    private func record(
        _ scope: DataScope, request: ReportRequest?, name: String,
        parameters: [(String, String)], rows: Int?, outcome: String, coverage: ClusterCoverage? = nil, logger: Logger
    ) async throws {
        guard case .platform = scope else { return }
        var values = request.map { $0.values.mapValues(\.description) }
            ?? Dictionary(parameters.map { ($0.0, String($0.1.prefix(200))) }, uniquingKeysWith: { first, _ in first })
        if let coverage, !coverage.isComplete {
            values["missing_clusters"] = coverage.missing.map(\.cluster.rawValue).joined(separator: ",")
        }
        try await audit.append(.init(
            scope: scope, action: "cross_tenant_query", report: name, parameters: values, rowCount: rows, outcome: outcome
        ), logger: logger)
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
    /// Which database answered and how far behind the primary it was.
    public let freshness: DataFreshness
    /// For a platform report fanned out over dedicated clusters: which answered and which are missing.
    public let clusters: ClusterCoverage?

    public init(request: ReportRequest, scope: DataScope, rows: [[ReportCell]], freshness: DataFreshness = .primary,
                clusters: ClusterCoverage? = nil) {
        self.request = request
        self.scope = scope
        self.rows = rows
        self.freshness = freshness
        self.clusters = clusters
    }

    public var fields: [ReportDefinition.Field] { request.query?.fields ?? [] }
}
