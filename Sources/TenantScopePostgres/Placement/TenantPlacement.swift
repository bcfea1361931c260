import Synchronization
import TenantScopeCore

/// Which cluster holds each tenant, as the server last read it from the control database (architecture
/// decision 49).
///
/// The credential state carries every live tenant's cluster and replaces this map with each load (every
/// second in the server), so placement is exactly as fresh as the tenant list a credential is checked
/// against. A tenant the map does not know yet (created since the last load, or a command that loads no
/// credential state) is looked up once by ``ClusterRouter``.
public final class TenantPlacement: Sendable {
    private let clusters = Mutex<[TenantID: ClusterName]>([:])

    public init() {}

    /// The tenant's cluster, or nil when the map does not know the tenant.
    public func cluster(of tenant: TenantID) -> ClusterName? {
        clusters.withLock { $0[tenant] }
    }

    /// Replaces the whole map with a fresh load.
    public func replace(with loaded: [TenantID: ClusterName]) {
        clusters.withLock { $0 = loaded }
    }

    /// Forgets one tenant's cluster: the next transaction looks it up (the gate found its data elsewhere).
    public func forget(_ tenant: TenantID) {
        clusters.withLock { $0[tenant] = nil }
    }

    /// Records one tenant's cluster (a lookup, or a tenant this process just placed).
    public func record(_ tenant: TenantID, on cluster: ClusterName) {
        clusters.withLock { $0[tenant] = cluster }
    }
}
