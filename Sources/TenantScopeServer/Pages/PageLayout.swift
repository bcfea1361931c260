import Plot

/// The frame of every page: the document head, a header landmark with the banner (preview, shared
/// view), the title, a line under it and the page's controls, then the main content and a footer.
/// No script and nothing from another origin: styles are inline, charts are inline SVG.
struct PageLayout {
    var title: String
    var subtitle: String? = nil
    var banner: String? = nil
    /// A link above the title, back to where the page was opened from.
    var back: (text: String, url: String)? = nil
    /// Links to the other pages of the surface, under the title (the dashboard's link to its exports).
    var nav: [(text: String, url: String)] = []
    /// Reload the page after this many seconds (an exports page with jobs still running); a meta
    /// refresh, because the pages run no script.
    var refreshSeconds: Int? = nil
    /// Controls on the right of the header (the filters).
    var controls: Node<HTML.BodyContext> = .empty
    var content: [Node<HTML.BodyContext>]
    var footer: String? = nil

    func render() -> String {
        HTML(
            .lang(.english),
            .head(
                .meta(.charset(.utf8)),
                .meta(.name("viewport"), .content("width=device-width, initial-scale=1")),
                .meta(.name("referrer"), .content("no-referrer")),
                .unwrap(refreshSeconds) { .meta(Attribute(name: "http-equiv", value: "refresh"), .content("\($0)")) },
                .element(named: "title", text: title),
                .style(PageStyle.css)
            ),
            .body(
                .header(
                    .class("page-header"),
                    .unwrap(banner) { .div(.class("banner"), .attr("role", "status"), .text($0)) },
                    .div(
                        .class("bar"),
                        .div(
                            .unwrap(back) { .a(.class("back"), .attr("href", $0.url), .text("← \($0.text)")) },
                            .h1(.text(title)),
                            .unwrap(subtitle) { .p(.class("subtitle"), .text($0)) },
                            .if(!nav.isEmpty, .nav(
                                .class("page-nav"), .attr("aria-label", "Dashboard pages"),
                                .ul(.forEach(nav) { link in .li(.a(.attr("href", link.url), .text(link.text))) })))
                        ),
                        controls
                    )
                ),
                .main(.group(content)),
                .unwrap(footer) { .footer(.class("page-footer"), .p(.text($0))) }
            )
        ).render()
    }
}
