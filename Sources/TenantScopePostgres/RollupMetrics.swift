import CoreMetrics

/// What the roll-up service reports about itself, over all tenants together (no tenant is ever a label):
/// passes and failed passes, and the backlog each pass found when it began.
struct RollupMetrics: Sendable {
    let passes: Counter
    let failures: Counter
    /// Actors queued by ingest for derivation and not yet derived (in `app.learning_facts_queue`: one row per
    /// batch holds its actors), counted once per batch that queued them, summed over tenants.
    let derivationQueueDepth: Gauge
    /// Per-actor day counts queued by ingest and not yet added to the roll-ups (in `app.rollup_queue`: one row
    /// per batch and day holds them), and days queued to recount whole, summed over tenants.
    let rollupQueueDepth: Gauge
    /// How long the oldest queued work has waited, the largest over tenants (0 when caught up).
    let lagSeconds: Gauge
    /// Tenant catch-ups: a pass catches up only the tenants with queued work, so at rest this stays still.
    let tenantCatchUps: Counter

    init(factory: any MetricsFactory) {
        passes = Counter(label: "tenantscope_rollup_passes_total", factory: factory)
        failures = Counter(label: "tenantscope_rollup_failures_total", factory: factory)
        derivationQueueDepth = Gauge(label: "tenantscope_derivation_queue_depth", factory: factory)
        rollupQueueDepth = Gauge(label: "tenantscope_rollup_queue_depth", factory: factory)
        lagSeconds = Gauge(label: "tenantscope_rollup_lag_seconds", factory: factory)
        tenantCatchUps = Counter(label: "tenantscope_rollup_tenant_catchups_total", factory: factory)
    }
}
