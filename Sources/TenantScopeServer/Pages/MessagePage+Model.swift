extension MessagePage {
    struct Model: Sendable, Equatable {
        var title: String
        var text: String
    }
}
