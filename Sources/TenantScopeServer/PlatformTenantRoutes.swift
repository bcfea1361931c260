import Hummingbird
import TenantScopeCore
import TenantScopePostgres

/// Platform administration of one tenant; a tenant token gets an audited 403 from the scope policy.
///
/// - `DELETE /api/v1/platform/tenants/{slug}?confirm={slug}`: removes a tenant and everything it owns, its
///   export files included. Audited.
/// - `GET /api/v1/platform/tenants/{slug}/custom-reports`: the tenant's custom reports — name, title, state,
///   authors, the SQL's SHA-256 — never their SQL text (it may hold the tenant's values) nor their rows: an
///   operator runs one only by previewing the tenant's dashboard, which is audited. Audited.
struct PlatformTenantRoutes {
    let directory: TenantDirectory
    let audit: AuditLog
    let authenticator: BearerAuthenticator
    /// Where the tenant's export files are (the rows go with the tenant; the files are removed here).
    var exportStore: (any ExportObjectStore)?
    /// This process's cache of accepted LRS credentials, emptied of the tenant's keys on deletion.
    var lrsCredentials: LRSCredentialCache?
    /// Where the tenant's custom reports are listed from.
    var customReports: CustomReportStore?

    struct Deleted: ResponseEncodable {
        var deleted: String
        var tenant_id: String
    }

    /// A tenant's custom reports as the platform sees them: everything but the SQL text (and never rows).
    struct CustomReports: ResponseEncodable {
        var tenant: String
        var reports: [CustomReportRoutes.Item]
    }

    func register(on router: Router<AppRequestContext>) {
        let group = router.platformRoutes("api/v1/platform/tenants", authenticator: authenticator, purpose: "tenant administration routes",
                                          audit: audit)
        group.get(":slug/custom-reports") { request, context in
            try QueryParameters.requireNone(in: request)
            guard let customReports else { throw TenantScopeError.notFound("custom reports are not served here") }
            let slug = try TenantSlug(try context.parameters.require("slug"))
            guard let tenant = try await directory.find(slug: slug, logger: context.logger) else {
                throw TenantScopeError.notFound("no tenant with the slug '\(slug)'")
            }
            // Read in the tenant's own scope, as a preview is, and cut down to what the platform may see.
            let reports = try await customReports.reports(in: ScopePolicy.preview(by: context.scope, of: tenant.id), logger: context.logger)
            try await audit.append(.init(principal: context.principal, scopeTenant: tenant.id, action: "tenant_custom_reports_listed",
                                         parameters: ["slug": slug.rawValue], rowCount: reports.count, outcome: "ok"), logger: context.logger)
            return CustomReports(tenant: slug.rawValue, reports: reports.map { CustomReportRoutes.Item($0, includesSQL: false) })
        }
        group.delete(":slug") { request, context in
                let slug = try TenantSlug(try context.parameters.require("slug"))
                // A refused deletion is on record as a done one is (probe 38: only a tenant token's 403 was): who tried,
                // which slug, why. Nothing of it was deleted.
                func refused(_ outcome: String, tenant: TenantID?, _ error: TenantScopeError) async throws -> TenantScopeError {
                    try await audit.append(.init(principal: context.principal, scopeTenant: tenant, action: "tenant_deleted",
                                                 parameters: ["slug": slug.rawValue], outcome: outcome), logger: context.logger)
                    return error
                }
                let found = try await directory.find(slug: slug, logger: context.logger)
                // Exactly one confirm, and nothing else: a deletion is not the place to guess which of two values counts.
                let confirm: String?
                do {
                    confirm = try DocumentQuery.unique(QueryParameters.pairs(of: request), allowed: ["confirm"])["confirm"]
                } catch let error as TenantScopeError {
                    throw try await refused("invalid", tenant: found?.id, error)
                }
                guard confirm == slug.rawValue else {
                    throw try await refused("invalid", tenant: found?.id,
                                            .invalidInput("confirm the deletion by repeating the slug: ?confirm=\(slug)"))
                }
                guard let found else {
                    throw try await refused("not_found", tenant: nil, .notFound("no tenant with the slug '\(slug)'"))
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
                // And again once its rows are gone: an export that finished while the files went was uploaded after
                // them, and its job row, the one thing that pointed at it, went with the tenant. The tenant is deleted
                // whatever this does: a store that fails now (it answered a moment ago) is logged, not the answer.
                do {
                    try await exportStore?.removeAll(of: tenant.id, logger: context.logger)
                } catch {
                    context.logger.error("A deleted tenant's export files could not be removed again; remove its prefix from the store",
                                         metadata: ["tenant.id": "\(tenant.id)", "error.type": "\(type(of: error))"])
                }
                return Deleted(deleted: slug.rawValue, tenant_id: tenant.id.description)
            }
    }
}
