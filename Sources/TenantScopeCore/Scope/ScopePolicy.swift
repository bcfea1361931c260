/// The one place that decides which data a request, a job or a command may see.
///
/// Every ``DataScope`` is made here. Routes reach it through the server's scope middleware, which also
/// writes the audit row of a refusal; background work and operator commands name their job.
public enum ScopePolicy {
    /// Maps principal × surface to a scope: a tenant user gets their own tenant on the tenant surface,
    /// a platform admin gets the platform scope on the platform surface, and nothing else is allowed.
    public static func scope(for principal: Principal, on surface: Surface, purpose: String) throws(ScopeRefusal) -> DataScope {
        switch (principal, surface) {
        case (.tenantUser(let user), .tenant):
            return .tenant(TenantScope(tenant: user.tenant, actor: user.subject, role: user.role, attributes: user.attributes))
        case (.platformAdmin(let person), .platform):
            return .platform(PlatformScope(operatorName: person.name))
        case (.tenantUser, .platform), (.platformAdmin, .tenant):
            throw ScopeRefusal(principal: principal, surface: surface, purpose: purpose)
        }
    }

    /// A platform operator previewing one tenant's dashboard exactly as that tenant's users see it.
    /// The caller audits the preview; the scope is the tenant's, with no row attributes.
    public static func preview(by platform: PlatformScope, of tenant: TenantID) -> TenantScope {
        TenantScope(tenant: tenant, actor: "preview:\(platform.operatorName)", role: .viewer)
    }

    /// The tenant that created a shared link, for whoever opens it. `tenant` must come from the link's
    /// verified signature and the private link index, never from the request.
    public static func sharedLink(of tenant: TenantID) -> TenantScope {
        TenantScope(tenant: tenant, actor: "shared-link", role: .viewer)
    }

    /// Background work and operator commands on one tenant (roll-ups, demo data, `report run`). `job`
    /// names the work in logs; `tenant` comes from the tenant directory.
    public static func maintenance(of tenant: TenantID, job: String) -> TenantScope {
        TenantScope(tenant: tenant, actor: "system:\(job)", role: .admin)
    }

    /// An operator command's cross-tenant scope (`report run --platform`), audited like a request.
    public static func platformCommand(operator name: String) -> PlatformScope {
        PlatformScope(operatorName: name)
    }
}

extension ScopePolicy {
    /// An export job, run in the background for whoever requested it: the job's tenant (read from the job
    /// row in that tenant's scope), with the requester's role and signed row attributes as recorded when
    /// the job was created, so an export shows exactly what its requester could see.
    public static func exportJob(of tenant: TenantID, requestedBy: String, role: TenantUser.Role, attributes: [String: String]) -> TenantScope {
        TenantScope(tenant: tenant, actor: "export:\(requestedBy)", role: role, attributes: attributes)
    }

    /// Whoever opens a signed export download link. `tenant` must come from the link's verified signature.
    public static func exportLink(of tenant: TenantID) -> TenantScope {
        TenantScope(tenant: tenant, actor: "export-link", role: .viewer)
    }

    /// A platform operator acting for one tenant (creating or reading its exports), audited as such.
    public static func actingFor(_ tenant: TenantID, by platform: PlatformScope) -> TenantScope {
        TenantScope(tenant: tenant, actor: "operator:\(platform.operatorName)", role: .admin)
    }
}
