import Plot

extension SharedLinkPage {
    struct View {
        let model: Model

        func render() -> String {
            PageLayout(
                title: "Shared link",
                back: ("Back to the dashboard", "/dashboards/learning"),
                content: [
                    .section(
                        .class("message"), .attr("aria-labelledby", "link-heading"),
                        .h2(.id("link-heading"), .class("visually-hidden"), .text("The link")),
                        .p(.text("Anyone with this link sees this saved view of your organization's dashboard for \(model.lifetimeDays) days, until you revoke it:")),
                        .div(.class("copy"),
                             .input(.type(.text), .readonly(true), .attr("value", model.path), .attr("aria-label", "Shared link"))),
                        .p(.a(.attr("href", model.path), .text("Open the shared view")))
                    ),
                ]
            ).render()
        }
    }
}
