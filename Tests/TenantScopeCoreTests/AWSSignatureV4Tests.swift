import Crypto
import Foundation
import Testing
@testable import TenantScopeCore

/// Every expected value here is one AWS publishes: the Amazon S3 API Reference's examples for
/// "Signature Calculations for the Authorization Header: Transferring Payload in a Single Chunk" (GET
/// Object, PUT Object, GET Bucket Lifecycle, Get Bucket (List Objects)) and "Authenticating Requests:
/// Using Query Parameters" (the presigned GET), with the documentation's example key pair, us-east-1
/// and 2013-05-24T00:00:00Z; and the IAM User Guide's signing-key example.
@Suite struct AWSSignatureV4Tests {
    static let credentials = AWSSignatureV4.Credentials(accessKeyID: "AKIAIOSFODNN7EXAMPLE",
                                                        secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    static let signer = AWSSignatureV4(credentials: credentials, region: "us-east-1")
    /// 20130524T000000Z
    static let date = Date(timeIntervalSince1970: 1_369_353_600)
    static let host = "examplebucket.s3.amazonaws.com"

    @Test func getObjectExample() {
        let request = AWSSignatureV4.Request(method: "GET", host: Self.host, path: "/test.txt", headers: [(name: "Range", value: "bytes=0-9")])
        let signed = Self.signer.sign(request, payloadHash: AWSSignatureV4.emptyPayloadHash, date: Self.date)
        #expect(signed.canonicalRequest == """
            GET
            /test.txt

            host:examplebucket.s3.amazonaws.com
            range:bytes=0-9
            x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            x-amz-date:20130524T000000Z

            host;range;x-amz-content-sha256;x-amz-date
            e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            """)
        #expect(signed.stringToSign == """
            AWS4-HMAC-SHA256
            20130524T000000Z
            20130524/us-east-1/s3/aws4_request
            7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972
            """)
        #expect(signed.signature == "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
        #expect(signed.authorization == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
            + "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
            + "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
        let sent = Dictionary(signed.headers.map { ($0.name.lowercased(), $0.value) }, uniquingKeysWith: { first, _ in first })
        #expect(sent["host"] == Self.host)
        #expect(sent["x-amz-date"] == "20130524T000000Z")
        #expect(sent["x-amz-content-sha256"] == AWSSignatureV4.emptyPayloadHash)
        #expect(sent["range"] == "bytes=0-9")
        #expect(sent["authorization"] == signed.authorization)
        #expect(sent["x-amz-security-token"] == nil)
    }

    @Test func putObjectExample() throws {
        let body = Data("Welcome to Amazon S3.".utf8)
        let payloadHash = AWSSignatureV4.hexSHA256(body)
        #expect(payloadHash == "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072")
        // The key is test$file.text: `$` is encoded in the canonical path.
        let request = try #require(AWSSignatureV4.Request(
            method: "PUT", url: URL(string: "https://examplebucket.s3.amazonaws.com/test$file.text")!,
            headers: [(name: "Date", value: "Fri, 24 May 2013 00:00:00 GMT"), (name: "x-amz-storage-class", value: "REDUCED_REDUNDANCY")]))
        let signed = Self.signer.sign(request, payloadHash: payloadHash, date: Self.date)
        #expect(signed.canonicalRequest == """
            PUT
            /test%24file.text

            date:Fri, 24 May 2013 00:00:00 GMT
            host:examplebucket.s3.amazonaws.com
            x-amz-content-sha256:44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072
            x-amz-date:20130524T000000Z
            x-amz-storage-class:REDUCED_REDUNDANCY

            date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class
            44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072
            """)
        #expect(signed.stringToSign.hasSuffix("\n9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d"))
        #expect(signed.signature == "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd")
        #expect(request.url.absoluteString == "https://examplebucket.s3.amazonaws.com/test%24file.text")
    }

    /// A parameter without a value (`?lifecycle`) is signed as `lifecycle=`.
    @Test func getBucketLifecycleExample() throws {
        let request = try #require(AWSSignatureV4.Request(method: "GET", url: URL(string: "https://examplebucket.s3.amazonaws.com/?lifecycle")!))
        let signed = Self.signer.sign(request, payloadHash: AWSSignatureV4.emptyPayloadHash, date: Self.date)
        #expect(signed.canonicalRequest.split(separator: "\n", omittingEmptySubsequences: false)[2] == "lifecycle=")
        #expect(signed.signature == "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543")
    }

    /// Parameters are sorted by name whatever order they come in.
    @Test func listObjectsExample() {
        let request = AWSSignatureV4.Request(method: "GET", host: Self.host, path: "/",
                                             query: [(name: "prefix", value: "J"), (name: "max-keys", value: "2")])
        let signed = Self.signer.sign(request, payloadHash: AWSSignatureV4.emptyPayloadHash, date: Self.date)
        #expect(request.canonicalQueryString == "max-keys=2&prefix=J")
        #expect(signed.signature == "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7")
    }

    @Test func presignedGetExample() {
        let request = AWSSignatureV4.Request(method: "GET", host: Self.host, path: "/test.txt")
        let presigned = Self.signer.presign(request, expiresIn: 86_400, date: Self.date)
        #expect(presigned.canonicalRequest == """
            GET
            /test.txt
            X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host
            host:examplebucket.s3.amazonaws.com

            host
            UNSIGNED-PAYLOAD
            """)
        #expect(presigned.stringToSign == """
            AWS4-HMAC-SHA256
            20130524T000000Z
            20130524/us-east-1/s3/aws4_request
            3bfa292879f6447bbcda7001decf97f4a54dc650c8942174ae0a9121cf58ad04
            """)
        #expect(presigned.signature == "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404")
        #expect(presigned.url.absoluteString == "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256"
            + "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z"
            + "&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
            + "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404")
    }

    /// The IAM User Guide's derivation example (secret with `+`, 2015-08-30, us-east-1, iam), and the
    /// signature of its string to sign.
    @Test func signingKeyExample() {
        let signer = AWSSignatureV4(credentials: .init(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
                                    region: "us-east-1", service: "iam")
        let date = Date(timeIntervalSince1970: 1_440_938_160)  // 20150830T123600Z
        let key = signer.signingKey(date: date).withUnsafeBytes { Array($0) }
        #expect(AWSSignatureV4.hex(key) == "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9")
        let stringToSign = """
            AWS4-HMAC-SHA256
            20150830T123600Z
            20150830/us-east-1/iam/aws4_request
            f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59
            """
        #expect(signer.signature(of: stringToSign, date: date) == "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7")
    }

    /// AWS's UriEncode: unreserved characters stay, everything else is %XX of its UTF-8 bytes with
    /// upper-case hex; a space is %20 (never `+`), and `/` is kept only in a path.
    @Test(arguments: [
        ("A-Za-z0-9-._~", true, "A-Za-z0-9-._~"),
        ("a b", true, "a%20b"),
        ("a+b", true, "a%2Bb"),
        ("100%", true, "100%25"),
        ("a/b", true, "a%2Fb"),
        ("a/b", false, "a/b"),
        ("!'()*", true, "%21%27%28%29%2A"),
        ("=&?#:@$,;", true, "%3D%26%3F%23%3A%40%24%2C%3B"),
        ("é", true, "%C3%A9"),
        ("😀", true, "%F0%9F%98%80"),
        ("attachment; filename=\"export-1.csv\"", true, "attachment%3B%20filename%3D%22export-1.csv%22"),
    ])
    func uriEncoding(_ text: String, _ encodeSlash: Bool, _ expected: String) {
        #expect(AWSSignatureV4.uriEncode(text, encodeSlash: encodeSlash) == expected)
    }

    /// The URL sent is the one signed: the key's special characters encoded once, slashes kept,
    /// nothing normalised (S3 keys may contain `//` and `.`).
    @Test func pathIsEncodedOnceAndNeverNormalised() {
        let request = AWSSignatureV4.Request(method: "GET", scheme: "http", host: "127.0.0.1:9000", path: "/bucket/a b//./c+d%",
                                             query: [(name: "list-type", value: "2"), (name: "prefix", value: "p/q r")])
        #expect(request.canonicalURI == "/bucket/a%20b//./c%2Bd%25")
        #expect(request.canonicalQueryString == "list-type=2&prefix=p%2Fq%20r")
        #expect(request.url.absoluteString == "http://127.0.0.1:9000/bucket/a%20b//./c%2Bd%25?list-type=2&prefix=p%2Fq%20r")
    }

    /// Decoding a URL and encoding it again for signing gives back the same bytes.
    @Test func requestFromURLKeepsPortAndDecodesOnce() throws {
        let request = try #require(AWSSignatureV4.Request(method: "GET", url: URL(string: "http://localhost:9000/b/x%20y?a=%2F&b")!))
        #expect(request.host == "localhost:9000")
        #expect(request.path == "/b/x y")
        #expect(request.query.map { "\($0.name)=\($0.value)" } == ["a=/", "b="])
        #expect(request.url.absoluteString == "http://localhost:9000/b/x%20y?a=%2F&b=")
        let defaultPort = try #require(AWSSignatureV4.Request(method: "GET", url: URL(string: "https://s3.example.com:443/b")!))
        #expect(defaultPort.host == "s3.example.com")
    }

    /// Header values are trimmed and inner runs of spaces collapsed; names are lower-cased and sorted.
    @Test func canonicalHeadersTrimAndSort() {
        let (canonical, signed) = AWSSignatureV4.canonicalHeaders([
            (name: "X-Amz-Meta-B", value: "  two   words  "), (name: "Content-Type", value: "text/csv"), (name: "x-amz-meta-b", value: "again"),
        ])
        #expect(canonical == "content-type:text/csv\nx-amz-meta-b:two words,again\n")
        #expect(signed == "content-type;x-amz-meta-b")
    }

    /// A caller's own `Host` or `Authorization` is replaced, not sent twice.
    @Test func headersTheSignerSetsAreNotDoubled() {
        let request = AWSSignatureV4.Request(method: "GET", host: Self.host, path: "/test.txt",
                                             headers: [(name: "Host", value: "elsewhere"), (name: "Authorization", value: "x")])
        let names = Self.signer.sign(request, payloadHash: AWSSignatureV4.emptyPayloadHash, date: Self.date).headers.map { $0.name.lowercased() }
        #expect(names.filter { $0 == "host" }.count == 1)
        #expect(names.filter { $0 == "authorization" }.count == 1)
    }

    /// Temporary credentials sign and send their token: `x-amz-security-token` as a header, and
    /// `X-Amz-Security-Token` inside the presigned query (signed, so it cannot be swapped).
    @Test func sessionTokenIsSigned() {
        let signer = AWSSignatureV4(credentials: .init(accessKeyID: "ASIAEXAMPLE", secretAccessKey: "secret", sessionToken: "to/ken="),
                                    region: "eu-west-1")
        let request = AWSSignatureV4.Request(method: "GET", host: "s3.eu-west-1.amazonaws.com", path: "/b/k")
        let signed = signer.sign(request, payloadHash: AWSSignatureV4.unsignedPayload, date: Self.date)
        #expect(signed.canonicalRequest.contains("\nx-amz-security-token:to/ken=\n"))
        #expect(signed.authorization.contains("SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token,"))
        #expect(signed.canonicalRequest.hasSuffix("\nUNSIGNED-PAYLOAD"))
        let presigned = signer.presign(request, expiresIn: 60, date: Self.date)
        #expect(presigned.canonicalRequest.contains("&X-Amz-Security-Token=to%2Fken%3D"))
        #expect(presigned.url.absoluteString.contains("&X-Amz-Security-Token=to%2Fken%3D&X-Amz-SignedHeaders=host&X-Amz-Signature="))
    }

    /// Extra query parameters of a presigned URL (what S3 should answer with) are signed in their
    /// sorted place; a changed value gives another signature.
    @Test func presignedResponseParametersAreSigned() {
        func presign(_ disposition: String) -> AWSSignatureV4.PresignedURL {
            let request = AWSSignatureV4.Request(method: "GET", host: Self.host, path: "/test.txt",
                                                 query: [(name: "response-content-disposition", value: disposition)])
            return Self.signer.presign(request, expiresIn: 3600, date: Self.date)
        }
        let url = presign("attachment; filename=\"a.csv\"")
        #expect(url.url.absoluteString.contains(
            "&X-Amz-SignedHeaders=host&response-content-disposition=attachment%3B%20filename%3D%22a.csv%22&X-Amz-Signature="))
        #expect(url.signature != presign("attachment; filename=\"b.csv\"").signature)
    }

    @Test func timestampIsUTCBasicFormat() {
        #expect(AWSSignatureV4.timestamp(Date(timeIntervalSince1970: 0)) == "19700101T000000Z")
        #expect(AWSSignatureV4.timestamp(Date(timeIntervalSince1970: 1_369_353_600.999)) == "20130524T000000Z")
        #expect(AWSSignatureV4.timestamp(Date(timeIntervalSince1970: 951_782_400)) == "20000229T000000Z")
        #expect(AWSSignatureV4.timestamp(Date(timeIntervalSince1970: 4_102_444_799)) == "20991231T235959Z")
    }

    /// The secret never appears in a description, a debug description or a dump.
    @Test func credentialsNeverPrintTheSecret() {
        let credentials = AWSSignatureV4.Credentials(accessKeyID: "AKIAVISIBLE", secretAccessKey: "s3cr3t-value", sessionToken: "t0ken-value")
        var dumped = ""
        dump(credentials, to: &dumped)
        for text in ["\(credentials)", String(reflecting: credentials), dumped, "\(AWSSignatureV4(credentials: credentials, region: "x"))"] {
            #expect(!text.contains("s3cr3t-value"))
            #expect(!text.contains("t0ken-value"))
        }
        #expect("\(credentials)".contains("AKIAVISIBLE"))
    }
}
