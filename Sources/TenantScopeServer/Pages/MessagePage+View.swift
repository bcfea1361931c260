import Plot

extension MessagePage {
    struct View {
        let model: Model

        func render() -> String {
            PageLayout(
                title: model.title,
                content: [.section(.class("message"), .attr("aria-label", model.title), .p(.text(model.text)))]
            ).render()
        }
    }
}
