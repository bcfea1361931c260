import CoreMetrics

/// How busy the pool is, counted by ``DatabasePool`` itself around each use (PostgresNIO's pool reports
/// neither): uses holding a connection, and uses waiting for one. Waiters above zero for long mean the
/// pool is too small for the load or queries are slow; they end as 503s at the acquire timeout.
struct PoolGauges: Sendable {
    let inUse: Meter
    let waiting: Meter

    /// `prefix` names the family: the primary's pools share `tenantscope_db_pool`; a read replica's pools
    /// are `tenantscope_db_replica_pool` with a `replica` label (Prometheus cannot mix labelled and
    /// unlabelled series in one family).
    init(factory: any MetricsFactory, prefix: String = "tenantscope_db_pool", dimensions: [(String, String)] = []) {
        inUse = Meter(label: "\(prefix)_connections_in_use", dimensions: dimensions, factory: factory)
        waiting = Meter(label: "\(prefix)_waiters", dimensions: dimensions, factory: factory)
    }
}
