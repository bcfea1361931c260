import HTTPTypes
import Hummingbird
import TenantScopeCore

/// Applies the tenant's limits to a tenant route group: a token from the tenant's bucket for the surface
/// (waited for within the rate wait, else 429; `RateLimit` fields on every answer), and, for report work, a
/// slot in the tenant's queue and in its tier's connection budget.
struct TenantLimitMiddleware: RouterMiddleware {
    typealias Context = TenantRequestContext

    /// What the routes of a group do, for their limits.
    enum Work: Sendable {
        /// Reports, SQL, MCP, custom reports, dashboards: the API rate, the tenant's queue, the tier's budget.
        case queries
        /// Other API routes (exports, schedules, saved views, erasure): the API rate.
        case api
        /// The LRS (xAPI statements and documents, product events): the LRS rate.
        case ingest

        var surface: TenantLimits.Surface { self == .ingest ? .ingest : .api }
    }

    let enforcer: TenantLimitEnforcer
    let work: Work

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await enforcer.limited(context.scope.tenant, work: work, note: context.rateLimit, logger: context.logger) {
                try await next(request, context)
            }
        } catch let refusal as RateLimited {
            // The request's own charge, or a batch's, refused it: its answer carries the fields of that charge already.
            throw refusal
        } catch where !DashboardRoutes.isPage(request.uri.path) {
            // A refusal by the handler (400, 404, 409, ...) or the queue still spent the request's unit: its
            // answer says what is left, like a success's. Pages are left to PageMiddleware, which turns an
            // error into an HTML page for a person, who reads no RateLimit fields.
            response = try ErrorMiddleware<Context>.response(for: error, request: request, context: context)
        }
        if let fields = context.rateLimit.fields { response.headers.append(contentsOf: fields) }
        return response
    }
}
