import Plot

/// A panel of a page: a card with a heading, a line saying what it shows, optionally its actions (a
/// "Download CSV" link, an "Export CSV" form), then its chart or table. The panel's id is what links
/// and tests find it by.
struct PanelView {
    var id: String
    var title: String
    var summary: String
    /// The panel's CSV download, when the viewer's session can use it.
    var csvURL: String? = nil
    /// The panel's export form, when the session can use it and the server runs exports.
    var export: PanelExportForm? = nil
    /// Spans the whole width of the grid (a breakdown with its table, a wide table).
    var isWide = false
    var content: [Node<HTML.BodyContext>]

    var node: Node<HTML.BodyContext> {
        .section(
            .class(isWide ? "panel wide" : "panel"), .attr("id", id), .attr("aria-labelledby", "\(id)-heading"),
            .div(
                .class("panel-head"),
                .div(
                    .h2(.attr("id", "\(id)-heading"), .text(title)),
                    .p(.class("summary"), .text(summary))
                ),
                actions
            ),
            .group(content)
        )
    }

    /// The download link and the export form side by side. The link answers at once with the panel's
    /// rows; the export runs as a job and stays listed, with a link valid for a day, on the exports page.
    var actions: Node<HTML.BodyContext> {
        guard csvURL != nil || export != nil else { return .empty }
        return .div(
            .class("panel-actions"),
            .unwrap(csvURL) { url in
                .a(.class("csv"), .attr("href", url), .text("Download CSV"), .span(.class("visually-hidden"), .text(": \(title)")))
            },
            .unwrap(export) { $0.node(panelTitle: title) }
        )
    }
}
