import Foundation
import HTTPTypes
import Testing
@testable import TenantScopeCore
@testable import TenantScopeServer

/// `--export-store s3://…` and the environment: what is accepted, and that every refusal names the
/// problem without echoing a secret.
@Suite struct S3ExportStoreConfigurationTests {
    static let credentials = ["AWS_ACCESS_KEY_ID": "AKIATEST", "AWS_SECRET_ACCESS_KEY": "secret-value-never-shown"]
    let tenant = TenantID(uuidString: "0b7c2f9e-8d1a-4c55-9f3e-2a6b1c4d5e6f")!
    let job = UUID(uuidString: "A1B2C3D4-0000-4000-8000-000000000001")!

    @Test func defaultsToAWSInUSEast1() throws {
        let configuration = try S3ExportStore.Configuration(url: "s3://exports-bucket/tenantscope/prod", environment: Self.credentials)
        #expect(configuration.bucket == "exports-bucket")
        #expect(configuration.prefix == "tenantscope/prod")
        #expect(configuration.region == "us-east-1")
        #expect(configuration.endpoint.absoluteString == "https://s3.us-east-1.amazonaws.com")
        #expect(configuration.credentials.accessKeyID == "AKIATEST")
        #expect(configuration.credentials.sessionToken == nil)
    }

