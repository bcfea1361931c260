import Foundation
import Logging
import PostgresNIO
import Synchronization
import TenantScopeCore

/// The one way into tenant data: runs a closure in a transaction bound to a ``DataScope``.
///
/// Every transaction starts with one statement that sets, transaction-locally and from bind parameters,
/// the signed tenant context (`app.tenant_ctx`), the role (`tenantscope_tenant` or `tenantscope_platform`)
/// and a statement timeout. Row-level security then limits every query in the closure, whether or
/// not it says `WHERE tenant_id`. Nothing survives `COMMIT`, so a pooled connection carries no scope
/// into its next use; a session-level value left behind by a bug is masked by the next transaction's
/// local one. A tenant's single-statement reads (reports, the LRS's, documents, saved views, custom reports, export jobs)
/// are one call of a session function that sets the same scope in order instead (``readRows(_:_:columns:replicas:logger:)``,
/// ``ScopedReadFunctions``), a platform report one of the server login's (``platformRows(_:_:columns:logger:)``), and
/// statement and product-event batches and single writing statements (documents, saved views and links, custom reports,
/// export jobs and schedules) one call of a function that sets the scope for a write
/// (``write(_:calling:values:decode:orInTransaction:logger:)``, ``writeRows(_:_:columnTypes:logger:)``); the only
/// session-level value the helper sets is a connection's `statement_timeout`, on both logins' connections, for those
/// calls, which each transaction masks with its own (architecture decisions 61 to 63).
public struct ScopedDatabase: Sendable {
    public enum Access: Sendable {
        case readOnly
        case readWrite
    }

    static let tenantRole = "tenantscope_tenant"
    static let platformRole = "tenantscope_platform"

    /// The first statement of a tenant transaction. It also asks the tenant gate (migration 28) whether the
    /// tenant's data is on this cluster and, for a write, whether a move holds it. The context is set in the
    /// gate's own argument, so it is set before the gate runs. (A subquery setting it first cost a quarter of a
    /// small transaction's rate in planning: bench/gate.)
    ///
    /// A read-only transaction plans each statement for its own values (`force_custom_plan`), as an unnamed
    /// statement always is: reports run prepared (``PreparedStatements``) to skip parsing, but a generic plan of
    /// a report cannot see which months or days its window covers, and measured slower (architecture decision
    /// 55). A read whose SQL is shaped for one plan asks for it (``QueryPlanning/oncePerConnection``,
    /// `force_generic_plan`, decision 75). A write keeps the session's setting (PostgreSQL's default chooses per
    /// statement; PL/pgSQL's cached plans in ingest and derivation depend on it).
    static let tenantSettings = """
        SELECT gate.tenant_gate(set_config('app.tenant_ctx', :context, true), :write),
               set_config('statement_timeout', :timeout, true),
               set_config('TimeZone', 'UTC', true),
               set_config('plan_cache_mode', coalesce(:plan_cache_mode, current_setting('plan_cache_mode')), true),
               set_config('role', :role, true)
        """
    /// The settings that lower a tenant's read-only transaction to the SQL sandbox (architecture decision 38): its limits,
    /// the semantic layer's search path and the sandbox role. Values are bound, never spliced.
    public struct Sandbox: Sendable, Hashable {
        public var workMem: String
        public var tempFileLimit: String

        public init(workMem: String, tempFileLimit: String) {
            self.workMem = workMem
            self.tempFileLimit = tempFileLimit
        }
    }

    static let sandboxRole = "tenantscope_sandbox"

    /// ``tenantSettings`` followed by the sandbox's, in one statement: one round trip instead of five (the scope and four
    /// `SET LOCAL`s). The expressions run in order: the tenant role first, which may set `temp_file_limit` (migration 20),
    /// then the sandbox role last. `set_config` itself is checked once, as the statement starts, against the login,
    /// which may call it; the tenant and sandbox roles may not.
    static let sandboxSettings = tenantSettings + """
        ,
               set_config('temp_file_limit', :temp_file_limit, true),
               set_config('work_mem', :work_mem, true),
               set_config('search_path', 'semantic, pg_catalog, pg_temp', true),
               set_config('role', :sandbox_role, true)
        """
    static let platformSettings = """
        SELECT set_config('app.tenant_ctx', :context, true),
               set_config('statement_timeout', :timeout, true),
               set_config('TimeZone', 'UTC', true),
               set_config('plan_cache_mode', coalesce(:plan_cache_mode, current_setting('plan_cache_mode')), true),
               set_config('role', :role, true)
        """

