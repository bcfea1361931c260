/// Who is asking: always the result of verifying a credential, never of reading a request parameter.
public enum Principal: Hashable, Sendable {
    /// A user of one tenant, from a tenant (embed/API) token or an LRS credential.
    case tenantUser(TenantUser)
    /// An operator of the platform, from a platform token. The only principal that may ask for cross-tenant scope.
    case platformAdmin(operator: String)

    /// The identity written to the audit log.
    public var auditName: String {
        switch self {
        case .tenantUser(let user): user.subject
        case .platformAdmin(let name): name
        }
    }
}

public struct TenantUser: Hashable, Sendable {
    public enum Role: String, Hashable, Sendable, CaseIterable {
        case viewer, admin
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
