/// One report, declared as data: what it is called, who may run it, what it takes and returns, and its SQL.
///
/// SQL refers to parameters as `:name` (bound, never spliced) and to the caller's signed row attributes as
/// `:attr_<name>` (bound as NULL when the token carries none). Tenant SQL runs under the tenant role and
/// row-level security; platform SQL runs under the platform role, which can read roll-ups and the
/// directory only.
public struct ReportDefinition: Sendable, Hashable {
    public enum Surface: String, Sendable, Hashable, Codable {
        case tenant, platform, both
    }

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

    /// One runnable variant: the SQL and the row it returns.
    public struct Query: Sendable, Hashable {
        public var sql: String
        public var fields: [Field]

        public init(sql: String, fields: [Field]) {
            self.sql = sql
            self.fields = fields
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

    public init(
        name: String, title: String, summary: String, parameters: [ReportParameter] = [],
        attributeFilters: [String] = [], tenantQuery: Query? = nil, platformQuery: Query? = nil
    ) {
        self.name = name
        self.title = title
        self.summary = summary
        self.parameters = parameters
        self.attributeFilters = attributeFilters
        self.tenantQuery = tenantQuery
        self.platformQuery = platformQuery
    }

    public var surface: Surface {
        switch (tenantQuery != nil, platformQuery != nil) {
        case (true, true): .both
        case (false, true): .platform
        default: .tenant
        }
    }
}