    /// Connections of the tenant login (a member of the tenant role only) for tenant scopes, and of the
    /// server's login for the platform scope: SQL in a tenant transaction cannot become another role
    /// or reach the server's functions (architecture decision 28).
    private let tenantPool: DatabasePool
    private let platformPool: DatabasePool
    let signer: TenantContextSigner
    private let defaultTimeout: Duration
    /// Read replicas that reads which need not see the caller's own writes may go to (reports, SQL, exports).
    public let replicas: ReplicaSet?
    /// Sends a tenant placed on a dedicated cluster there (architecture decision 49); nil on a dedicated
    /// cluster's own helper, and where no cluster was added.
    let router: ClusterRouter?
    /// Whether tenant reads (``readRows(_:_:columns:replicas:logger:)``) and writes (``write(_:calling:values:decode:orInTransaction:logger:)``)
    /// may call session functions (architecture decisions 61 and 62).
    let sessionFunctions: Bool

    public init(tenantPool: DatabasePool, platformPool: DatabasePool, signer: TenantContextSigner, statementTimeout: Duration = .seconds(30),
                replicas: ReplicaSet? = nil) {
        self.init(tenantPool: tenantPool, platformPool: platformPool, signer: signer, statementTimeout: statementTimeout, replicas: replicas,
                  router: nil)
    }

    init(tenantPool: DatabasePool, platformPool: DatabasePool, signer: TenantContextSigner, statementTimeout: Duration, replicas: ReplicaSet?,
         router: ClusterRouter?, sessionFunctions: Bool = true) {
        self.sessionFunctions = sessionFunctions
        self.tenantPool = tenantPool
        self.platformPool = platformPool
        self.signer = signer
        self.defaultTimeout = statementTimeout
        self.replicas = replicas.flatMap { $0.replicas.isEmpty ? nil : $0 }
        self.router = router
    }

    /// This cluster's pool for `scope`: the tenant login's for a tenant, the server login's for the platform.
    private func pool(for scope: DataScope) -> DatabasePool {
        switch scope {
        case .tenant: tenantPool
        case .platform: platformPool
        }
    }

    /// The dedicated cluster's helper when `scope` is a tenant placed on one; nil to run here.
    private func dedicatedCluster(for scope: DataScope, logger: Logger) async throws -> ScopedDatabase? {
        guard let router, case .tenant(let tenant) = scope else { return nil }
        return try await router.dedicatedCluster(of: tenant.tenant, logger: logger)
    }

    /// Runs `body` in a transaction scoped to `scope`; commits when it returns, rolls back when it throws.
    ///
    /// `logger` is the caller's (a request's logger carries its `hb.request.id`): every query of the
    /// transaction logs through it, as postgres-nio takes a logger per query. `retry` says whether the transaction
    /// may be run again after its body began, should the server have forgotten a prepared statement (``ReadRetry``).
    public func run<Result: Sendable>(
        _ scope: DataScope,
        access: Access = .readOnly,
        statementTimeout: Duration? = nil,
        retry: ReadRetry = .beforeBody,
        logger: Logger,
        _ body: @escaping @Sendable (ScopedConnection) async throws -> Result
    ) async throws -> Result {
        try await refreshingPlacementOnRefusal(scope, logger: logger) {
            if let cluster = try await dedicatedCluster(for: scope, logger: logger) {
                return try await cluster.run(scope, access: access, statementTimeout: statementTimeout, retry: retry, logger: logger, body)
            }
            return try await run(scope, on: pool(for: scope), access: access, statementTimeout: statementTimeout, retry: retry, sandbox: nil, logger: logger,
                                 body)
        }
    }

