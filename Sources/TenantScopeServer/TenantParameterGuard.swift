import HTTPTypes
import Hummingbird
import TenantScopeCore

/// Refuses any request that tries to name a tenant (query parameter or header): 400.
///
/// Added once, for the whole router (docs/security.md, "Where the tenant comes from"): the tenant comes
/// only from the verified credential. Refusing rather than ignoring makes a client that tries it find
/// out at once.
struct TenantParameterGuard<Context: RequestContext>: RouterMiddleware {
    static var tenantHeaders: [HTTPField.Name] {
        ["X-Tenant", "X-Tenant-ID", "X-Tenant-Slug", "X-Org", "X-Org-ID", "X-Organization", "X-Organization-ID", "Tenant", "Tenant-ID",
         "Organization"].compactMap { HTTPField.Name($0) }
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        for (name, _) in try QueryParameters.pairs(of: request) where ReportRequest.tenantParameterNames.contains(name.lowercased()) {
            throw TenantScopeError.invalidInput("the tenant comes from your token; the parameter '\(name)' is not accepted")
        }
        for name in Self.tenantHeaders where request.headers[name] != nil {
            throw TenantScopeError.invalidInput("the tenant comes from your token; the header '\(name)' is not accepted")
        }
        return try await next(request, context)
    }
}
