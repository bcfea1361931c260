/// Who is asking: always the result of verifying a credential, never of reading a request parameter.
public enum Principal: Hashable, Sendable {
    /// A user of one tenant, from a tenant (embed/API) token or an LRS credential.
    case tenantUser(TenantUser)
    /// An operator of the platform, from a platform token. The only principal that may ask for cross-tenant scope.
    case platformAdmin(PlatformOperator)

    /// A platform operator by name.
    public static func platformAdmin(operator name: String) -> Principal {
        .platformAdmin(PlatformOperator(name: name))
    }

    /// The surface the credential was issued for.
    public var surface: Surface {
        switch self {
        case .tenantUser: .tenant
        case .platformAdmin: .platform
        }
    }

    /// The identity written to the audit log.
    public var auditName: String {
        switch self {
        case .tenantUser(let user): user.subject
        case .platformAdmin(let person): person.name
        }
    }

    /// The audit log's `actor_kind` for this principal.
    public var auditKind: String {
        switch self {
        case .tenantUser: "tenant_user"
        case .platformAdmin: "platform_admin"
        }
    }
}
