import Hummingbird
import TenantScopeCore
import TenantScopePostgres

/// `/healthz` (the process is up) and `/readyz` (the database is reachable and migrated).
struct HealthRoutes<Context: RequestContext> {
    struct Status: ResponseEncodable {
        var status: String
        var detail: String?
        /// Each read replica's state: for the operator, not for readiness (reads fall back to the primary).
        var replicas: [Replica]?
        /// Each dedicated cluster's state: for the operator, not for readiness (only its own tenants need it).
        var clusters: [Cluster]?
    }

    struct Cluster: Encodable {
        var name: String
        var ready: Bool
        var detail: String
    }

    struct Replica: Encodable {
        var name: String
        var usable: Bool
        var lag_seconds: Double?
        var problem: String?
    }

    let database: Database

    func register(on router: Router<Context>) {
        router.get("healthz") { _, _ in
            Status(status: "ok", detail: nil, replicas: nil, clusters: nil)
        }
        router.get("readyz") { _, _ in
            async let clusters = clusters()
            let readiness = await database.readiness()
            return EditedResponse(
                status: readiness.ready ? .ok : .serviceUnavailable,
                response: Status(status: readiness.ready ? "ready" : "not ready", detail: readiness.detail, replicas: replicas(),
                                 clusters: await clusters)
            )
        }
    }

    /// The dedicated clusters' readiness, each asked at once within the same bound as the pool's.
    private func clusters() async -> [Cluster]? {
        let dedicated = database.clusters.dropFirst()
        guard !dedicated.isEmpty else { return nil }
        return await withTaskGroup(of: Cluster.self) { group in
            for cluster in dedicated {
                group.addTask {
                    let readiness = await cluster.readiness()
                    return Cluster(name: cluster.cluster.rawValue, ready: readiness.ready, detail: readiness.detail)
                }
            }
            var clusters: [Cluster] = []
            for await cluster in group { clusters.append(cluster) }
            return clusters.sorted { $0.name < $1.name }
        }
    }

    private func replicas() -> [Replica]? {
        guard let set = database.replicas else { return nil }
        let bound = set.maximumLag.inSeconds
        return set.replicas.map { replica in
            let measurement = replica.measurement
            let lag = measurement.lagSeconds.map(DataFreshness.rounded)
            // A sit-out after a failed read outlasts the probe's good measurement: say so, or `usable: false` has no reason.
            let problem = measurement.problem ?? (lag.map { $0 > bound } == true ? "more than \(bound) s behind" : nil)
                ?? (replica.isSittingOut() ? "skipped for a while after a failed read" : nil)
            return Replica(name: replica.name, usable: set.isUsable(replica), lag_seconds: lag, problem: problem)
        }
    }
}
