import HTTPTypes
import TenantScopeCore

/// The JSON shape of ``DataFreshness`` in report and SQL answers, and its response header.
struct FreshnessBody: Encodable {
    var source: String
    var replica: String?
    var lag_seconds: Double

    init(_ freshness: DataFreshness) {
        source = freshness.source.rawValue
        replica = freshness.replica
        lag_seconds = DataFreshness.rounded(freshness.lagSeconds)
    }

    /// `TenantScope-Freshness: primary` or `replica; name="replica-1"; lag=0.4`, on JSON and CSV answers alike.
    static let headerName = HTTPField.Name("TenantScope-Freshness")!
}
