import Crypto
import Foundation

/// AWS Signature Version 4 for Amazon S3 and S3-compatible servers: the `Authorization` header of a
/// request, and query-string presigning (a URL that carries its own signature and expiry).
///
/// Pure: the time is an argument, nothing is sent. Each step (canonical request, string to sign,
/// signing key, signature) is visible in the result, because a server's `SignatureDoesNotMatch` says
/// nothing about which of the inputs was off; the tests check every step against AWS's published
/// examples.
///
/// S3's rules, which differ from other services': the path is URI-encoded once (not twice) and never
/// normalised (`a//b` and `a/./b` are distinct keys), and `x-amz-content-sha256` is always signed.
public struct AWSSignatureV4: Sendable {
    /// The algorithm name that starts the string to sign and the `Authorization` header.
    public static let algorithm = "AWS4-HMAC-SHA256"
    /// The payload hash of a request whose body is not signed (what every presigned URL uses).
    public static let unsignedPayload = "UNSIGNED-PAYLOAD"
    /// SHA-256 of the empty body, the payload hash of GET, DELETE and HEAD requests.
    public static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    /// The longest validity AWS accepts for a presigned URL (7 days).
    public static let maximumPresignedExpiry = 604_800

    public let credentials: Credentials
    public let region: String
    public let service: String

