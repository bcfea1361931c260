import HTTPTypes
import Hummingbird
import TenantScopeCore

/// Applies the tenant's limits to a tenant route group: a token from the tenant's bucket for the surface
/// (429 when it is empty, `RateLimit` fields on every answer), and, for report work, a slot in the tenant's
/// queue and in its tier's connection budget.
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
        let tenant = context.scope.tenant
        let limits = await enforcer.limits.limits(for: tenant, logger: context.logger)
        var fields = HTTPFields()
        if let policy = limits.rate(for: work.surface) {
            let decision = enforcer.rates.take(tenant, on: work.surface, policy: policy)
            fields = RateLimitFields.fields(work.surface, policy: policy, decision: decision)
            guard decision.allowed else {
                context.logger.info("Tenant request rate used up", metadata: ["limit.surface": "\(work.surface.rawValue)", "limit.tier": "\(limits.tier)"])
                throw RateLimited(surface: work.surface, fields: fields, retryAfterSeconds: max(1, Int(decision.retryAfter.rounded(.up))))
            }
        }
        var response = work == .queries
            ? try await enforcer.runQueued(tenant, limits: limits) { try await next(request, context) }
            : try await next(request, context)
        response.headers.append(contentsOf: fields)
        return response
    }
}
