import CoreMetrics
import Prometheus

/// Where the server's metrics go: one Prometheus registry, which `/metrics` renders, and the factory
/// that every metric of this server (requests, ingest, roll-ups, the pool) is made from.
///
/// The factory is passed to each component rather than read from the global `MetricsSystem`: the
/// command line bootstraps the global system once with this same factory (for metrics of libraries),
/// while tests give each server a registry of its own and so can assert exact counts while other
/// suites run in parallel in the same process.
public struct ServerMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    public let factory: PrometheusMetricsFactory

    /// Request durations in seconds: fine below 100 ms, where this server's requests mostly are, up to
    /// the 30 s statement timeout.
    static let durationBuckets: [Duration] = [
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
        .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30),
    ]
    /// Statements per batch: single statements up to the large batches bulk loaders send.
    static let batchSizeBuckets: [Double] = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000]

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets = [RequestTelemetryMiddleware<AppRequestContext>.durationLabel: Self.durationBuckets]
        factory.valueHistogramBuckets = [IngestMetrics.batchSizeLabel: Self.batchSizeBuckets]
        self.factory = factory
    }

    /// The registry in the Prometheus text format (version 0.0.4).
    public func render() -> String {
        registry.emitToString()
    }
}