    public init(credentials: Credentials, region: String, service: String = "s3") {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    // MARK: - Signing

    /// Signs `request` for the `Authorization` header.
    ///
    /// - Parameters:
    ///   - payloadHash: the lowercase hex SHA-256 of the body (``emptyPayloadHash`` for none), or
    ///     ``unsignedPayload``; it is sent as `x-amz-content-sha256`.
    ///   - date: the signing time; the server refuses a request more than 15 minutes off its clock.
    /// - Returns: every header to send: the request's own, `host`, `x-amz-date`, `x-amz-content-sha256`,
    ///   `x-amz-security-token` with temporary credentials, and `authorization`.
    public func sign(_ request: Request, payloadHash: String, date: Date) -> SignedRequest {
        let timestamp = Self.timestamp(date)
        var headers = request.headers.filter { !Self.headersSetBySigner.contains($0.name.lowercased()) }
        headers.append((name: "host", value: request.host))
        headers.append((name: "x-amz-date", value: timestamp))
        headers.append((name: "x-amz-content-sha256", value: payloadHash))
        if let token = credentials.sessionToken { headers.append((name: "x-amz-security-token", value: token)) }

        let (canonicalHeaders, signedHeaders) = Self.canonicalHeaders(headers)
        let canonicalRequest = [request.method, request.canonicalURI, request.canonicalQueryString,
                                canonicalHeaders, signedHeaders, payloadHash].joined(separator: "\n")
        let stringToSign = stringToSign(canonicalRequest: canonicalRequest, timestamp: timestamp)
        let signature = signature(of: stringToSign, date: date)
        let authorization = "\(Self.algorithm) Credential=\(credentials.accessKeyID)/\(scope(date: date)),"
            + "SignedHeaders=\(signedHeaders),Signature=\(signature)"
        headers.append((name: "authorization", value: authorization))
        return SignedRequest(headers: headers, canonicalRequest: canonicalRequest, stringToSign: stringToSign,
                             signature: signature, authorization: authorization)
    }

    /// A presigned URL for `request`: anyone holding it may make that request (method, path, query and
    /// signed headers as given) until `expiresIn` seconds after `date`.
    ///
    /// Only `host` is signed among the headers unless `request.headers` names more (which the user of
    /// the URL must then send). The payload is ``unsignedPayload``, as AWS specifies for presigning.
    /// With temporary credentials the token travels in `X-Amz-Security-Token`, and the URL stops working
    /// when those credentials expire, whatever `expiresIn` says.
    ///
    /// - Precondition: `expiresIn` is within 1...``maximumPresignedExpiry`` (AWS refuses others).
    public func presign(_ request: Request, expiresIn: Int, date: Date) -> PresignedURL {
        precondition((1...Self.maximumPresignedExpiry).contains(expiresIn), "X-Amz-Expires must be within 1...604800 seconds")
        let timestamp = Self.timestamp(date)
        var headers = request.headers.filter { !Self.headersSetBySigner.contains($0.name.lowercased()) }
        headers.append((name: "host", value: request.host))
        let (canonicalHeaders, signedHeaders) = Self.canonicalHeaders(headers)

        var signing = request
        signing.query.removeAll { Self.presignParameters.contains($0.name) }
        signing.query += [
            (name: "X-Amz-Algorithm", value: Self.algorithm),
            (name: "X-Amz-Credential", value: "\(credentials.accessKeyID)/\(scope(date: date))"),
            (name: "X-Amz-Date", value: timestamp),
            (name: "X-Amz-Expires", value: String(expiresIn)),
            (name: "X-Amz-SignedHeaders", value: signedHeaders),
        ]
        if let token = credentials.sessionToken { signing.query.append((name: "X-Amz-Security-Token", value: token)) }

        let canonicalQuery = signing.canonicalQueryString
        let canonicalRequest = [request.method, request.canonicalURI, canonicalQuery,
                                canonicalHeaders, signedHeaders, Self.unsignedPayload].joined(separator: "\n")
        let stringToSign = stringToSign(canonicalRequest: canonicalRequest, timestamp: timestamp)
        let signature = signature(of: stringToSign, date: date)
        // The signature goes last, after the sorted parameters it signs (as in AWS's example).
        let url = "\(request.scheme)://\(request.host)\(request.canonicalURI)?\(canonicalQuery)&X-Amz-Signature=\(signature)"
        return PresignedURL(url: URL(string: url)!, canonicalRequest: canonicalRequest, stringToSign: stringToSign, signature: signature)
    }

    // MARK: - The steps

    /// `<yyyymmdd>/<region>/<service>/aws4_request`: what the signature is valid for.
    public func scope(date: Date) -> String {
        "\(Self.timestamp(date).prefix(8))/\(region)/\(service)/aws4_request"
    }

    /// The string to sign: the algorithm, the time, the scope and the canonical request's SHA-256.
    public func stringToSign(canonicalRequest: String, timestamp: String) -> String {
        let scope = "\(timestamp.prefix(8))/\(region)/\(service)/aws4_request"
        return [Self.algorithm, timestamp, scope, Self.hexSHA256(Data(canonicalRequest.utf8))].joined(separator: "\n")
    }

    /// The signing key: HMAC-SHA256 chained over the date, region, service and `aws4_request`, keyed
    /// first with `AWS4` + the secret. Valid for one day, region and service.
    public func signingKey(date: Date) -> SymmetricKey {
        let day = String(Self.timestamp(date).prefix(8))
        var key = SymmetricKey(data: Data(("AWS4" + credentials.secretAccessKey).utf8))
        for part in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data(part.utf8), using: key)))
        }
        return key
    }

    /// The lowercase hex HMAC-SHA256 of `stringToSign` under the signing key of `date`'s day.
    public func signature(of stringToSign: String, date: Date) -> String {
        Self.hex(HMAC<SHA256>.authenticationCode(for: Data(stringToSign.utf8), using: signingKey(date: date)))
    }

    /// Headers as the canonical request lists them: lowercase names, sorted, values trimmed with inner
    /// runs of spaces collapsed, repeated names joined with commas; and the `;`-joined signed names.
    static func canonicalHeaders(_ headers: [(name: String, value: String)]) -> (canonical: String, signed: String) {
        var values: [String: [String]] = [:]
        for header in headers {
            let value = header.value.trimmingCharacters(in: .whitespaces).split(separator: " ", omittingEmptySubsequences: true)
                .joined(separator: " ")
            values[header.name.lowercased(), default: []].append(value)
        }
        let names = values.keys.sorted()
        let canonical = names.map { "\($0):\(values[$0]!.joined(separator: ","))\n" }.joined()
        return (canonical, names.joined(separator: ";"))
    }

    /// The headers ``sign(_:payloadHash:date:)`` sets itself; a caller's copies are dropped, not doubled.
    static let headersSetBySigner: Set<String> = ["host", "x-amz-date", "x-amz-content-sha256", "x-amz-security-token", "authorization"]
    /// The query parameters ``presign(_:expiresIn:date:)`` sets itself.
    static let presignParameters: Set<String> = ["X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires",
                                                 "X-Amz-SignedHeaders", "X-Amz-Security-Token", "X-Amz-Signature"]

    // MARK: - Encoding

    /// AWS's `UriEncode`: every byte of the UTF-8 form except the unreserved `A-Z a-z 0-9 - . _ ~`
    /// becomes `%XX` with upper-case hex (a space is `%20`, never `+`); `/` stays only when
    /// `encodeSlash` is false (an object key in the path).
    public static func uriEncode(_ text: String, encodeSlash: Bool) -> String {
        let hexDigits = Array("0123456789ABCDEF".utf8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                bytes.append(byte)
            case UInt8(ascii: "/") where !encodeSlash:
                bytes.append(byte)
            default:
                bytes += [UInt8(ascii: "%"), hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 0x0F)]]
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `yyyyMMdd'T'HHmmss'Z'` in UTC (ISO 8601 basic), the form of `x-amz-date` and `X-Amz-Date`.
    public static func timestamp(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        func padded(_ value: Int?, _ width: Int) -> String {
            let digits = String(value ?? 0)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return padded(parts.year, 4) + padded(parts.month, 2) + padded(parts.day, 2) + "T"
            + padded(parts.hour, 2) + padded(parts.minute, 2) + padded(parts.second, 2) + "Z"
    }

    /// Lowercase hex SHA-256 of `data` (a payload hash).
    public static func hexSHA256(_ data: some DataProtocol) -> String {
        hex(SHA256.hash(data: data))
    }

    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        for byte in bytes { text += [digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]] }
        return String(decoding: text, as: UTF8.self)
    }
}

