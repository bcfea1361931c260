import Logging
import TenantScopeCore

/// The server login's pool of every cluster, the pool's first: what work over every tenant reads (the
/// roll-up service's queue, the export worker's pending work, report-cache watermarks, shared links).
public struct ClusterPools: Sendable {
    /// This database's.
    let control: (name: ClusterName, pool: DatabasePool)
    /// The dedicated clusters, read at each use: one added since start-up is in once it is open.
    let dedicated: DedicatedClusters?

    public var pools: [(name: ClusterName, pool: DatabasePool)] {
        [control] + (dedicated?.all.map { ($0.cluster, $0.pool) } ?? [])
    }

    /// `read` on each cluster in turn, the answers joined. A cluster that cannot answer is logged, handed to
    /// `failed`, and left out: it holds up only its own tenants. When none answers, the first failure is thrown.
    func collect<Element>(_ what: String, logger: Logger, failed: (ClusterName) -> Void = { _ in },
                          _ read: (DatabasePool) async throws -> [Element]) async throws -> [Element] {
        var elements: [Element] = []
        var failure: (any Error)?
        var answered = false
        for (name, pool) in pools {
            do {
                elements += try await read(pool)
                answered = true
            } catch {
                failed(name)
                logger.warning("A cluster's \(what) could not be read", metadata: ["db.cluster": "\(name)", "error.type": "\(type(of: error))"])
                failure = failure ?? error
            }
        }
        if !answered, let failure { throw failure }
        return elements
    }
}
