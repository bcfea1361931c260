import CoreMetrics
import HTTPTypes

/// What the LRS counts of statement writes (POST and PUT `/xAPI/statements`), over all tenants together.
struct IngestMetrics: Sendable {
    static let batchSizeLabel = "tenantscope_xapi_batch_size"

    let factory: any MetricsFactory
    /// Statements stored for the first time (a statement sent again, identical, is not counted twice).
    let ingested: Counter
    /// Statements per accepted batch.
    let batchSize: Recorder

    init(factory: any MetricsFactory) {
        self.factory = factory
        ingested = Counter(label: "tenantscope_xapi_statements_ingested_total", factory: factory)
        batchSize = Recorder(label: Self.batchSizeLabel, factory: factory)
    }

    func accepted(batch: Int, new: Int) {
        batchSize.record(batch)
        ingested.increment(by: new)
    }

    /// A write refused as a whole (invalid, too large, conflicting, not allowed): nothing of it was
    /// stored. Counted by request, since an unparsable body has no statement count.
    func refused(status: HTTPResponse.Status) {
        Counter(label: "tenantscope_xapi_batches_refused_total", dimensions: [("status", String(status.code))], factory: factory).increment()
    }
}