    @Test func readsRegionEndpointAndSessionToken() throws {
        var environment = Self.credentials
        environment["AWS_REGION"] = "eu-west-3"
        environment["AWS_SESSION_TOKEN"] = "token"
        #expect(try S3ExportStore.Configuration(url: "s3://b-1/p", environment: environment).endpoint.absoluteString
            == "https://s3.eu-west-3.amazonaws.com")
        environment["AWS_ENDPOINT_URL"] = "http://127.0.0.1:9000/"
        let configuration = try S3ExportStore.Configuration(url: "s3://b-1/p", environment: environment)
        #expect(configuration.endpoint.absoluteString == "http://127.0.0.1:9000")
        #expect(configuration.region == "eu-west-3")
        #expect(configuration.credentials.sessionToken == "token")
        // The S3-specific variable wins, as in the AWS tools.
        environment["AWS_ENDPOINT_URL_S3"] = "https://minio.internal:9443"
        #expect(try S3ExportStore.Configuration(url: "s3://b-1/p", environment: environment).endpoint.absoluteString
            == "https://minio.internal:9443")
        // AWS_DEFAULT_REGION when AWS_REGION is unset or empty.
        environment["AWS_REGION"] = ""
        environment["AWS_DEFAULT_REGION"] = "ap-south-1"
        #expect(try S3ExportStore.Configuration(url: "s3://b-1/p", environment: environment).region == "ap-south-1")
    }

    /// Object keys: `<prefix>/tenants/<tenant>/exports/<job>`, never a double slash, whatever slashes
    /// the URL had; no prefix puts them at the bucket's root.
    @Test(arguments: [
        ("s3://bucket", ""), ("s3://bucket/", ""), ("s3://bucket/p", "p"), ("s3://bucket/p/", "p"),
        ("s3://bucket//a//b/", "a/b"), ("S3://bucket/a/b", "a/b"),
    ])
    func prefixesAreNormalised(_ url: String, _ prefix: String) throws {
        let configuration = try S3ExportStore.Configuration(url: url, environment: Self.credentials)
        #expect(configuration.prefix == prefix)
        let key = ExportObjectKey(tenant: tenant, job: job, fileExtension: "csv")
        let expected = (prefix.isEmpty ? "" : prefix + "/") + "tenants/\(tenant)/exports/a1b2c3d4-0000-4000-8000-000000000001"
        #expect(configuration.objectKey(key) == expected)
        #expect(!configuration.objectKey(key).contains("//"))
        #expect(configuration.tenantPrefix(tenant) == (prefix.isEmpty ? "" : prefix + "/") + "tenants/\(tenant)/exports/")
    }

    @Test func missingCredentialsAreNamed() {
        for (environment, missing) in [([String: String](), "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY"),
                                       (["AWS_ACCESS_KEY_ID": "AKIA"], "AWS_SECRET_ACCESS_KEY"),
                                       (["AWS_ACCESS_KEY_ID": " ", "AWS_SECRET_ACCESS_KEY": "s"], "AWS_ACCESS_KEY_ID")] {
            let error = #expect(throws: TenantScopeError.self) { try S3ExportStore.Configuration(url: "s3://bucket/p", environment: environment) }
            #expect(error?.kind == .environment)
            #expect(error?.message.hasSuffix("missing: \(missing)") == true, "\(error?.message ?? "")")
        }
    }

    @Test(arguments: [
        "https://bucket/p", "bucket/p", "s3://", "s3:///p", "s3://ab/p", "s3://-bucket/p", "s3://bucket-/p",
        "s3://bu..cket/p", "s3://bucket name/p", "s3://bucket/p?x=1", "s3://bucket/p#f", "s3://bucket/a/../b", "s3://bucket/./b",
        "s3://\(String(repeating: "b", count: 64))/p",
    ])
    func badURLsAreRefused(_ url: String) {
        let error = #expect(throws: TenantScopeError.self) { try S3ExportStore.Configuration(url: url, environment: Self.credentials) }
        #expect(error?.kind == .environment)
    }

    /// A URL with a key and secret in it is refused without repeating them.
    @Test func credentialsInTheURLAreNeverEchoed() {
        let error = #expect(throws: TenantScopeError.self) {
            try S3ExportStore.Configuration(url: "s3://AKIA:very-secret@bucket/p", environment: Self.credentials)
        }
        #expect(error?.message.contains("very-secret") == false)
        var environment = Self.credentials
        environment["AWS_ENDPOINT_URL"] = "https://user:endpoint-secret@minio.internal"
        let endpointError = #expect(throws: TenantScopeError.self) { try S3ExportStore.Configuration(url: "s3://bucket/p", environment: environment) }
        #expect(endpointError?.message.contains("endpoint-secret") == false)
        #expect(endpointError?.message.contains("AWS_ENDPOINT_URL") == true)
    }

    @Test(arguments: ["ftp://s3.example.com", "https://", "https://s3.example.com/base", "https://s3.example.com?x=1", "not a url"])
    func badEndpointsAreRefused(_ endpoint: String) {
        var environment = Self.credentials
        environment["AWS_ENDPOINT_URL"] = endpoint
        let error = #expect(throws: TenantScopeError.self) { try S3ExportStore.Configuration(url: "s3://bucket/p", environment: environment) }
        #expect(error?.kind == .environment)
    }

    @Test func badRegionIsRefused() {
        var environment = Self.credentials
        environment["AWS_REGION"] = "us east 1"
        let error = #expect(throws: TenantScopeError.self) { try S3ExportStore.Configuration(url: "s3://bucket/p", environment: environment) }
        #expect(error?.message.contains("AWS_REGION") == true)
    }

    /// Neither the configuration's description nor its location shows the secret (it goes to logs and
    /// the start-up line).
    @Test func descriptionsHideTheSecret() throws {
        var environment = Self.credentials
        environment["AWS_SESSION_TOKEN"] = "session-token-never-shown"
        let configuration = try S3ExportStore.Configuration(url: "s3://bucket/p", environment: environment)
        for text in [configuration.location, "\(configuration)", String(reflecting: configuration)] {
            #expect(!text.contains("secret-value-never-shown"))
            #expect(!text.contains("session-token-never-shown"))
        }
        #expect(configuration.location == "s3://bucket/p at https://s3.us-east-1.amazonaws.com (us-east-1)")
    }

    /// Presigned links live until `expires`, rounded up, but never past 24 hours nor below a second.
    @Test func downloadValidityIsCappedAt24Hours() {
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        #expect(S3ExportStore.validity(until: now.addingTimeInterval(3600), now: now) == 3600)
        #expect(S3ExportStore.validity(until: now.addingTimeInterval(10.2), now: now) == 11)
        #expect(S3ExportStore.validity(until: now.addingTimeInterval(86_400), now: now) == 86_400)
        #expect(S3ExportStore.validity(until: now.addingTimeInterval(7 * 86_400), now: now) == 86_400)
        #expect(S3ExportStore.validity(until: now.addingTimeInterval(-60), now: now) == 1)
        #expect(S3ExportStore.validity(until: .distantFuture, now: now) == 86_400)
    }

    /// An unreachable store is a 503 the client may retry; S3 refusing a request is the operator's
    /// problem (credentials, bucket), answered as a detail-free 503: never a 500.
    @Test func errorsMapToStatuses() {
        #expect(ErrorMiddleware<AppRequestContext>.status(of: ExportStoreUnavailable("S3 PutObject failed: connect timeout")) == .serviceUnavailable)
        #expect(ErrorMiddleware<AppRequestContext>.status(of: S3ResponseError(operation: "PutObject", status: 403, code: "AccessDenied",
                                                                               message: "Access Denied", requestID: "R1")) == .serviceUnavailable)
    }

    @Test func s3ErrorBodiesAreRead() {
        let body = Array("""
            <?xml version="1.0" encoding="UTF-8"?>
            <Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message>\
            <BucketName>b</BucketName><RequestId>4442587FB7D0A2F9</RequestId></Error>
            """.utf8)
        let error = S3ResponseError(operation: "PutObject", status: 404, body: body)
        #expect(error.code == "NoSuchBucket")
        #expect(error.requestID == "4442587FB7D0A2F9")
        #expect(error.description == "S3 PutObject answered 404 NoSuchBucket: The specified bucket does not exist (request id 4442587FB7D0A2F9)")
        #expect(S3ResponseError(operation: "DeleteObject", status: 403, body: []).description == "S3 DeleteObject answered 403")
    }
}
