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

    /// The same members for the core JSON writer (a report's answer, ``ReportResponse``), a replica's name only when a
    /// replica answered.
    var json: JSONValue {
        var members = JSONObject(minimumCapacity: 3)
        members["source"] = .string(source)
        if let replica { members["replica"] = .string(replica) }
        members["lag_seconds"] = .encoderStyleNumber(lag_seconds)
        return .object(members)
    }

    /// `TenantScope-Freshness: primary` or `replica; name="replica-1"; lag=0.4`, on JSON and CSV answers alike.
    static let headerName = HTTPField.Name("TenantScope-Freshness")!
}
