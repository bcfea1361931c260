/// `serve` did not come up: the message carries its log.
struct ServeProcessError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