    /// Runs `work`, turning the tenant gate's refusal into ``TenantRelocating``; a refusal for a tenant whose
    /// data is elsewhere, or that this database has no row for (a dedicated cluster a move has just left), also drops
    /// its placement, so the next transaction looks it up afresh. A tenant no database has a row for any more (deleted
    /// while the request was on its way, or a signed link of a deleted tenant) is a 404: no retry would find it. That is
    /// decided here, where the control database is known; a dedicated cluster's helper passes the refusal up to it.
    private func refreshingPlacementOnRefusal<Result>(_ scope: DataScope, logger: Logger, _ work: () async throws -> Result) async throws -> Result {
        do {
            return try await work()
        } catch {
            guard let refusal = TenantRelocating.from(error) else { throw error }
            if refusal.reason != .moving, let tenant = scope.tenant { router?.placement.forget(tenant) }
            if refusal.reason == .absent, let router, let tenant = scope.tenant, try await !router.knows(tenant, logger: logger) {
                throw TenantScopeError.notFound("the tenant does not exist")
            }
            throw refusal
        }
    }

    /// When a transaction that failed through no fault of its own may be run again: a read from the primary after
    /// its read replica failed, or any transaction on the same connection after the server forgot a statement
    /// prepared there (26000: a `DISCARD` or `DEALLOCATE` that is not ours, or a pooler that moved the connection;
    /// ``PreparedStatements`` then runs that connection's statements unnamed, so the second run cannot meet it again).
    public enum ReadRetry: Sendable {
        /// Whenever it fails so: the body only collects, so running it again repeats nothing.
        case anywhere
        /// Only if the body had not started: it hands rows on as they come (an export) or writes, and a second
        /// run would do that twice.
        case beforeBody
    }

    /// Runs a read-only `body` in `scope` on a read replica fit to serve (``ReplicaSet``), or on the primary
    /// when there is none, and says which answered. For reads that need not see the caller's own writes:
    /// reports, the SQL surface, exports. A replica that fails as a dependency (unreachable, shut down, a
    /// conflict with recovery cancelled the query) sits out for a while (``ReadReplica/SitOut``) and then
    /// until a probe finds it well, and the read is run on the primary as `retry` allows: the caller sees no
    /// error a healthy primary would not have given.
    /// With `sandbox`, a tenant's transaction is lowered to the SQL sandbox in its first statement. `planning` is how the
    /// transaction's statements are planned (``QueryPlanning``).
    public func runPreferringReplica<Result: Sendable>(
        _ scope: DataScope,
        statementTimeout: Duration? = nil,
        retry: ReadRetry = .anywhere,
        sandbox: Sandbox? = nil,
        planning: QueryPlanning = .forEachRun,
        logger: Logger,
        _ body: @escaping @Sendable (ScopedConnection) async throws -> Result
    ) async throws -> (result: Result, freshness: DataFreshness) {
        try await refreshingPlacementOnRefusal(scope, logger: logger) {
            if let cluster = try await dedicatedCluster(for: scope, logger: logger) {
                return try await cluster.runPreferringReplica(scope, statementTimeout: statementTimeout, retry: retry, sandbox: sandbox,
                                                              planning: planning, logger: logger, body)
            }
            return try await runHerePreferringReplica(scope, statementTimeout: statementTimeout, retry: retry, sandbox: sandbox,
                                                      planning: planning, logger: logger, body)
        }
    }

    private func runHerePreferringReplica<Result: Sendable>(
        _ scope: DataScope, statementTimeout: Duration?, retry: ReadRetry, sandbox: Sandbox?, planning: QueryPlanning, logger: Logger,
        _ body: @escaping @Sendable (ScopedConnection) async throws -> Result
    ) async throws -> (result: Result, freshness: DataFreshness) {
        if let (replica, lag) = replicas?.choose() {
            let started = BodyStarted()
            do {
                let result = try await run(scope, on: replica.pool(for: scope), access: .readOnly, statementTimeout: statementTimeout,
                                           retry: retry, sandbox: sandbox, planning: planning, logger: logger) { connection in
                    started.mark()
                    return try await body(connection)
                }
                replica.readSucceeded()
                return (result, .replica(replica.name, lagSeconds: lag))
            } catch where TenantRelocating.from(error)?.reason == .absent && !started.value {
                // The replica's gate found no row for the tenant: one created a moment ago, not replayed there yet. The
                // primary has it; the replica has not failed, and stays in use.
                logger.debug("Read replica has not replayed the tenant yet; reading from the primary", metadata: ["db.replica": "\(replica.name)"])
            } catch where Self.isReplicaFailure(error) {
                replica.readFailed("a read failed (\(type(of: error)))")
                guard retry == .anywhere || !started.value else { throw error }
                logger.notice("Read replica failed; reading from the primary", metadata: ["db.replica": "\(replica.name)",
                                                                                             "error.type": "\(type(of: error))"])
            }
        }
        return (try await run(scope, on: pool(for: scope), access: .readOnly, statementTimeout: statementTimeout, retry: retry, sandbox: sandbox,
                              planning: planning, logger: logger, body), .primary)
    }

