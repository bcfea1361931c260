import Hummingbird
import TenantScopeCore
import TenantScopePostgres

/// `DELETE /api/v1/platform/tenants/{slug}?confirm={slug}`: a platform admin removes a tenant and
/// everything it owns. Audited either way; a tenant token gets an audited 403.
struct PlatformTenantRoutes {
    let directory: TenantDirectory
    let audit: AuditLog
    let verifier: TokenVerifier

    struct Deleted: ResponseEncodable {
        var deleted: String
        var tenant_id: String
    }

    func register(on router: Router<AppRequestContext>) {
        router.group("api/v1/platform/tenants")
            .add(middleware: BearerAuthenticator(verifier: verifier, surface: .platform))
            .delete(":slug") { request, context in
                let principal = try context.requirePrincipal()
                guard case .platformAdmin = principal else {
                    if case .tenantUser(let user) = principal {
                        try await audit.append(.init(principal: principal, scopeTenant: user.tenant, action: "platform_scope_refused",
                                                     parameters: ["operation": "tenant_delete"], outcome: "refused"))
                    }
                    throw TenantScopeError.forbidden("deleting a tenant needs a platform-admin token")
                }
                let slug = try TenantSlug(try context.parameters.require("slug"))
                guard request.uri.queryParameters["confirm"].map(String.init) == slug.rawValue else {
                    throw TenantScopeError.invalidInput("confirm the deletion by repeating the slug: ?confirm=\(slug)")
                }
                guard let tenant = try await directory.delete(slug: slug) else {
                    throw TenantScopeError.notFound("no tenant with the slug '\(slug)'")
                }
                try await audit.append(.init(principal: principal, scopeTenant: tenant.id, action: "tenant_deleted",
                                             parameters: ["slug": slug.rawValue], outcome: "ok"))
                return Deleted(deleted: slug.rawValue, tenant_id: tenant.id.description)
            }
    }
}
