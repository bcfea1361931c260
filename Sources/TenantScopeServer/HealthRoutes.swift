import Hummingbird
import TenantScopePostgres

/// `/healthz` (the process is up) and `/readyz` (the database is reachable and migrated).
struct HealthRoutes<Context: RequestContext> {
    struct Status: ResponseEncodable {
        var status: String
        var detail: String?
    }

    let database: Database

    func register(on router: Router<Context>) {
        router.get("healthz") { _, _ in
            Status(status: "ok", detail: nil)
        }
        router.get("readyz") { _, _ in
            let readiness = await database.readiness()
            return EditedResponse(
                status: readiness.ready ? .ok : .serviceUnavailable,
                response: Status(status: readiness.ready ? "ready" : "not ready", detail: readiness.detail)
            )
        }
    }
}
