import Plot
import TenantScopeCore

/// An approved custom report pinned to the learning dashboard (``CustomReportStore/setDashboardPanel``),
/// shown as a table of its first rows. Its answer comes from the guarded SQL surface in the page's tenant
/// scope; a report that fails (a column type the surface does not return, a timeout) shows its error in
/// place, and the rest of the page still renders.
struct CustomReportPanel: Sendable, Equatable {
    /// The most rows the panel shows; the CSV download has all the report returns.
    static let shownRows = 50

    var name: String
    var title: String
    var columns: [String]
    var rows: [[String]]
    /// How many rows the report returned (up to the SQL surface's row cap).
    var rowCount: Int
    /// The report returned more rows than the SQL surface's row cap.
    var truncated: Bool
    var error: String?

    init(name: String, title: String, result: SQLResult) {
        self.name = name
        self.title = title
        columns = result.columns.map(\.name)
        rows = result.rows.prefix(Self.shownRows).map { $0.map(\.description) }
        rowCount = result.rows.count
        truncated = result.truncated
        error = nil
    }

    init(name: String, title: String, error: String) {
        self.name = name
        self.title = title
        columns = []
        rows = []
        rowCount = 0
        truncated = false
        self.error = error
    }

    var csvURL: String { "/dashboards/learning/custom/\(name).csv" }
    var exportAction: String { "/dashboards/learning/custom/\(name)/export" }

    var summary: String {
        if error != nil { return "Custom report — it could not be run" }
        let shown = rowCount > rows.count ? "the first \(rows.count) of \(FigureText.count(rowCount))\(truncated ? "+" : "") rows" : "\(FigureText.count(rowCount)) rows"
        return "Custom report approved by a tenant admin · \(shown)"
    }

    func node(csv: Bool, exportFormToken: String?, filters: DashboardFilters) -> Node<HTML.BodyContext> {
        PanelView(
            id: "custom-\(name)", title: title, summary: summary,
            csvURL: csv && error == nil ? csvURL : nil,
            export: error == nil ? exportFormToken.map { PanelExportForm(action: exportAction, filters: filters, formToken: $0) } : nil,
            isWide: true,
            content: [content]
        ).node
    }

    var content: Node<HTML.BodyContext> {
        if let error { return .p(.class("note"), .text(error)) }
        guard !rows.isEmpty else { return .p(.class("note"), .text("No rows.")) }
        return .div(.class("table-scroll"), .table(
            .caption(.class("visually-hidden"), .text(title)),
            .thead(.tr(.forEach(columns) { .th(.attr("scope", "col"), .text($0)) })),
            .tbody(.forEach(rows) { row in .tr(.forEach(row) { .td(.text($0)) }) })
        ))
    }
}
