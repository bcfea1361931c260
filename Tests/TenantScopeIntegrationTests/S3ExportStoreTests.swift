import AsyncHTTPClient
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging
import NIOCore
import Testing
@testable import TenantScopeCore
@testable import TenantScopePostgres
@testable import TenantScopeServer
@testable import TenantScopeTestSupport

/// The S3 export store against a real S3-compatible server: moto's (`MotoServer`), one per test.
///
/// Where moto checks signatures (``MotoServer/enforceSignatures()``, with botocore's signer), every
/// request the store makes is verified independently; a wrong secret is refused there, which shows the
/// check is real. moto checks neither the signature nor the expiry of presigned URLs, so those are
/// compared with the URL boto3 presigns for the same object at the same time instead.
/// Serialized: each test starts its own moto server, a Python process whose start takes seconds of CPU.
@Suite(.serialized) struct S3ExportStoreTests {
    static let bucket = "tenantscope-exports"
    let tenantA = TenantID(uuidString: "0a0a0a0a-0000-4000-8000-00000000000a")!
    let tenantB = TenantID(uuidString: "0b0b0b0b-0000-4000-8000-00000000000b")!

    /// A store of `moto`'s bucket under `prefix`; the bucket is created with a signed PUT on request.
    func makeStore(_ moto: MotoServer, prefix: String, credentials: AWSSignatureV4.Credentials, createBucket: Bool = false,
                   logger: Logger = Logger(label: "s3-export-store-tests"), now: @escaping @Sendable () -> Date = { Date() },
                   configure: (inout S3ExportStore.Configuration) -> Void = { _ in }) async throws -> S3ExportStore {
        let environment = ["AWS_ACCESS_KEY_ID": credentials.accessKeyID, "AWS_SECRET_ACCESS_KEY": credentials.secretAccessKey,
                           "AWS_ENDPOINT_URL": moto.endpoint]
        var configuration = try S3ExportStore.Configuration(url: "s3://\(Self.bucket)/\(prefix)", environment: environment)
        configuration.connectTimeout = .seconds(5)
        configure(&configuration)
        let store = S3ExportStore(configuration: configuration, logger: logger, now: now)
        if createBucket {
            do {
                _ = try await store.client.send("CreateBucket", store.client.request("PUT", key: nil), logger: logger)
            } catch {
                try? await store.shutdown()
                throw error
            }
        }
        return store
    }

    /// Runs `body` with moto started (and its signature checks on when `enforcing`), then stops it.
    func withMoto(enforcing: Bool, _ body: (MotoServer, AWSSignatureV4.Credentials) async throws -> Void) async throws {
        let moto = try await MotoServer.start()
        do {
            let credentials = enforcing ? try await moto.enforceSignatures()
                : AWSSignatureV4.Credentials(accessKeyID: "AKIAMOTOANYTHING", secretAccessKey: "moto-accepts-any-secret")
            try await body(moto, credentials)
        } catch {
            await moto.stop()
            throw MotoServer.Failure(description: "\(error)\n--- moto's log (last lines) ---\n\(moto.log.suffix(3000))")
        }
        await moto.stop()
    }

    /// Runs `body`, then shuts `stores` down whatever happened.
    func using(_ stores: [S3ExportStore], _ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch {
            for store in stores { try? await store.shutdown() }
            throw error
        }
        for store in stores { try await store.shutdown() }
    }

    /// A complete export file of `size` bytes (not a multiple of any chunk size) in a fresh directory.
    func exportFile(size: Int, seed: UInt8 = 7) throws -> (url: URL, bytes: [UInt8]) {
        let directory = try TestPostgres.makeTemporaryDirectory("s3-export")
        var state = UInt32(seed) &+ 1
        let bytes = (0..<size).map { _ -> UInt8 in
            state = state &* 1_664_525 &+ 1_013_904_223
            return UInt8(truncatingIfNeeded: state >> 24)
        }
        let url = URL(fileURLWithPath: directory).appendingPathComponent("export.part")
        try Data(bytes).write(to: url)
        return (url, bytes)
    }