    /// The rows of one read-only `statement` in a tenant's scope, its columns decoded as `columns`: on a read replica
    /// when there are any and `replicas` allows it (``runPreferringReplica(_:statementTimeout:retry:logger:_:)``; not for
    /// a read that must see the caller's own writes), otherwise on the primary in one round trip through the statement's
    /// read function (``ScopedReadFunctions``, architecture decision 61) instead of the four of a scoped transaction. The
    /// scope, the tenant gate and the default statement timeout are the same either way.
    func readRows(_ scope: TenantScope, _ statement: BoundStatement, columns: [ReportDefinition.FieldType], replicas: Bool = true,
                  logger: Logger) async throws -> (rows: [PostgresRow], freshness: DataFreshness) {
        try await readRows(scope, statement, columnTypes: columns.map(ScopedReadFunctions.sqlType), replicas: replicas, logger: logger)
    }

    /// The rows of one read-only `statement` in the platform scope (a platform report), its columns decoded as `columns`:
    /// on a read replica when there are any, otherwise in one round trip through the statement's platform read function,
    /// made by the server's login in its session (``ScopedReadFunctions``, architecture decision 62), instead of the four
    /// of a platform transaction. The role, the empty context and the default statement timeout are the same either way.
    func platformRows(_ platform: PlatformScope, _ statement: BoundStatement, columns: [ReportDefinition.FieldType], logger: Logger)
        async throws -> (rows: [PostgresRow], freshness: DataFreshness) {
        try await readHere(.platform(platform), statement, columnTypes: columns.map(ScopedReadFunctions.sqlType), replicas: true, logger: logger)
    }

    /// ``platformRows(_:_:columns:logger:)`` on a given connection (the pool's, or a test's).
    func platformRows(_ platform: PlatformScope, _ statement: BoundStatement, columns: [ReportDefinition.FieldType],
                      on connection: PostgresConnection, logger: Logger) async throws -> [PostgresRow] {
        try await readRows(.platform(platform), statement, columnTypes: columns.map(ScopedReadFunctions.sqlType), on: connection, logger: logger)
    }

    /// ``readRows(_:_:columns:replicas:logger:)`` with columns of SQL types, each cast to its type.
    func readRows(_ scope: TenantScope, _ statement: BoundStatement, columnTypes: [String], replicas: Bool = true,
                  logger: Logger) async throws -> (rows: [PostgresRow], freshness: DataFreshness) {
        try await refreshingPlacementOnRefusal(.tenant(scope), logger: logger) {
            if let cluster = try await dedicatedCluster(for: .tenant(scope), logger: logger) {
                return try await cluster.readRows(scope, statement, columnTypes: columnTypes, replicas: replicas, logger: logger)
            }
            return try await readHere(.tenant(scope), statement, columnTypes: columnTypes, replicas: replicas, logger: logger)
        }
    }

    /// ``readRows(_:_:columns:replicas:logger:)`` on a given connection (the pool's, or a test's).
    func readRows(_ scope: TenantScope, _ statement: BoundStatement, columns: [ReportDefinition.FieldType],
                  on connection: PostgresConnection, logger: Logger) async throws -> [PostgresRow] {
        try await readRows(.tenant(scope), statement, columnTypes: columns.map(ScopedReadFunctions.sqlType), on: connection, logger: logger)
    }

    func readRows(_ scope: TenantScope, _ statement: BoundStatement, columnTypes: [String],
                  on connection: PostgresConnection, logger: Logger) async throws -> [PostgresRow] {
        try await readRows(.tenant(scope), statement, columnTypes: columnTypes, on: connection, logger: logger)
    }

