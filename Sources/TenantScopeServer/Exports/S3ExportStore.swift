import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import ServiceLifecycle
import TenantScopeCore
import _NIOFileSystem

/// Export files in an S3-compatible bucket (`--export-store s3://<bucket>/<prefix>`): uploaded when
/// complete, downloaded through presigned GETs that expire within 24 hours.
///
/// Objects are `<prefix>/tenants/<tenant-id>/exports/<job-id>`, addressed path-style. The store owns
/// an `HTTPClient` (see ``S3Client``), so it must be shut down: call ``shutdown()`` after the last use,
/// or run it in the server's `ServiceGroup` (listed before the services that use it, which then stop
/// first), where it shuts the client down on graceful shutdown.
public final class S3ExportStore: ExportObjectStore, Service {
    public let configuration: Configuration
    let client: S3Client
    private let now: @Sendable () -> Date

    /// The longest a presigned download stays valid, whatever `expires` asks for.
    public static let maximumDownloadValidity = 86_400
    /// S3's limit for one PUT; larger files would need a multipart upload.
    public static let maximumObjectSize: Int64 = 5 * 1024 * 1024 * 1024

    /// - Parameters:
    ///   - now: the clock that signs requests and presigned URLs (tests move it).
    ///   - logger: where cautions about the configuration go, once.
    public init(configuration: Configuration, logger: Logger, now: @escaping @Sendable () -> Date = { Date() }) {
        self.configuration = configuration
        self.now = now
        client = S3Client(configuration: configuration, now: now)
        let metadata: Logger.Metadata = ["export.store": "s3", "s3.bucket": "\(configuration.bucket)", "s3.endpoint": "\(configuration.endpoint)"]
        if configuration.credentials.sessionToken != nil {
            logger.warning("The S3 export store uses temporary credentials: presigned download links stop working when they expire, even before 24 hours",
                           metadata: metadata)
        }
        if configuration.endpoint.scheme == "http", !["127.0.0.1", "localhost", "::1", "[::1]"].contains(configuration.endpoint.host ?? "") {
            logger.warning("The S3 export store talks plain HTTP to a host that is not loopback: export contents cross the network unencrypted",
                           metadata: metadata)
        }
    }

    /// The store of `--export-store <url>` configured from `environment` (see ``Configuration/init(url:environment:)``).
    public convenience init(url: String, environment: [String: String], logger: Logger) throws {
        try self.init(configuration: Configuration(url: url, environment: environment), logger: logger)
    }

    public var location: String { configuration.location }

    /// Closes the store's connections. Safe to call more than once; the store is unusable afterwards.
    public func shutdown() async throws {
        try await client.shutdown()
    }

    /// As a service: waits for graceful shutdown (or cancellation), then shuts the client down.
    public func run() async throws {
        try? await gracefulShutdown()
        try await shutdown()
    }

    // MARK: - ExportObjectStore

    /// Uploads `file` in one PUT, streamed from disk, and removes the local file once S3 has it.
    ///
    /// The payload is signed with its real SHA-256, read in a first pass over the file, rather than
    /// `UNSIGNED-PAYLOAD`: S3 then checks that what arrived is what was read (a body damaged or cut
    /// short on the way is refused, even over plain HTTP to an S3-compatible server), at the cost of
    /// reading the file twice. Memory stays constant: both passes read 256 KiB chunks.
    public func store(file: URL, as key: ExportObjectKey, contentType: String, logger: Logger) async throws {
        let objectKey = configuration.objectKey(key)
        let started = ContinuousClock.now
        let size = try await FileSystem.shared.withFileHandle(forReadingAt: FilePath(file.path)) { handle -> Int64 in
            let size = try await handle.info().size
            guard size <= Self.maximumObjectSize else {
                throw TenantScopeError.invalidInput("the export is \(size) bytes; the S3 export store uploads at most 5 GiB per export")
            }
            var hasher = AWSSignatureV4.PayloadHasher()
            for try await chunk in handle.readChunks(in: 0..<size, chunkLength: .kibibytes(256)) {
                chunk.withUnsafeReadableBytes { hasher.update($0) }
            }
            let body = HTTPClientRequest.Body.stream(handle.readChunks(in: 0..<size, chunkLength: .kibibytes(256)), length: .known(size))
            let deadline = NIODeadline.now() + S3Client.timeAmount(configuration.requestTimeout)
                + .seconds(size / max(1, configuration.minimumUploadBytesPerSecond))
            _ = try await client.send("PutObject", client.request("PUT", key: objectKey, headers: [(name: "Content-Type", value: contentType)]),
                                      payloadHash: hasher.finalize(), body: body, deadline: deadline, logger: logger)
            return size
        }
        try? FileManager.default.removeItem(at: file)
        let elapsed = ContinuousClock.now - started
        logger.info("Export stored", metadata: ["export.store": "s3", "s3.key": "\(objectKey)", "export.bytes": "\(size)",
                                                "export.upload_ms": "\(Int(elapsed / .milliseconds(1)))"])
    }

