import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import TenantScopeCore

/// The HTTP client of `verify-isolation`: follows no redirect (a 303 is the answer to judge, and its
/// `Set-Cookie` the session to keep), keeps no cookie, and gives up on a request after `timeout`.
///
/// AsyncHTTPClient rather than URLSession: on Linux, FoundationNetworking's URLSession never completes
/// a request answered with 401 and a `WWW-Authenticate` header (the LRS's answer to a missing or wrong
/// key), and its request timeout does not fire either; the walk would hang on its first such answer.
final class IsolationHTTPClient: Sendable {
    struct Request: Sendable {
        var method: String
        /// Percent-encoded path, e.g. `/api/v1/reports/active_learners`.
        var path: String
        var query: [(String, String)] = []
        var headers: [(String, String)] = []
        var body: Data?
    }

    /// Larger bodies are cut off there (and judged as far as read): no route answers this much.
    static let maximumBody = 16 * 1024 * 1024

    let base: URL
    let client: HTTPClient
    let timeout: TimeAmount

    init(base: URL, timeout: TimeInterval) {
        self.base = base
        self.timeout = .milliseconds(Int64(timeout * 1000))
        let configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(10), read: self.timeout),
            decompression: .disabled)
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    func shutdown() async {
        try? await client.shutdown()
    }


    func url(_ request: Request) -> String {
        var text = base.absoluteString
        while text.hasSuffix("/") { text.removeLast() }
        text += request.path
        if !request.query.isEmpty {
            text += "?" + request.query.map { QueryParameters.encode($0.0) + "=" + QueryParameters.encode($0.1) }.joined(separator: "&")
        }
        return text
    }

    func send(_ request: Request) async throws -> IsolationHTTPAnswer {
        var outgoing = HTTPClientRequest(url: url(request))
        outgoing.method = HTTPMethod(rawValue: request.method)
        for (name, value) in request.headers { outgoing.headers.add(name: name, value: value) }
        if let body = request.body { outgoing.body = .bytes(ByteBuffer(bytes: body)) }
        let response = try await client.execute(outgoing, timeout: timeout)
        let body = request.method == "HEAD" ? ByteBuffer() : try await response.body.collect(upTo: Self.maximumBody)
        return IsolationHTTPAnswer(status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) },
                                   body: String(buffer: body))
    }
}

extension IsolationHTTPAnswer {
    /// The value of cookie `name` in the `Set-Cookie` headers.
    func setCookie(_ name: String) -> String? {
        for header in headers where header.count == 2 && header[0].lowercased() == "set-cookie" {
            let pair = header[1].split(separator: ";", maxSplits: 1).first ?? ""
            let nameValue = pair.split(separator: "=", maxSplits: 1)
            if nameValue.count == 2, nameValue[0].trimmingCharacters(in: .whitespaces) == name { return String(nameValue[1]) }
        }
        return nil
    }
}