    /// A read on this cluster: on a read replica when `replicas` allows it and there are any; otherwise on the primary, as
    /// one call of the statement's read function, or as a scoped transaction where the helper or the statement cannot
    /// call one.
    private func readHere(_ scope: DataScope, _ statement: BoundStatement, columnTypes: [String], replicas: Bool, logger: Logger)
        async throws -> (rows: [PostgresRow], freshness: DataFreshness) {
        let onReplica = replicas && self.replicas != nil
        let pool = pool(for: scope)
        guard sessionFunctions, !onReplica, SessionFunctions.canHold(statement.sql) else {
            guard onReplica else {
                let rows = try await run(scope, on: pool, access: .readOnly, statementTimeout: nil, retry: .anywhere, sandbox: nil,
                                         planning: statement.planning, logger: logger) { try await $0.rows(statement) }
                return (rows, .primary)
            }
            let read = try await runHerePreferringReplica(scope, statementTimeout: nil, retry: .anywhere, sandbox: nil,
                                                          planning: statement.planning, logger: logger) {
                try await $0.rows(statement)
            }
            return (read.result, read.freshness)
        }
        let rows = try await withLiveConnection(of: pool, timeout: defaultTimeout, logger: logger) { [self] connection in
            try await readRows(scope, statement, columnTypes: columnTypes, on: connection, logger: logger)
        }
        return (rows, .primary)
    }

    /// One read as a call of its read function on `connection`, in the scope's context (a tenant's signed one, or none for
    /// the platform), or as a scoped transaction where the connection runs those.
    private func readRows(_ scope: DataScope, _ statement: BoundStatement, columnTypes: [String],
                          on connection: PostgresConnection, logger: Logger) async throws -> [PostgresRow] {
        let (context, platform) = switch scope {
        case .tenant(let tenant): (signer.context(for: tenant.tenant, expiresAt: Date().addingTimeInterval(300)), false)
        case .platform: ("", true)
        }
        if let rows = try await ScopedReadFunctions.shared.rows(statement, columnTypes: columnTypes, context: context,
                                                                timeoutMilliseconds: Self.milliseconds(defaultTimeout), platform: platform,
                                                                on: connection, logger: logger) {
            return rows
        }
        return try await run(scope, on: connection, access: .readOnly, statementTimeout: nil, retry: .anywhere, planning: statement.planning,
                             logger: logger) {
            try await $0.rows(statement)
        }
    }

    /// Runs one tenant write as a call of its session function (``SessionFunctions``, architecture decision 62): one
    /// round trip, `function` called with `values` and then the signed context, its rows handed to `decode`. The call is
    /// a transaction of its own, so `function` must do all that `fallback` does; `fallback` runs instead, in a read-write
    /// scoped transaction, where this helper or the connection runs transactions. The scope, the tenant gate (asked for a
    /// write) and the default statement timeout are the same either way.
    func write<Result: Sendable>(
        _ scope: TenantScope, calling function: SessionFunctions.Function, values: [BoundStatement.Value],
        decode: @escaping @Sendable ([PostgresRow]) throws -> Result,
        orInTransaction fallback: @escaping @Sendable (ScopedConnection) async throws -> Result, logger: Logger
    ) async throws -> Result {
        try await refreshingPlacementOnRefusal(.tenant(scope), logger: logger) {
            if let cluster = try await dedicatedCluster(for: .tenant(scope), logger: logger) {
                return try await cluster.write(scope, calling: function, values: values, decode: decode, orInTransaction: fallback, logger: logger)
            }
            guard sessionFunctions else {
                return try await run(.tenant(scope), on: tenantPool, access: .readWrite, statementTimeout: nil, retry: .beforeBody, sandbox: nil,
                                     logger: logger,
                                     fallback)
            }
            return try await withLiveConnection(of: tenantPool, timeout: defaultTimeout, logger: logger) { [self] connection in
                try await write(scope, calling: function, values: values, decode: decode, orInTransaction: fallback, on: connection, logger: logger)
            }
        }
    }

    /// ``write(_:calling:values:decode:orInTransaction:logger:)`` on a given connection (the pool's, or a test's).
    func write<Result: Sendable>(
        _ scope: TenantScope, calling function: SessionFunctions.Function, values: [BoundStatement.Value],
        decode: ([PostgresRow]) throws -> Result, orInTransaction fallback: (ScopedConnection) async throws -> Result,
        on connection: PostgresConnection, logger: Logger
    ) async throws -> Result {
        let context = signer.context(for: scope.tenant, expiresAt: Date().addingTimeInterval(300))
        let call = BoundStatement(sql: function.call, values: values + [.text(context)])
        if sessionFunctions,
           let rows = try await SessionFunctions.shared.rows(of: call, function, timeoutMilliseconds: Self.milliseconds(defaultTimeout),
                                                             on: connection, logger: logger) {
            return try decode(rows)
        }
        return try await run(.tenant(scope), on: connection, access: .readWrite, statementTimeout: nil, logger: logger, fallback)
    }

