import Foundation
import TenantScopeCore

extension S3ExportStore {
    /// Where and how the S3 store connects: from `--export-store s3://<bucket>/<prefix>` and the
    /// environment variables the AWS tools use. Its descriptions never show the secret.
    public struct Configuration: Sendable, CustomStringConvertible {
        /// The bucket, addressed path-style (`<endpoint>/<bucket>/<key>`), so names with dots work
        /// over TLS and S3-compatible servers need no wildcard DNS.
        public var bucket: String
        /// The key prefix every object of this store lives under, without leading or trailing `/`
        /// (empty for the bucket's root). Taken literally: no percent-decoding.
        public var prefix: String
        /// `scheme://host[:port]` of the S3 API.
        public var endpoint: URL
        public var region: String
        public var credentials: AWSSignatureV4.Credentials
        /// How long establishing a connection may take.
        public var connectTimeout: Duration = .seconds(10)
        /// How long a request may take to be answered, and how long a connection may go without
        /// reading or writing a byte; an upload gets more (``minimumUploadBytesPerSecond``).
        public var requestTimeout: Duration = .seconds(30)
        /// An upload's deadline is ``requestTimeout`` plus its size at this rate (1 MiB/s by default):
        /// a bound for a hung transfer, not a throughput target.
        public var minimumUploadBytesPerSecond: Int64 = 1 << 20
        /// Keys per ListObjectsV2 page (S3's maximum); tests lower it to page through a few objects.
        var listPageSize = 1000

        public init(bucket: String, prefix: String, endpoint: URL, region: String, credentials: AWSSignatureV4.Credentials) {
            self.bucket = bucket
            self.prefix = prefix
            self.endpoint = endpoint
            self.region = region
            self.credentials = credentials
        }

        /// The configuration of `--export-store <url>` with `environment` (the process's, in `serve`):
        ///
        /// - `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` (required), `AWS_SESSION_TOKEN` (temporary
        ///   credentials: presigned links stop working when they expire);
        /// - `AWS_REGION` (else `AWS_DEFAULT_REGION`, else `us-east-1`);
        /// - `AWS_ENDPOINT_URL_S3` (else `AWS_ENDPOINT_URL`, else `https://s3.<region>.amazonaws.com`).
        ///
        /// - Throws: ``TenantScopeError`` of kind `environment`, naming what is wrong or missing.
        public init(url: String, environment: [String: String]) throws {
            func value(_ name: String) -> String? {
                guard let value = environment[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else { return nil }
                return value
            }
            let (bucket, prefix) = try Self.parse(url)

            let missing = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"].filter { value($0) == nil }
            guard missing.isEmpty, let accessKey = value("AWS_ACCESS_KEY_ID"), let secret = value("AWS_SECRET_ACCESS_KEY") else {
                throw TenantScopeError.environment(
                    "the S3 export store needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment; missing: \(missing.joined(separator: ", "))")
            }
            let credentials = AWSSignatureV4.Credentials(accessKeyID: accessKey, secretAccessKey: secret, sessionToken: value("AWS_SESSION_TOKEN"))

            let regionVariable = value("AWS_REGION") != nil ? "AWS_REGION" : "AWS_DEFAULT_REGION"
            let region = value("AWS_REGION") ?? value("AWS_DEFAULT_REGION") ?? "us-east-1"
            guard region.count <= 64, region.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-" || $0 == "_") }) else {
                throw TenantScopeError.environment("\(regionVariable) must be a region name such as us-east-1; got \(region.prefix(64))")
            }

            let endpointVariable = value("AWS_ENDPOINT_URL_S3") != nil ? "AWS_ENDPOINT_URL_S3" : "AWS_ENDPOINT_URL"
            let endpointText = value("AWS_ENDPOINT_URL_S3") ?? value("AWS_ENDPOINT_URL") ?? "https://s3.\(region).amazonaws.com"
            let endpoint = try Self.endpoint(endpointText, variable: endpointVariable)

            self.init(bucket: bucket, prefix: prefix, endpoint: endpoint, region: region, credentials: credentials)
        }