    /// Deletes the object; S3 answers 204 whether or not it existed (some servers 404: also fine).
    public func remove(_ key: ExportObjectKey, logger: Logger) async throws {
        let objectKey = configuration.objectKey(key)
        _ = try await client.send("DeleteObject", client.request("DELETE", key: objectKey), accepted: [200, 204, 404], logger: logger)
        logger.info("Export removed", metadata: ["export.store": "s3", "s3.key": "\(objectKey)"])
    }

    /// Lists the tenant's prefix page by page (ListObjectsV2 with its continuation token) and deletes
    /// each object, a few at a time. Only keys below the tenant's prefix are ever deleted.
    public func removeAll(of tenant: TenantID, logger: Logger) async throws {
        let prefix = configuration.tenantPrefix(tenant)
        var token: String?
        var removed = 0
        repeat {
            var query: [(name: String, value: String)] = [(name: "list-type", value: "2"), (name: "prefix", value: prefix),
                                                          (name: "encoding-type", value: "url"), (name: "max-keys", value: "\(configuration.listPageSize)")]
            if let token { query.append((name: "continuation-token", value: token)) }
            let response = try await client.send("ListObjectsV2", client.request("GET", key: nil, query: query), logger: logger)
            let page: S3ListBucketResult
            do {
                page = try S3ListBucketResult(xml: response.body.readableBytesView)
            } catch {
                throw S3ResponseError(operation: "ListObjectsV2", status: response.status, code: "MalformedListing", message: "\(error)", requestID: "")
            }
            let keys = page.keys.filter { $0.hasPrefix(prefix) }
            try await delete(keys, logger: logger)
            removed += keys.count
            token = page.nextContinuationToken
        } while token != nil
        logger.info("Exports of a tenant removed", metadata: ["export.store": "s3", "tenant.id": "\(tenant)", "export.objects": "\(removed)"])
    }

    /// A presigned GET valid until `expires`, at most 24 hours and at least one second from now, whose
    /// answer S3 sends as an attachment named ``ExportObjectKey/downloadName``.
    ///
    /// The URL is a bearer credential until it expires: it is returned, never logged.
    public func download(_ key: ExportObjectKey, expires: Date, logger: Logger) async throws -> ExportDownload {
        let seconds = Self.validity(until: expires, now: now())
        let url = client.presignedGet(key: configuration.objectKey(key),
                                      query: [(name: "response-content-disposition", value: "attachment; filename=\"\(key.downloadName)\"")],
                                      expiresIn: seconds)
        logger.debug("Export download signed", metadata: ["export.store": "s3", "s3.key": "\(configuration.objectKey(key))",
                                                          "export.link_seconds": "\(seconds)"])
        return .redirect(url)
    }

    /// `X-Amz-Expires` for a link that should work until `expires`: rounded up to whole seconds and
    /// kept within 1...``maximumDownloadValidity``.
    static func validity(until expires: Date, now: Date) -> Int {
        let seconds = expires.timeIntervalSince(now).rounded(.up)
        guard seconds.isFinite else { return 1 }
        return Int(min(Double(maximumDownloadValidity), max(1, seconds)))
    }

    /// Deletes `keys`, at most eight requests at a time.
    private func delete(_ keys: [String], logger: Logger) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            var pending = keys[...]
            func next() -> Bool {
                guard let key = pending.popFirst() else { return false }
                group.addTask { [client] in
                    _ = try await client.send("DeleteObject", client.request("DELETE", key: key), accepted: [200, 204, 404], logger: logger)
                }
                return true
            }
            var started = 0
            while started < 8, next() { started += 1 }
            while try await group.next() != nil { _ = next() }
        }
    }
}