    /// The rows of one writing `statement` that is the whole of its transaction, in a tenant's scope: one call of its
    /// write function (``ScopedWriteFunctions``, architecture decision 62), or a read-write scoped transaction where the
    /// helper or the connection runs transactions. `columnTypes` are the statement's own column types, exactly.
    func writeRows(_ scope: TenantScope, _ statement: BoundStatement, columnTypes: [String], logger: Logger) async throws -> [PostgresRow] {
        guard SessionFunctions.canHold(statement.sql) else {
            return try await run(.tenant(scope), access: .readWrite, logger: logger) { try await $0.query(statement).collect() }
        }
        return try await write(scope, calling: ScopedWriteFunctions.shared.function(for: statement, columnTypes: columnTypes),
                               values: statement.values, decode: { $0 }, orInTransaction: { try await $0.query(statement).collect() },
                               logger: logger)
    }

    static func milliseconds(_ timeout: Duration) -> String {
        "\(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)"
    }

    /// The replica failed as a dependency, not the read as a request: unavailable (but not a statement
    /// timeout, which the primary would meet too), or a query cancelled by a conflict with recovery (40001).
    static func isReplicaFailure(_ error: any Error) -> Bool {
        if let unavailable = error as? DatabaseUnavailable { return !unavailable.isStatementTimeout }
        if let error = error as? PSQLError, error.code == .server { return error.serverInfo?[.sqlState] == "40001" }
        return false
    }

    /// Runs one scoped transaction on a connection of `pool`.
    private func run<Result: Sendable>(
        _ scope: DataScope, on pool: DatabasePool, access: Access, statementTimeout: Duration?, retry: ReadRetry, sandbox: Sandbox?,
        planning: QueryPlanning = .forEachRun, logger: Logger, _ body: @escaping @Sendable (ScopedConnection) async throws -> Result
    ) async throws -> Result {
        let timeout = statementTimeout ?? defaultTimeout
        return try await withLiveConnection(of: pool, timeout: timeout, logger: logger) { [self] connection in
            try await run(scope, on: connection, access: access, statementTimeout: timeout, retry: retry, sandbox: sandbox, planning: planning,
                          logger: logger, body)
        }
    }

    /// Runs `work` on a connection of `pool`, bounded by `timeout` and the pool's grace. A request abandoned while it waited
    /// for the connection (cancelled, or its client gone) starts nothing on it.
    private func withLiveConnection<Result: Sendable>(
        of pool: DatabasePool, timeout: Duration, logger: Logger, _ work: @escaping @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await pool.withConnection(deadline: timeout + DatabasePool.grace, logger: logger) { connection in
            try Task.checkCancellation()
            guard ClientLiveness.current.isConnected else { throw ClientGone() }
            return try await work(connection)
        }
    }

    /// Runs `body` in one tenant's scope: the form every tenant store uses.
    public func run<Result: Sendable>(
        _ scope: TenantScope,
        access: Access = .readOnly,
        statementTimeout: Duration? = nil,
        logger: Logger,
        _ body: @escaping @Sendable (ScopedConnection) async throws -> Result
    ) async throws -> Result {
        try await run(.tenant(scope), access: access, statementTimeout: statementTimeout, logger: logger, body)
    }

