import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import TenantScopeCore
import _NIOFileSystem

/// The S3 requests of the export store, path-style and signed with ``AWSSignatureV4``, over one
/// `HTTPClient` it owns (``shutdown()``).
///
/// Its own client rather than `HTTPClient.shared`: the shared one follows redirects (a signed request
/// must not be replayed to wherever an answer points), decompresses bodies and waits 90 s for a
/// connection. This one follows none, leaves bodies alone, and gives every request a deadline, so that
/// an unreachable or stalled store fails the call (``ExportStoreUnavailable``) instead of hanging it.
final class S3Client: Sendable {
    struct Response: Sendable {
        let status: Int
        let headers: HTTPHeaders
        let body: ByteBuffer
    }

    let configuration: S3ExportStore.Configuration
    let signer: AWSSignatureV4
    let client: HTTPClient
    private let now: @Sendable () -> Date
    /// The `Host` header, exactly as signed.
    private let host: String
    private let scheme: String

    /// Error and listing answers are small; a larger one is cut off there (and fails to parse).
    static let maximumResponseBody = 8 * 1024 * 1024

    init(configuration: S3ExportStore.Configuration, now: @escaping @Sendable () -> Date) {
        self.configuration = configuration
        self.now = now
        signer = AWSSignatureV4(credentials: configuration.credentials, region: configuration.region, service: "s3")
        scheme = configuration.endpoint.scheme ?? "https"
        let hostName = configuration.endpoint.host ?? ""
        var host = hostName.contains(":") && !hostName.hasPrefix("[") ? "[\(hostName)]" : hostName
        if let port = configuration.endpoint.port, port != (scheme == "https" ? 443 : 80) { host += ":\(port)" }
        self.host = host
        let timeout = HTTPClient.Configuration.Timeout(connect: Self.timeAmount(configuration.connectTimeout),
                                                        read: Self.timeAmount(configuration.requestTimeout),
                                                        write: Self.timeAmount(configuration.requestTimeout))
        client = HTTPClient(eventLoopGroupProvider: .singleton,
                            configuration: HTTPClient.Configuration(redirectConfiguration: .disallow, timeout: timeout, decompression: .disabled))
    }

    /// Closes the connections; requests afterwards fail. Safe to call more than once.
    func shutdown() async throws {
        do {
            try await client.shutdown()
        } catch let error as HTTPClientError where error == .alreadyShutdown {
            return
        }
    }

    /// The signed request for `key` (nil: the bucket itself), as it goes on the wire.
    func request(_ method: String, key: String?, query: [(name: String, value: String)] = [],
                 headers: [(name: String, value: String)] = []) -> AWSSignatureV4.Request {
        AWSSignatureV4.Request(method: method, scheme: scheme, host: host, path: "/\(configuration.bucket)" + (key.map { "/" + $0 } ?? ""),
                               query: query, headers: headers)
    }

    /// Sends one signed request and reads its answer.
    ///
    /// - Parameters:
    ///   - operation: the S3 operation's name, for errors and logs.
    ///   - payloadHash: the body's SHA-256 (``AWSSignatureV4/emptyPayloadHash`` without a body).
    ///   - accepted: the statuses that are a success; an S3 5xx becomes ``ExportStoreUnavailable``,
    ///     any other status ``S3ResponseError``.
    ///   - deadline: when the answer's head must have arrived; `requestTimeout` from now by default.
    func send(_ operation: String, _ request: AWSSignatureV4.Request, payloadHash: String = AWSSignatureV4.emptyPayloadHash,
              body: HTTPClientRequest.Body? = nil, accepted: Set<Int> = [200], deadline: NIODeadline? = nil,
              logger: Logger) async throws -> Response {
        let signed = signer.sign(request, payloadHash: payloadHash, date: now())
        var outgoing = HTTPClientRequest(url: request.url.absoluteString)
        outgoing.method = HTTPMethod(rawValue: request.method)
        for header in signed.headers { outgoing.headers.add(name: header.name, value: header.value) }
        outgoing.body = body

        let response: Response
        do {
            let answer = try await client.execute(outgoing, deadline: deadline ?? .now() + Self.timeAmount(configuration.requestTimeout),
                                                  logger: logger)
            let bytes = try await answer.body.collect(upTo: Self.maximumResponseBody)
            response = Response(status: Int(answer.status.code), headers: answer.headers, body: bytes)
        } catch {
            throw Self.classify(error, operation: operation)
        }

        logger.debug("S3 request answered", metadata: ["s3.operation": "\(operation)", "s3.status": "\(response.status)"])
        if accepted.contains(response.status) { return response }
        if response.status >= 500 {
            let error = S3ResponseError(operation: operation, status: response.status, body: response.body.readableBytesView)
            throw ExportStoreUnavailable(error.description)
        }
        throw S3ResponseError(operation: operation, status: response.status, body: response.body.readableBytesView)
    }

    /// A presigned GET of `key` valid for `seconds` from now.
    func presignedGet(key: String, query: [(name: String, value: String)], expiresIn seconds: Int) -> URL {
        signer.presign(request("GET", key: key, query: query), expiresIn: seconds, date: now()).url
    }

    /// What a failure to get an answer becomes: cancellation stays cancellation, a local file that
    /// could not be read stays what it is, and everything between us and S3 (refused or timed-out
    /// connections, resets, TLS failures, deadlines) is ``ExportStoreUnavailable``.
    static func classify(_ error: any Error, operation: String) -> any Error {
        switch error {
        case is CancellationError, is ExportStoreUnavailable, is S3ResponseError, is FileSystemError:
            return error
        case let error as HTTPClientError where error == .cancelled:
            return Task.isCancelled ? CancellationError() : ExportStoreUnavailable("S3 \(operation) was cancelled")
        default:
            if Task.isCancelled { return CancellationError() }
            return ExportStoreUnavailable("S3 \(operation) failed: \(String(describing: error).prefix(300))")
        }
    }

    static func timeAmount(_ duration: Duration) -> TimeAmount {
        let (seconds, attoseconds) = duration.components
        return .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
