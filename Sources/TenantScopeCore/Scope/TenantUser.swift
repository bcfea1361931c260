/// A user of one tenant, as a verified tenant token or LRS credential names them.
public struct TenantUser: Hashable, Sendable {
    public enum Role: String, Hashable, Sendable, CaseIterable {
        /// Reads dashboards and runs the catalog's reports.
        case viewer
        /// A viewer who may also ask their own questions: ad-hoc SQL over the semantic layer (`/api/v1/sql`,
        /// the MCP `run_sql` tool).
        case analyst
        /// Everything: writes, saved views, learner drill-downs, ad-hoc SQL.
        case admin

        /// Whether this role may do what `other` may: an admin may do everything; an analyst what a viewer may.
        public func includes(_ other: Role) -> Bool {
            self == .admin || self == other || other == .viewer
        }
    }

    public var subject: String
    public var tenant: TenantID
    public var role: Role
    /// Signed row attributes (e.g. `region`); reports that declare a matching filter apply them.
    public var attributes: [String: String]

    public init(subject: String, tenant: TenantID, role: Role, attributes: [String: String] = [:]) {
        self.subject = subject
        self.tenant = tenant
        self.role = role
        self.attributes = attributes
    }
}
