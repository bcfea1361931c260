import Plot

/// A panel's "Export CSV" action: a small POST form that queues the panel's report, with the page's
/// filters, as an export job (``DashboardExportRoutes``). A POST, not a link, because it creates
/// something; its form token binds it to the session, as the saved-view forms are bound.
struct PanelExportForm: Sendable, Equatable {
    /// Where the form posts: `/dashboards/learning/panels/{report}/export`.
    var action: String
    var formToken: String
    /// The filters on screen; the server turns them into the panel's parameters again.
    var filters: DashboardFilters

    init(panel: DashboardPanel, filters: DashboardFilters, formToken: String) {
        self.init(action: panel.exportAction, filters: filters, formToken: formToken)
    }

    init(action: String, filters: DashboardFilters, formToken: String) {
        self.action = action
        self.formToken = formToken
        self.filters = filters
    }

    /// The form, its button named after the panel for screen readers (every panel has one).
    func node(panelTitle: String) -> Node<HTML.BodyContext> {
        .form(
            .class("export"), .method(.post), .attr("action", action),
            .input(.type(.hidden), .attr("name", "form_token"), .attr("value", formToken)),
            .input(.type(.hidden), .attr("name", "days"), .attr("value", "\(filters.days)")),
            .input(.type(.hidden), .attr("name", "course"), .attr("value", filters.course ?? "")),
            .button(.type(.submit), .class("secondary"), .text("Export CSV"), .span(.class("visually-hidden"), .text(": \(panelTitle)")))
        )
    }
}
