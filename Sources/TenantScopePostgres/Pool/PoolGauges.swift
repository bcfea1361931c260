import CoreMetrics

/// How busy the pool is, counted by ``DatabasePool`` itself around each use (PostgresNIO's pool reports
/// neither): uses holding a connection, and uses waiting for one. Waiters above zero for long mean the
/// pool is too small for the load or queries are slow; they end as 503s at the acquire timeout.
struct PoolGauges: Sendable {
    let inUse: Meter
    let waiting: Meter

    init(factory: any MetricsFactory) {
        inUse = Meter(label: "tenantscope_db_pool_connections_in_use", factory: factory)
        waiting = Meter(label: "tenantscope_db_pool_waiters", factory: factory)
    }
}