    func key(_ tenant: TenantID, _ job: Int, _ fileExtension: String = "csv") -> ExportObjectKey {
        let digits = String(job)
        let uuid = "00000000-0000-4000-8000-" + String(repeating: "0", count: 12 - digits.count) + digits
        return ExportObjectKey(tenant: tenant, job: UUID(uuidString: uuid)!, fileExtension: fileExtension)
    }

    /// A signed GET of the object (not a presigned URL).
    func getObject(_ store: S3ExportStore, _ objectKey: String) async throws -> S3Client.Response {
        try await store.client.send("GetObject", store.client.request("GET", key: objectKey), logger: Logger(label: "s3-export-store-tests"))
    }

    func status(_ store: S3ExportStore, _ key: ExportObjectKey) async throws -> Int {
        do {
            return try await getObject(store, store.configuration.objectKey(key)).status
        } catch let error as S3ResponseError {
            return error.status
        }
    }

    // MARK: - Storing

    @Test func storedObjectHasItsBytesAndContentTypeUnderTheTenantsKey() async throws {
        try await withMoto(enforcing: true) { moto, credentials in
            let recorder = LogRecorder()
            let store = try await makeStore(moto, prefix: "prod/exports", credentials: credentials, createBucket: true, logger: recorder.logger)
            try await using([store]) {
                let exportKey = key(tenantA, 1)
                // 3 MiB and a bit: several 256 KiB chunks and a short last one, hashed, then streamed.
                let (file, bytes) = try exportFile(size: 3 * 1024 * 1024 + 17)
                try await store.store(file: file, as: exportKey, contentType: "text/csv; charset=utf-8", logger: recorder.logger)
                #expect(!FileManager.default.fileExists(atPath: file.path), "the store consumes the local file")

                // The documented layout, spelled out rather than computed.
                let objectKey = "prod/exports/tenants/\(tenantA)/exports/00000000-0000-4000-8000-000000000001"
                #expect(store.configuration.objectKey(exportKey) == objectKey)
                let object = try await getObject(store, objectKey)
                #expect(object.status == 200)
                #expect(Array(object.body.readableBytesView) == bytes)
                #expect(object.headers.first(name: "Content-Type") == "text/csv; charset=utf-8")

                // An empty export is an empty object.
                let (empty, _) = try exportFile(size: 0)
                try await store.store(file: empty, as: key(tenantA, 2, "json"), contentType: "application/json", logger: recorder.logger)
                #expect(try await getObject(store, store.configuration.objectKey(key(tenantA, 2, "json"))).body.readableBytes == 0)

                // The logs name the object, never the secret.
                #expect(recorder.lines.contains { $0.message == "Export stored" && $0.metadata["s3.key"] == objectKey })
                #expect(!recorder.lines.contains { "\($0.message) \($0.metadata)".contains(credentials.secretAccessKey) })
            }
        }
    }

