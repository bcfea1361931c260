/// An operator of the platform, as a verified platform token names them.
public struct PlatformOperator: Hashable, Sendable {
    public var name: String

    public init(name: String) {
        self.name = name
    }
}