    /// Runs one scoped transaction on a given connection (the pool's, or a test's), and once more if the server had
    /// forgotten a statement prepared there and `retry` allows it (``ReadRetry``). A read-only transaction plans its
    /// statements as `planning` says.
    func run<Result: Sendable>(
        _ scope: DataScope,
        on connection: PostgresConnection,
        access: Access,
        statementTimeout: Duration?,
        retry: ReadRetry = .beforeBody,
        sandbox: Sandbox? = nil,
        planning: QueryPlanning = .forEachRun,
        logger: Logger,
        isolation: isolated (any Actor)? = #isolation,
        _ body: (ScopedConnection) async throws -> Result
    ) async throws -> Result {
        var bodyStarted = false
        do {
            return try await runOnce(scope, on: connection, access: access, statementTimeout: statementTimeout, sandbox: sandbox,
                                     planning: planning, logger: logger) { scoped in
                bodyStarted = true
                return try await body(scoped)
            }
        } catch where PreparedStatements.serverForgotStatement(error) && (retry == .anywhere || !bodyStarted) {
            logger.notice("The server had forgotten a prepared statement; running the transaction again unprepared",
                          metadata: ["db.body_started": "\(bodyStarted)"])
            return try await runOnce(scope, on: connection, access: access, statementTimeout: statementTimeout, sandbox: sandbox,
                                     planning: planning, logger: logger, body)
        }
    }

    /// One scoped transaction on `connection`: the scope statement (lowered to `sandbox` when given, a tenant's read),
    /// `body`, `COMMIT`; `ROLLBACK` when anything throws.
    private func runOnce<Result: Sendable>(
        _ scope: DataScope,
        on connection: PostgresConnection,
        access: Access,
        statementTimeout: Duration?,
        sandbox: Sandbox?,
        planning: QueryPlanning,
        logger: Logger,
        isolation: isolated (any Actor)? = #isolation,
        _ body: (ScopedConnection) async throws -> Result
    ) async throws -> Result {
        let (context, role) = switch scope {
        case .tenant(let tenant):
            // The context outlives the transaction's start by a margin only; `now()` is the start time.
            (signer.context(for: tenant.tenant, expiresAt: Date().addingTimeInterval(300)), Self.tenantRole)
        case .platform:
            ("", Self.platformRole)
        }
        let timeout = statementTimeout ?? defaultTimeout
        let milliseconds = Self.milliseconds(timeout)
        precondition(sandbox == nil || (access == .readOnly && scope.tenant != nil), "only a tenant's read is lowered to the sandbox")
        let settingsSQL = switch (scope, sandbox) {
        case (.tenant, nil): Self.tenantSettings
        case (.tenant, _?): Self.sandboxSettings
        case (.platform, _): Self.platformSettings
        }
        let settings = BoundStatement(settingsSQL) { name in
            switch name {
            case "context": .text(context)
            case "write": .boolean(access == .readWrite)
            case "timeout": .text(milliseconds)
            case "plan_cache_mode": .text(access == .readOnly ? planning.planCacheMode : nil)
            case "role": .text(role)
            case "temp_file_limit": .text(sandbox?.tempFileLimit)
            case "work_mem": .text(sandbox?.workMem)
            case "sandbox_role": .text(Self.sandboxRole)
            default: preconditionFailure("the scope statement has no value for :\(name)")
            }
        }

        try await connection.query(access == .readOnly ? "BEGIN READ ONLY" : "BEGIN", logger: logger)
        do {
            // Prepared, like the served reports: it runs in every transaction (``PreparedStatements``). Collected: a
            // refusal of the tenant gate surfaces here, not as the next query's 25P02.
            _ = try await PreparedStatements.shared.rows(settings, on: connection, logger: logger)
            let result = try await body(ScopedConnection(scope: scope, connection: connection, logger: logger))
            // A statement's error comes with its rows: one whose rows nobody read (a `SELECT f()` run for its effect)
            // aborts the transaction silently, and COMMIT then answers ROLLBACK without an error. Never report a write
            // that was rolled back as done (decision 98); a read-only body may catch a statement's error on purpose and
            // answer from what it read before.
            let committed = try await connection.commitWasKept(logger: logger)
            guard committed || access == .readOnly else { throw TransactionRolledBack() }
            return result
        } catch {
            do {
                try await connection.query("ROLLBACK", logger: logger)
            } catch {
                // A connection that cannot roll back is in an unknown state: drop it rather than reuse it.
                logger.warning("Rollback failed; closing the connection", metadata: ["error": "\(String(reflecting: error))"])
                try? await connection.close()
            }
            throw error
        }
    }
}

/// Whether a replica read's body began, read after it failed.
private final class BodyStarted: Sendable {
    private let flag = Atomic<Bool>(false)
    func mark() { flag.store(true, ordering: .relaxed) }
    var value: Bool { flag.load(ordering: .relaxed) }
}
