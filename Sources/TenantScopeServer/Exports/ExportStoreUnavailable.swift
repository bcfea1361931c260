/// The export object store could not be reached, did not answer in time, or answered that it is
/// overloaded or failing (an S3 5xx): the request should be retried later (HTTP 503 with `Retry-After`),
/// and an export job should be retried rather than failed.
///
/// What went wrong with the store's own answer to a valid request (access denied, no such bucket) is
/// ``S3ResponseError`` instead: retrying does not help until an operator fixes the configuration.
public struct ExportStoreUnavailable: Error, Hashable, Sendable, CustomStringConvertible {
    /// For logs: the operation and the failure, never a credential or a presigned URL.
    public let reason: String

    public init(_ reason: String) {
        self.reason = reason
    }

    public var description: String { reason }
}
