import CoreMetrics

/// What the roll-up service reports about itself, over all tenants together (no tenant is ever a label):
/// passes and failed passes, and the backlog each pass found when it began.
struct RollupMetrics: Sendable {
    let passes: Counter
    let failures: Counter
    /// Actors queued by ingest for derivation (`app.learning_facts_queue` rows), summed over tenants.
    let queueDepth: Gauge
    /// How long the oldest statement not yet in a tenant's roll-ups has waited, the largest over tenants.
    let lagSeconds: Gauge

    init(factory: any MetricsFactory) {
        passes = Counter(label: "tenantscope_rollup_passes_total", factory: factory)
        failures = Counter(label: "tenantscope_rollup_failures_total", factory: factory)
        queueDepth = Gauge(label: "tenantscope_derivation_queue_depth", factory: factory)
        lagSeconds = Gauge(label: "tenantscope_rollup_lag_seconds", factory: factory)
    }
}