    /// moto really checks signatures: the same requests with a wrong secret or an unknown key are
    /// refused, with S3's error code, and the local file is kept for a retry.
    @Test func wrongCredentialsAreRefusedWithS3sErrorCode() async throws {
        try await withMoto(enforcing: true) { moto, credentials in
            let good = try await makeStore(moto, prefix: "p", credentials: credentials, createBucket: true)
            let wrongSecret = try await makeStore(moto, prefix: "p", credentials: .init(accessKeyID: credentials.accessKeyID, secretAccessKey: "not-the-secret"))
            let unknownKey = try await makeStore(moto, prefix: "p", credentials: .init(accessKeyID: "AKIAUNKNOWN000000000", secretAccessKey: "x"))
            try await using([good, wrongSecret, unknownKey]) {
                let (file, _) = try exportFile(size: 1000)
                let refused = await #expect(throws: S3ResponseError.self) {
                    try await wrongSecret.store(file: file, as: key(tenantA, 1), contentType: "text/csv", logger: Logger(label: "t"))
                }
                #expect(refused?.status == 403)
                #expect(refused?.code == "SignatureDoesNotMatch")
                #expect(FileManager.default.fileExists(atPath: file.path), "a failed upload keeps the file")
                let unknown = await #expect(throws: S3ResponseError.self) { try await unknownKey.remove(key(tenantA, 1), logger: Logger(label: "t")) }
                #expect(unknown?.code == "InvalidAccessKeyId")
                #expect(ErrorMiddleware<AppRequestContext>.status(of: try #require(refused)) == .serviceUnavailable)
                // And the right one is accepted for the same file.
                try await good.store(file: file, as: key(tenantA, 1), contentType: "text/csv", logger: Logger(label: "t"))
                #expect(try await status(good, key(tenantA, 1)) == 200)
            }
        }
    }

    // MARK: - Downloading

    /// The presigned GET serves the bytes as an attachment named after the job, expires within 24
    /// hours however far `expires` is, and is the URL boto3 signs for the same object at the same time.
    @Test func presignedDownloadServesTheFileAndMatchesBoto3() async throws {
        try await withMoto(enforcing: false) { moto, credentials in
            // A fixed clock, to presign with boto3 at the same second.
            let now = Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down))
            let store = try await makeStore(moto, prefix: "prod", credentials: credentials, createBucket: true, now: { now })
            try await using([store]) {
                let key = key(tenantA, 3)
                let (file, bytes) = try exportFile(size: 300_000)
                try await store.store(file: file, as: key, contentType: "text/csv", logger: Logger(label: "t"))

                guard case .redirect(let url) = try await store.download(key, expires: now.addingTimeInterval(3 * 86_400), logger: Logger(label: "t")) else {
                    Issue.record("the S3 store answers downloads with a redirect")
                    return
                }
                let query = Dictionary(uniqueKeysWithValues: (URLComponents(url: url, resolvingAgainstBaseURL: false)?.queryItems ?? [])
                    .map { ($0.name, $0.value ?? "") })
                #expect(query["X-Amz-Expires"] == "86400", "capped at 24 hours")
                #expect(query["X-Amz-Date"] == AWSSignatureV4.timestamp(now))
                #expect(url.path == "/\(Self.bucket)/prod/tenants/\(tenantA)/exports/00000000-0000-4000-8000-000000000003")

                let answer = try await HTTPClient.shared.execute(HTTPClientRequest(url: url.absoluteString), timeout: .seconds(30))
                #expect(answer.status.code == 200)
                #expect(answer.headers.first(name: "Content-Disposition") == "attachment; filename=\"\(key.downloadName)\"")
                #expect(answer.headers.first(name: "Content-Type") == "text/csv")
                #expect(Array(try await answer.body.collect(upTo: 1 << 20).readableBytesView) == bytes)

                // boto3 signs the same request identically (moto itself checks no presigned signature).
                let boto3 = try await Shell.run(MotoServer.python, [
                    MotoServer.packageRoot.appendingPathComponent("Tests/clients/boto3_presign.py").path, moto.endpoint, "us-east-1",
                    credentials.accessKeyID, credentials.secretAccessKey, Self.bucket, store.configuration.objectKey(key),
                    "attachment; filename=\"\(key.downloadName)\"", "86400", AWSSignatureV4.timestamp(now),
                ])
                #expect(boto3.status == 0, "\(boto3.error)")
                let theirs = try #require(URLComponents(string: boto3.output.trimmingCharacters(in: .whitespacesAndNewlines)))
                let ours = try #require(URLComponents(url: url, resolvingAgainstBaseURL: false))
                #expect(ours.percentEncodedPath == theirs.percentEncodedPath)
                #expect(Set(ours.percentEncodedQueryItems ?? []) == Set(theirs.percentEncodedQueryItems ?? []))
                #expect(query["X-Amz-Signature"] == theirs.queryItems?.first { $0.name == "X-Amz-Signature" }?.value)

                // A shorter validity is kept as asked, rounded up to the second.
                guard case .redirect(let short) = try await store.download(key, expires: now.addingTimeInterval(89.5), logger: Logger(label: "t")) else {
                    return
                }
                #expect(short.query?.contains("X-Amz-Expires=90&") == true)
            }
        }
    }

    // MARK: - Removing

    @Test func removeDeletesThatObjectOnly() async throws {
        try await withMoto(enforcing: true) { moto, credentials in
            let store = try await makeStore(moto, prefix: "p", credentials: credentials, createBucket: true)
            try await using([store]) {
                for job in [1, 2] {
                    try await store.store(file: try exportFile(size: 100).url, as: key(tenantA, job), contentType: "text/csv", logger: Logger(label: "t"))
                }
                try await store.remove(key(tenantA, 1), logger: Logger(label: "t"))
                #expect(try await status(store, key(tenantA, 1)) == 404)
                #expect(try await status(store, key(tenantA, 2)) == 200)
                // Removing what is gone (or never was) is no error.
                try await store.remove(key(tenantA, 1), logger: Logger(label: "t"))
                try await store.remove(key(tenantB, 9), logger: Logger(label: "t"))
            }
        }
    }

    /// Tenant deletion: every export object of A goes, page after page of the listing; B's objects and
    /// A's objects outside its exports prefix stay.
    @Test func removeAllOfATenantLeavesOtherTenants() async throws {
        try await withMoto(enforcing: true) { moto, credentials in
            let store = try await makeStore(moto, prefix: "p", credentials: credentials, createBucket: true, configure: { $0.listPageSize = 2 })
            try await using([store]) {
                for job in 1...5 {
                    try await store.store(file: try exportFile(size: 10 * job).url, as: key(tenantA, job), contentType: "text/csv", logger: Logger(label: "t"))
                }
                for job in 6...7 {
                    try await store.store(file: try exportFile(size: 10).url, as: key(tenantB, job), contentType: "text/csv", logger: Logger(label: "t"))
                }
                // Another object of tenant A's, next to but not under its exports prefix.
                let neighbour = "p/tenants/\(tenantA)/exports-other"
                _ = try await store.client.send("PutObject", store.client.request("PUT", key: neighbour), payloadHash: AWSSignatureV4.hexSHA256(Data("x".utf8)),
                                                body: .bytes(ByteBuffer(string: "x")), logger: Logger(label: "t"))

                let recorder = LogRecorder()
                try await store.removeAll(of: tenantA, logger: recorder.logger)
                for job in 1...5 { #expect(try await status(store, key(tenantA, job)) == 404) }
                for job in 6...7 { #expect(try await status(store, key(tenantB, job)) == 200) }
                #expect(try await getObject(store, neighbour).status == 200)
                #expect(recorder.lines.contains { $0.message == "Exports of a tenant removed" && $0.metadata["export.objects"] == "5" })
                // Three list pages were read (2 + 2 + 1 keys).
                #expect(recorder.lines.filter { $0.metadata["s3.operation"] == "ListObjectsV2" }.count == 3)

                // Nothing left is no error.
                try await store.removeAll(of: tenantA, logger: Logger(label: "t"))
            }
        }
    }

    /// Two stores on one bucket with different prefixes do not see each other's objects.
    @Test func storesWithDifferentPrefixesAreSeparate() async throws {
        try await withMoto(enforcing: true) { moto, credentials in
            let one = try await makeStore(moto, prefix: "alpha", credentials: credentials, createBucket: true)
            let two = try await makeStore(moto, prefix: "alpha/nested", credentials: credentials)
            try await using([one, two]) {
                try await one.store(file: try exportFile(size: 10).url, as: key(tenantA, 1), contentType: "text/csv", logger: Logger(label: "t"))
                try await two.store(file: try exportFile(size: 10).url, as: key(tenantA, 2), contentType: "text/csv", logger: Logger(label: "t"))
                #expect(try await status(two, key(tenantA, 1)) == 404)
                #expect(try await status(one, key(tenantA, 2)) == 404)
                try await two.removeAll(of: tenantA, logger: Logger(label: "t"))
                #expect(try await status(one, key(tenantA, 1)) == 200)
                #expect(try await status(two, key(tenantA, 2)) == 404)
                try await one.removeAll(of: tenantA, logger: Logger(label: "t"))
                #expect(try await status(one, key(tenantA, 1)) == 404)
            }
        }
    }

    // MARK: - An unavailable store

    /// `export download` of a presigned link: nothing listening, or a store that never answers, ends the download with an
    /// error instead of a hang, and leaves no file behind.
    /// A failed download leaves no partial file, and a file already at the target as it was.
    @Test func aDownloadFromAnUnreachableOrSilentStoreFailsAndLeavesNoFile() async throws {
        let silent = try SilentListener()
        defer { silent.stop() }
        let closedPort = try #require(FreePort.find())
        let directory = try TestPostgres.makeTemporaryDirectory("download")
        for port in [closedPort, silent.port] {
            let target = URL(fileURLWithPath: directory + "/export-\(port).csv")
            let existing = URL(fileURLWithPath: directory + "/existing-\(port).csv")
            try Data("an earlier export\n".utf8).write(to: existing)
            for destination in [target, existing] {
                let failure = await #expect(throws: TenantScopeError.self) {
                    try await ExportFileDownload.save(URL(string: "http://127.0.0.1:\(port)/bucket/key?X-Amz-Signature=x")!, to: destination,
                                                      idleTimeout: .seconds(1))
                }
                #expect(failure?.description.contains("object store") == true, "\(String(describing: failure))")
            }
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["existing-\(port).csv"])
            #expect(try String(contentsOf: existing, encoding: .utf8) == "an earlier export\n")
            try FileManager.default.removeItem(at: existing)
        }
    }

    /// Nothing listening, or a listener that never answers: every operation fails within its timeouts
    /// with ExportStoreUnavailable (HTTP 503), and a failed upload keeps its file.
    @Test func anUnreachableOrSilentStoreIsUnavailableNotAHang() async throws {
        let silent = try SilentListener()
        defer { silent.stop() }
        let closedPort = try #require(FreePort.find())
        for port in [closedPort, silent.port] {
            var configuration = try S3ExportStore.Configuration(url: "s3://\(Self.bucket)/p", environment: [
                "AWS_ACCESS_KEY_ID": "AKIA", "AWS_SECRET_ACCESS_KEY": "s", "AWS_ENDPOINT_URL": "http://127.0.0.1:\(port)",
            ])
            configuration.connectTimeout = .seconds(2)
            configuration.requestTimeout = .seconds(2)
            let store = S3ExportStore(configuration: configuration, logger: Logger(label: "t"))
            try await using([store]) {
                let (file, _) = try exportFile(size: 50_000)
                let started = ContinuousClock.now
                let upload = await #expect(throws: ExportStoreUnavailable.self) {
                    try await store.store(file: file, as: key(tenantA, 1), contentType: "text/csv", logger: Logger(label: "t"))
                }
                await #expect(throws: ExportStoreUnavailable.self) { try await store.remove(key(tenantA, 1), logger: Logger(label: "t")) }
                await #expect(throws: ExportStoreUnavailable.self) { try await store.removeAll(of: tenantA, logger: Logger(label: "t")) }
                let elapsed = ContinuousClock.now - started
                #expect(elapsed < .seconds(30), "three operations took \(elapsed) against port \(port)")
                #expect(FileManager.default.fileExists(atPath: file.path))
                #expect(ErrorMiddleware<AppRequestContext>.status(of: try #require(upload)) == .serviceUnavailable)
            }
        }
    }
}
