import Hummingbird
import TenantScopeCore
import TenantScopePostgres

/// `POST /api/v1/events`: product feature-usage events from the platform's backend, for the tenant of
/// the credential (an LRS key or a tenant admin token). They feed the platform's feature-adoption report.
struct EventRoutes {
    let store: FeatureEventStore
    let authenticator: LRSAuthenticator
    let audit: AuditLog
    let maximumBodyBytes: Int
    /// The tenant's rate (``TenantLimitMiddleware``); nil applies none.
    var limits: TenantLimitEnforcer? = nil

    struct Accepted: ResponseEncodable {
        var received: Int
        var stored: Int
    }

    func register(on router: Router<AppRequestContext>) {
        router.tenantRoutes("api/v1/events", authenticator: authenticator, purpose: "product events", audit: audit, limits: limits, work: .ingest)
            .post { request, context in
                try context.require(.admin, "sending product events needs an LRS credential or a tenant admin token")
                let body = try await RequestBody.collect(request, limit: maximumBodyBytes)
                let events = try FeatureEventBatch.parse(body)
                try await limits?.chargeBatch(of: context.scope.tenant, items: events.count, note: context.rateLimit, logger: context.logger)
                let stored = try await store.store(events, in: context.scope, logger: context.logger)
                return Accepted(received: events.count, stored: stored)
            }
    }
}
