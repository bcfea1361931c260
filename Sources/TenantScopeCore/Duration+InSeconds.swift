extension Duration {
    /// The duration in seconds, as a floating-point number: for SQL intervals, token buckets and printed timings.
    public var inSeconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
