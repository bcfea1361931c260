import Plot

extension SavedViews {
    /// A bar under the headline figures. Viewers without saved views see nothing of it.
    struct View {
        let model: Model

        var node: Node<HTML.BodyContext> {
            guard model.isAdmin || !model.views.isEmpty else { return .empty }
            return .section(
                .class("views"), .attr("aria-labelledby", "views-heading"),
                .h2(.id("views-heading"), .text("Saved views")),
                model.views.isEmpty
                    ? .p(.class("muted"), .text("None yet"))
                    : .ul(.forEach(model.views) { view in
                        .li(
                            .a(.attr("href", view.url), .text(view.name)),
                            .if(model.isAdmin, .form(
                                .method(.post), .attr("action", view.shareAction),
                                token,
                                .button(.type(.submit), .class("secondary"), .text("Share"),
                                        .span(.class("visually-hidden"), .text(" “\(view.name)”")))))
                        )
                    }),
                .if(model.isAdmin, saveForm),
                .if(!model.links.isEmpty, sharedLinks)
            )
        }

        var token: Node<HTML.FormContext> {
            .input(.type(.hidden), .attr("name", "form_token"), .attr("value", model.formToken))
        }

        var saveForm: Node<HTML.BodyContext> {
            .form(
                .class("save"), .method(.post), .attr("action", "/dashboards/learning/views"),
                token,
                .input(.type(.hidden), .attr("name", "days"), .attr("value", "\(model.filters.days)")),
                .input(.type(.hidden), .attr("name", "course"), .attr("value", model.filters.course ?? "")),
                .input(.type(.text), .attr("name", "name"), .required(true), .attr("maxlength", "100"),
                       .attr("placeholder", "Name this view"), .attr("aria-label", "View name")),
                .button(.type(.submit), .text("Save view"))
            )
        }

        var sharedLinks: Node<HTML.BodyContext> {
            .div(
                .class("links"),
                .ul(
                    .li(.strong(.text("Shared links:"))),
                    .forEach(model.links) { link in
                        .li(
                            .text("\(link.viewName) (until \(DayText.medium(link.until)))"),
                            .form(.method(.post), .attr("action", link.revokeAction), token,
                                  .button(.type(.submit), .class("secondary"), .text("Revoke"),
                                          .span(.class("visually-hidden"), .text(" the link to “\(link.viewName)”"))))
                        )
                    })
            )
        }
    }
}
