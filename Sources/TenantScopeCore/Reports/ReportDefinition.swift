/// One report, declared as data: what it is called, who may run it, what it takes and returns, and its SQL.
///
/// SQL refers to parameters as `:name` (bound, never spliced) and to the caller's signed row attributes as
/// `:attr_<name>` (bound as NULL when the token carries none). Tenant SQL runs under the tenant role and
/// row-level security; platform SQL runs under the platform role, which can read roll-ups and the
/// directory only.
public struct ReportDefinition: Sendable, Hashable {
    /// Whose data a column describes.
    public enum FieldScope: String, Sendable, Hashable, Codable {
        /// A label that belongs to no tenant (a day, a feature key, a bucket).
        case dimension
        /// A value of one tenant (its name, its learner count).
        case perTenant = "per_tenant"
        /// A value over several tenants (a total, a share of tenants).
        case crossTenant = "cross_tenant"
    }

    public enum FieldType: String, Sendable, Hashable, Codable {
        case text, integer, number, date
    }

    public struct Field: Sendable, Hashable {
        public var name: String
        public var type: FieldType
        public var scope: FieldScope
        public var title: String

        public init(_ name: String, _ type: FieldType, _ scope: FieldScope, _ title: String) {
            self.name = name
            self.type = type
            self.scope = scope
            self.title = title
        }
    }

    /// Where a query's answer comes from (the seed: hot queries from daily roll-ups, cold ones from raw tables).
    public enum Source: Sendable, Hashable {
        /// `sql` reads roll-ups for complete days and raw tables for what they do not cover yet (today);
        /// `cold` computes the same answer from the raw tables only. A property test holds them equal.
        case rollups(cold: String)
        /// `sql` reads raw tables only: a cold-only report.
        case rawOnly
        /// `sql` reads roll-ups only: the platform surface, which may not read raw tenant data at all.
        case rollupsOnly
    }

    /// One runnable variant: the SQL, where it reads from, and the row it returns.
    public struct Query: Sendable, Hashable {
        public var sql: String
        public var fields: [Field]
        public var source: Source
        /// How `sql` is planned; `coldSQL` of a roll-up report is always planned for each run's values.
        public var planning: QueryPlanning

        public init(sql: String, fields: [Field], source: Source = .rawOnly, planning: QueryPlanning = .forEachRun) {
            self.sql = sql
            self.fields = fields
            self.source = source
            self.planning = planning
        }

        /// The raw-tables SQL: `cold` for a roll-up report, `sql` itself for a cold-only one.
        public var coldSQL: String? {
            switch source {
            case .rollups(let cold): cold
            case .rawOnly: sql
            case .rollupsOnly: nil
            }
        }
    }

    public var name: String
    public var title: String
    public var summary: String
    public var parameters: [ReportParameter]
    /// User attributes (from the token's `user_attributes`) this report filters rows by.
    public var attributeFilters: [String]
    public var tenantQuery: Query?
    public var platformQuery: Query?
    /// The least tenant role that may run the report (nil: any tenant user). Learner-level reports,
    /// which name people, are for admins; previews and shared links act as viewers and never see them.
    public var minimumRole: TenantUser.Role?

    public init(
        name: String, title: String, summary: String, parameters: [ReportParameter] = [],
        attributeFilters: [String] = [], tenantQuery: Query? = nil, platformQuery: Query? = nil,
        minimumRole: TenantUser.Role? = nil
    ) {
        self.name = name
        self.title = title
        self.summary = summary
        self.parameters = parameters
        self.attributeFilters = attributeFilters
        self.tenantQuery = tenantQuery
        self.platformQuery = platformQuery
        self.minimumRole = minimumRole
    }

    /// Whether a tenant user with `role` may run the report.
    public func allows(_ role: TenantUser.Role) -> Bool {
        minimumRole.map { role.includes($0) } ?? true
    }

    /// The surfaces that can run this report: those it has a query for.
    public var surfaces: Set<Surface> {
        Set(Surface.allCases.filter { query(on: $0) != nil })
    }

    /// The query for one surface, or nil when the report does not run there.
    public func query(on surface: Surface) -> Query? {
        switch surface {
        case .tenant: tenantQuery
        case .platform: platformQuery
        }
    }
}
