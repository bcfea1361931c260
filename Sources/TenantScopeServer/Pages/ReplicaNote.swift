import TenantScopePostgres

/// The line a page adds to its footer when a read replica answered any of its reports.
enum ReplicaNote {
    /// The most any of `results`' replicas was behind the primary; nil when the primary answered them all.
    static func lag(of results: [ReportResult]) -> Double? {
        results.map(\.freshness).filter { $0.source == .replica }.map(\.lagSeconds).max()
    }

    /// `footer`, and when a replica answered, how far behind the newest data it was.
    static func footer(_ footer: String, lag: Double?) -> String {
        guard let lag else { return footer }
        return footer + " Read from a replica \(FigureText.seconds(lag)) behind the newest data."
    }
}
