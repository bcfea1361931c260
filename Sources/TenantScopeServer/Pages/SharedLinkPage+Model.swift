extension SharedLinkPage {
    struct Model: Sendable, Equatable {
        /// The link's path, `/shared/<token>`; it names no tenant.
        var path: String
        var lifetimeDays: Int
    }
}
