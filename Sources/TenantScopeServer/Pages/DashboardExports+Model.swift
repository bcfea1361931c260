import Foundation
import TenantScopeCore

extension DashboardExports {
    struct Model: Sendable, Equatable {
        struct Export: Sendable, Equatable {
            var id: String
            /// What was exported: the report's title, or the statements, or a learner's data.
            var what: String
            /// The parameters as `name: value`, by name; a learner export shows none (it names no learner).
            var parameters: [String]
            /// `CSV`, `NDJSON, gzip`.
            var format: String
            var state: ExportState
            /// Rows written so far (running) or in all (done).
            var rows: Int
            var sizeBytes: Int?
            /// When it was queued (ISO 8601, UTC).
            var created: String
            var requestedBy: String
            /// Why it failed, in words safe to show the tenant.
            var error: String?
            /// The signed link, when done.
            var downloadURL: String?
        }

        var exports: [Export]
        /// A tenant admin sees everyone's exports, others their own.
        var seesAllExports: Bool
        /// The dashboard's filters, for the way back.
        var filters: DashboardFilters
        var retentionDays: Int
        /// The user asked the page to reload itself while jobs run (`?reload=auto`).
        var autoReload = false
    }
}

extension DashboardExports.Model {
    /// Whether a job is still to finish.
    var isWorking: Bool { exports.contains { $0.state == .queued || $0.state == .running } }

    /// Whether the page reloads itself: only when the user asked for it, and only while a job is still to
    /// finish. A page that reloads on its own every few seconds sends a screen reader back to its top
    /// each time (WCAG 2.2.1, failure F41; axe-core's `meta-refresh`), so it is the user's choice, with a
    /// link to stop, and never the default.
    var reloads: Bool { autoReload && isWorking }

    /// How often the page reloads while it does.
    static let refreshSeconds = 5

    /// This page with the same filters, reloading itself or not.
    func url(autoReload: Bool) -> String {
        filters.url("/dashboards/exports") + (autoReload ? "&reload=auto" : "")
    }
}

extension DashboardExports.Model {
    /// From the statuses ``ExportService/list(for:in:logger:)`` returns; report titles from `catalog`.
    init(_ statuses: [ExportStatus], catalog: ReportCatalog, seesAllExports: Bool, filters: DashboardFilters, retentionDays: Int,
         autoReload: Bool) {
        self.init(
            exports: statuses.map { status in
                let what: String
                var parameters: [String] = []
                switch status.source {
                case "report":
                    what = status.report.map { catalog[$0]?.title ?? $0 } ?? "Report"
                    parameters = (status.parameters ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }
                case "statements":
                    what = "Statements"
                    parameters = [status.since.map { "since: \($0)" }, status.until.map { "until: \($0)" }].compactMap { $0 }
                case "learner":
                    what = "A learner's data (access request)"
                case "custom_report":
                    what = "Custom report " + (status.report ?? "")
                default:
                    what = status.source
                }
                let format = status.format.uppercased() + (status.gzip ? ", gzip" : "")
                return Export(id: status.id, what: what, parameters: parameters, format: format,
                              state: ExportState(rawValue: status.state) ?? .failed, rows: status.rows, sizeBytes: status.size_bytes,
                              created: status.created_at, requestedBy: status.requested_by, error: status.error,
                              downloadURL: status.download_url)
            },
            seesAllExports: seesAllExports, filters: filters, retentionDays: retentionDays, autoReload: autoReload)
    }
}
