import Hummingbird
import TenantScopeCore
import TenantScopePostgres

/// `DELETE /api/v1/platform/tenants/{slug}?confirm={slug}`: a platform admin removes a tenant and
/// everything it owns, its export files included. Audited; a tenant token gets an audited 403 from the scope policy.
struct PlatformTenantRoutes {
    let directory: TenantDirectory
    let audit: AuditLog
    let authenticator: BearerAuthenticator
    /// Where the tenant's export files are (the rows go with the tenant; the files are removed here).
    var exportStore: (any ExportObjectStore)?
    /// This process's cache of accepted LRS credentials, emptied of the tenant's keys on deletion.
    var lrsCredentials: LRSCredentialCache?

    struct Deleted: ResponseEncodable {
        var deleted: String
        var tenant_id: String
    }

    func register(on router: Router<AppRequestContext>) {
        router.platformRoutes("api/v1/platform/tenants", authenticator: authenticator, purpose: "tenant administration routes", audit: audit)
            .delete(":slug") { request, context in
                let slug = try TenantSlug(try context.parameters.require("slug"))
                guard try QueryParameters.pairs(of: request).first(where: { $0.0 == "confirm" })?.1 == slug.rawValue else {
                    throw TenantScopeError.invalidInput("confirm the deletion by repeating the slug: ?confirm=\(slug)")
                }
                guard let found = try await directory.find(slug: slug, logger: context.logger) else {
                    throw TenantScopeError.notFound("no tenant with the slug '\(slug)'")
                }
                // Files first: should the store be unavailable (503), the tenant is still there and the
                // request can be repeated; the other way round its files would be left with nothing pointing at them.
                try await exportStore?.removeAll(of: found.id, logger: context.logger)
                guard let tenant = try await directory.delete(slug: slug, logger: context.logger) else {
                    throw TenantScopeError.notFound("no tenant with the slug '\(slug)'")
                }
                await lrsCredentials?.forget(tenant: tenant.id)
                try await audit.append(.init(principal: context.principal, scopeTenant: tenant.id, action: "tenant_deleted",
                                             parameters: ["slug": slug.rawValue], outcome: "ok"), logger: context.logger)
                return Deleted(deleted: slug.rawValue, tenant_id: tenant.id.description)
            }
    }
}
