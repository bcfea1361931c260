import Hummingbird
import TenantScopeCore
import TenantScopePostgres

/// `POST /api/v1/events`: product feature-usage events from the platform's backend, for the tenant of
/// the credential (an LRS key or a tenant admin token). They feed the platform's feature-adoption report.
struct EventRoutes {
    let store: FeatureEventStore
    let authenticator: WriterAuthenticator
    let maximumBodyBytes: Int

    struct Accepted: ResponseEncodable {
        var received: Int
        var stored: Int
    }

    func register(on router: Router<AppRequestContext>) {
        router.group("api/v1/events")
            .add(middleware: TenantParameterGuard())
            .add(middleware: authenticator)
            .post { request, context in
                let user = try XAPIRoutes.writer(context)
                let body = try await RequestBody.collect(request, limit: maximumBodyBytes)
                let events = try FeatureEventBatch.parse(body)
                let stored = try await store.store(events, tenant: user.tenant)
                return Accepted(received: events.count, stored: stored)
            }
    }
}