        /// `s3://<bucket>[/<prefix>]`, with the prefix's empty segments dropped (`a//b/` is `a/b`).
        static func parse(_ url: String) throws -> (bucket: String, prefix: String) {
            let form = "--export-store must be s3://<bucket>/<prefix>"
            guard url.lowercased().hasPrefix("s3://") else { throw TenantScopeError.environment("\(form); got \(url.prefix(200))") }
            let rest = url.dropFirst(5)
            let bucketPart = rest.prefix { $0 != "/" }
            if bucketPart.contains("@") {
                // Never echoed: it may hold a key and secret.
                throw TenantScopeError.environment("the --export-store URL must not carry credentials; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
            }
            guard !url.contains("?"), !url.contains("#") else {
                throw TenantScopeError.environment("\(form), without a query or fragment; got \(url.prefix(200))")
            }
            let bucket = String(bucketPart)
            guard isValidBucketName(bucket) else {
                throw TenantScopeError.environment(
                    "'\(bucket.prefix(100))' is not an S3 bucket name: 3 to 63 letters, digits, dots, hyphens or underscores, starting and ending with a letter or digit")
            }
            let segments = rest.dropFirst(bucketPart.count).split(separator: "/", omittingEmptySubsequences: true)
            for segment in segments {
                guard segment != ".", segment != "..", !segment.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
                    throw TenantScopeError.environment("the --export-store prefix must not contain '.' or '..' segments or control characters")
                }
            }
            let prefix = segments.joined(separator: "/")
            // Object keys are at most 1024 bytes; a job's key below the prefix takes about 100.
            guard prefix.utf8.count <= 512 else { throw TenantScopeError.environment("the --export-store prefix is longer than 512 bytes") }
            return (bucket, prefix)
        }

        static func isValidBucketName(_ name: String) -> Bool {
            guard (3...63).contains(name.count), let first = name.first, let last = name.last,
                  first.isASCII && (first.isLetter || first.isNumber), last.isASCII && (last.isLetter || last.isNumber),
                  !name.contains("..")
            else { return false }
            return name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == "_") }
        }

        /// `scheme://host[:port]` of an `http(s)` URL with no credentials, path, query or fragment.
        static func endpoint(_ text: String, variable: String) throws -> URL {
            let shown = text.contains("@") ? "(a URL with credentials, not shown)" : String(text.prefix(200))
            guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
                  scheme == "https" || scheme == "http", let host = components.host, !host.isEmpty,
                  components.user == nil, components.password == nil, components.query == nil, components.fragment == nil,
                  components.path.isEmpty || components.path == "/"
            else {
                throw TenantScopeError.environment(
                    "\(variable) must be an http(s) URL of the S3 API with no path, such as https://s3.eu-west-1.amazonaws.com or http://127.0.0.1:9000; got \(shown)")
            }
            var normalised = URLComponents()
            normalised.scheme = scheme
            normalised.host = host
            normalised.port = components.port
            guard let url = normalised.url else { throw TenantScopeError.environment("\(variable) is not a usable URL: \(shown)") }
            return url
        }

        /// The object key of `key`: `<prefix>/tenants/<tenant-id>/exports/<job-id>`.
        public func objectKey(_ key: ExportObjectKey) -> String {
            prefixed(key.objectKey)
        }

        /// The key prefix of every object of `tenant`: `<prefix>/tenants/<tenant-id>/exports/`.
        public func tenantPrefix(_ tenant: TenantID) -> String {
            prefixed(ExportObjectKey.tenantPrefix(tenant))
        }

        private func prefixed(_ key: String) -> String {
            prefix.isEmpty ? key : prefix + "/" + key
        }

        /// `s3://<bucket>/<prefix> at <endpoint> (<region>)`: for logs and the start-up line.
        public var location: String {
            "s3://\(bucket)/\(prefix) at \(endpoint.absoluteString) (\(region))"
        }

        public var description: String { "\(location) with \(credentials)" }
    }
}
