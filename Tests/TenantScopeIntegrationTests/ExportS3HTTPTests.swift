import AsyncHTTPClient
import Foundation
import HTTPTypes
import Testing
@testable import TenantScopeCore
@testable import TenantScopePostgres
@testable import TenantScopeServer
@testable import TenantScopeTestSupport

/// The whole export path on a real S3-compatible server (moto; S3ExportStoreTests checks the signing with
/// moto's signature checks on, which its presigned GETs do not survive): the worker
/// uploads the finished file under the tenant's prefix, the signed link redirects to a presigned GET that
/// serves it, another tenant gets nothing, and deleting the tenant empties its prefix.
@Suite(.database) struct ExportS3HTTPTests {
    @Test func anExportGoesToTheBucketAndIsDownloadedThroughAPresignedRedirect() async throws {
        try await S3ExportStoreTests().withMoto(enforcing: false) { moto, credentials in
            let store = try await S3ExportStoreTests().makeStore(moto, prefix: "e2e", credentials: credentials, createBucket: true)
            try await S3ExportStoreTests().using([store]) {
                try await ExportHTTPTests().withExports(store: store) { setup in
                    let a = setup.fixture.a
                    let canary = "https://example.com/s3-\(UUID().uuidString.lowercased())"
                    _ = try await setup.send(.post, "/xAPI/statements", a.headers, XAPIJSON.statement(object: canary), expect: .ok)
                    let admin = try await setup.headers(a)
                    let id = try #require(ExportHTTPTests.field(try await setup.send(.post, "/api/v1/exports", admin, #"{"statements": {}}"#,
                                                                                     expect: .accepted).body, "id"))
                    try await setup.drain()
                    let status = try await setup.send(.get, "/api/v1/exports/\(id)", admin, expect: .ok)
                    #expect(ExportHTTPTests.field(status.body, "state") == "done", "\(status.body)")
                    let link = try #require(ExportHTTPTests.field(status.body, "download_url"))

                    let redirect = try await setup.send(.get, link, expect: .seeOther)
                    let location = try #require(redirect.headers[.location].flatMap(URL.init(string:)))
                    #expect(location.path == "/\(S3ExportStoreTests.bucket)/e2e/tenants/\(a.tenant.id)/exports/\(id)")
                    #expect(location.query?.contains("X-Amz-Expires=") == true && location.query?.contains("X-Amz-Signature=") == true)
                    let (statusCode, body) = try await Self.fetch(location)
                    #expect(statusCode == 200 && body.contains(canary), "\(statusCode): \(body.prefix(300))")

                    // The operator's `export download` follows the same presigned link and saves the same bytes.
                    let saved = TenantScopeBinary.stateDirectory + "/s3-download-\(id).ndjson"
                    let cli = try await TenantScopeBinary.run(
                        ["export", "download", "--tenant", a.tenant.slug.rawValue, id, "--output", saved,
                         "--export-store", "s3://\(S3ExportStoreTests.bucket)/e2e", "--database-url", try TestDatabase.current.ownerEndpoint.url],
                        environment: ["AWS_ACCESS_KEY_ID": credentials.accessKeyID, "AWS_SECRET_ACCESS_KEY": credentials.secretAccessKey,
                                      "AWS_ENDPOINT_URL": moto.endpoint])
                    #expect(cli.status == 0 && cli.output.contains("Downloaded"), "\(cli.output)")
                    #expect(FileManager.default.contents(atPath: saved) == Data(body.utf8))
                    // Nothing but the file is left beside it (the partial file was renamed onto it).
                    #expect(try FileManager.default.contentsOfDirectory(atPath: TenantScopeBinary.stateDirectory).filter { $0.hasSuffix(".partial") }.isEmpty)
                    // A download that fails (the store is unreachable) leaves the file already there as it was.
                    let closedPort = try #require(FreePort.find())
                    let failed = try await TenantScopeBinary.run(
                        ["export", "download", "--tenant", a.tenant.slug.rawValue, id, "--output", saved,
                         "--export-store", "s3://\(S3ExportStoreTests.bucket)/e2e", "--database-url", try TestDatabase.current.ownerEndpoint.url],
                        environment: ["AWS_ACCESS_KEY_ID": credentials.accessKeyID, "AWS_SECRET_ACCESS_KEY": credentials.secretAccessKey,
                                      "AWS_ENDPOINT_URL": "http://127.0.0.1:\(closedPort)"])
                    #expect(failed.status != 0 && failed.output.contains("object store"), "\(failed.output)")
                    #expect(FileManager.default.contents(atPath: saved) == Data(body.utf8))

                    // B's admin cannot read the job; deleting A empties A's prefix (the presigned URL then finds nothing).
                    _ = try await setup.send(.get, "/api/v1/exports/\(id)", try await setup.headers(setup.fixture.b), expect: .notFound)
                    var platform = HTTPFields()
                    platform[.authorization] = "Bearer " + (try await TestTokens.platform("deleter"))
                    let slug = a.tenant.slug.rawValue
                    _ = try await setup.send(.delete, "/api/v1/platform/tenants/\(slug)?confirm=\(slug)", platform, expect: .ok)
                    // moto answers a presigned GET of a missing key with 403, so ask the bucket directly (signed HEAD).
                    let objectKey = store.configuration.objectKey(ExportObjectKey(tenant: a.tenant.id, job: UUID(uuidString: id)!, fileExtension: "ndjson"))
                    let gone = await #expect(throws: S3ResponseError.self) {
                        _ = try await store.client.send("HeadObject", store.client.request("HEAD", key: objectKey), logger: TestDatabase.logger)
                    }
                    #expect(gone?.status == 404)
                    #expect(!(try await Self.fetch(location).body.contains(canary)))
                }
            }
        }
    }

    /// A plain GET of a URL, as a browser following the redirect would.
    static func fetch(_ url: URL) async throws -> (status: Int, body: String) {
        let request = HTTPClientRequest(url: url.absoluteString)
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 10 << 20)
        return (Int(response.status.code), String(buffer: body))
    }
}