extension AWSSignatureV4 {
    /// An access key pair, with a session token for temporary credentials. Never printed: its
    /// descriptions and mirror show the access key id only.
    public struct Credentials: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
        public let accessKeyID: String
        public let secretAccessKey: String
        public let sessionToken: String?

        public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
            self.accessKeyID = accessKeyID
            self.secretAccessKey = secretAccessKey
            self.sessionToken = sessionToken
        }

        public var description: String {
            "access key \(accessKeyID)\(sessionToken == nil ? "" : " (temporary)") with its secret redacted"
        }

        public var debugDescription: String { description }
        public var customMirror: Mirror { Mirror(self, children: ["accessKeyID": accessKeyID]) }
    }

    /// One request to sign, in decoded form: the signer encodes path and query the way it signs them,
    /// so the URL sent (``url``) is exactly the one signed.
    public struct Request: Sendable {
        public var method: String
        /// `https` or `http`.
        public var scheme: String
        /// The `Host` header's value: the host name, with `:port` when the port is not the scheme's default.
        public var host: String
        /// The decoded path, starting with `/`: for S3 path-style, `/<bucket>/<key>`.
        public var path: String
        /// Decoded query parameters, in any order (a valueless `?lifecycle` is `("lifecycle", "")`).
        public var query: [(name: String, value: String)]
        /// Headers to sign and send besides those the signer sets (`host`, `x-amz-*`, `authorization`).
        public var headers: [(name: String, value: String)]

        public init(method: String, scheme: String = "https", host: String, path: String,
                    query: [(name: String, value: String)] = [], headers: [(name: String, value: String)] = []) {
            self.method = method
            self.scheme = scheme
            self.host = host
            self.path = path.isEmpty ? "/" : path
            self.query = query
            self.headers = headers
        }

        /// The request for an absolute `http(s)` URL whose path and query are percent-encoded, as a URL is.
        public init?(method: String, url: URL, headers: [(name: String, value: String)] = []) {
            guard let components = URLComponents(url: url, resolvingAgainstBaseURL: false),
                  let scheme = components.scheme?.lowercased(), scheme == "https" || scheme == "http",
                  let hostName = components.host, !hostName.isEmpty,
                  let path = components.percentEncodedPath.removingPercentEncoding
            else { return nil }
            var host = hostName.contains(":") && !hostName.hasPrefix("[") ? "[\(hostName)]" : hostName
            if let port = components.port, port != (scheme == "https" ? 443 : 80) { host += ":\(port)" }
            var query: [(name: String, value: String)] = []
            for item in components.percentEncodedQueryItems ?? [] {
                guard let name = item.name.removingPercentEncoding, let value = (item.value ?? "").removingPercentEncoding else { return nil }
                query.append((name: name, value: value))
            }
            self.init(method: method, scheme: scheme, host: host, path: path, query: query, headers: headers)
        }

        /// The path encoded once, slashes kept (S3 neither normalises nor double-encodes it).
        public var canonicalURI: String { AWSSignatureV4.uriEncode(path, encodeSlash: false) }

        /// Names and values encoded (slashes too), sorted by name then value, `name=value` joined with `&`.
        public var canonicalQueryString: String {
            let encoded: [(name: String, value: String)] = query.map { parameter in
                (name: AWSSignatureV4.uriEncode(parameter.name, encodeSlash: true), value: AWSSignatureV4.uriEncode(parameter.value, encodeSlash: true))
            }
            let sorted = encoded.sorted { (a: (name: String, value: String), b: (name: String, value: String)) -> Bool in
                a.name == b.name ? a.value < b.value : a.name < b.name
            }
            return sorted.map { parameter -> String in parameter.name + "=" + parameter.value }.joined(separator: "&")
        }

        /// The URL to send: scheme, host, the canonical path and the canonical query.
        public var url: URL {
            let query = canonicalQueryString
            return URL(string: "\(scheme)://\(host)\(canonicalURI)\(query.isEmpty ? "" : "?" + query)")!
        }
    }

    /// A request signed for the `Authorization` header.
    public struct SignedRequest: Sendable {
        /// Every header to send, `authorization` last.
        public let headers: [(name: String, value: String)]
        public let canonicalRequest: String
        public let stringToSign: String
        /// The lowercase hex signature.
        public let signature: String
        /// The `Authorization` header's value.
        public let authorization: String
    }

    /// The payload hash of a body read in chunks (a file streamed from disk, never whole in memory).
    public struct PayloadHasher: Sendable {
        private var hasher = SHA256()

        public init() {}

        public mutating func update(_ bytes: UnsafeRawBufferPointer) {
            hasher.update(bufferPointer: bytes)
        }

        /// The lowercase hex SHA-256 of everything given, for `x-amz-content-sha256`.
        public func finalize() -> String {
            AWSSignatureV4.hex(hasher.finalize())
        }
    }

    /// A presigned URL, and how it was signed.
    public struct PresignedURL: Sendable {
        /// A bearer credential until it expires: never log it.
        public let url: URL
        public let canonicalRequest: String
        public let stringToSign: String
        public let signature: String
    }
}
