import Plot

/// A panel of a page: a card with a heading, a line saying what it shows, optionally a "Download
/// CSV" link, then its chart or table. The panel's id is what links and tests find it by.
struct PanelView {
    var id: String
    var title: String
    var summary: String
    /// The panel's CSV download, when the viewer's session can use it.
    var csvURL: String? = nil
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
                .unwrap(csvURL) { url in
                    // Interim: an export job surface will replace these synchronous downloads.
                    .a(.class("csv"), .attr("href", url), .text("Download CSV"), .span(.class("visually-hidden"), .text(": \(title)")))
                }
            ),
            .group(content)
        )
    }
}
