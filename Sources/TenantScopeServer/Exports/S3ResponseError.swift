/// An S3-compatible server refused a request of the export store with a 3xx or 4xx answer (a 5xx is
/// ``ExportStoreUnavailable``): wrong credentials or clock (`SignatureDoesNotMatch`,
/// `RequestTimeTooSkewed`), a missing bucket, a bucket in another region, a policy that denies the
/// action. An operator's problem, so a client sees a detail-free 500 and the log has the S3 error code.
public struct S3ResponseError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The S3 operation: `PutObject`, `DeleteObject`, `ListObjectsV2`, `CreateBucket`, `GetObject`.
    public let operation: String
    public let status: Int
    /// S3's error code (`AccessDenied`, `NoSuchBucket`, …), or empty when the answer had no error body.
    public let code: String
    /// S3's message, at most 200 characters.
    public let message: String
    /// S3's request id, for the provider's support.
    public let requestID: String

    public init(operation: String, status: Int, code: String, message: String, requestID: String) {
        self.operation = operation
        self.status = status
        self.code = code
        self.message = String(message.prefix(200))
        self.requestID = requestID
    }

    /// The error an S3 error answer describes: `<Error><Code>…</Code><Message>…</Message><RequestId>…`.
    init(operation: String, status: Int, body: some Collection<UInt8>) {
        let leaves = (try? S3XML.leaves(of: body)) ?? []
        func field(_ name: String) -> String { leaves.first { $0.path == ["Error", name] }?.text ?? "" }
        self.init(operation: operation, status: status, code: field("Code"), message: field("Message"), requestID: field("RequestId"))
    }

    public var description: String {
        "S3 \(operation) answered \(status)" + (code.isEmpty ? "" : " \(code)") + (message.isEmpty ? "" : ": \(message)")
            + (requestID.isEmpty ? "" : " (request id \(requestID))")
    }
}
