import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// An HTTP client of a ``ServeProcess`` for fault tests: every exchange comes back as an ``Exchange``
/// (status, `Retry-After`, how long it took, or the transport error), never as a thrown error, so a
/// test can classify each answer. The per-request timeout is a hang detector, not a performance claim.
struct ServeClient: Sendable {
    struct Exchange: Sendable, CustomStringConvertible {
        let status: Int?
        let retryAfter: String?
        let elapsed: Duration
        let body: String
        let transportError: String?

        var description: String {
            "status=\(status.map(String.init) ?? "none") retry-after=\(retryAfter ?? "none") elapsed=\(elapsed) "
                + (transportError.map { "error=\($0)" } ?? "body=\(body.prefix(200))")
        }
    }

    let baseURL: String
    let timeout: Duration
    private let session: URLSession

    init(baseURL: String, timeout: Duration) {
        self.baseURL = baseURL
        self.timeout = timeout
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = Double(timeout.components.seconds)
        configuration.timeoutIntervalForResource = Double(timeout.components.seconds)
        configuration.httpMaximumConnectionsPerHost = 16
        self.session = URLSession(configuration: configuration)
    }

    /// `POST /xAPI/statements` with an LRS key over Basic auth.
    func postStatements(_ json: String, key: String, secret: String) async -> Exchange {
        var request = URLRequest(url: URL(string: baseURL + "/xAPI/statements")!)
        request.httpMethod = "POST"
        request.httpBody = Data(json.utf8)
        request.setValue("Basic " + Data("\(key):\(secret)".utf8).base64EncodedString(), forHTTPHeaderField: "Authorization")
        request.setValue("1.0.3", forHTTPHeaderField: "X-Experience-API-Version")
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        return await send(request)
    }

    /// `GET path`, with a bearer token when given.
    func get(_ path: String, bearer: String? = nil) async -> Exchange {
        var request = URLRequest(url: URL(string: baseURL + path)!)
        if let bearer { request.setValue("Bearer " + bearer, forHTTPHeaderField: "Authorization") }
        return await send(request)
    }

    /// `POST path` with a JSON body and a bearer token.
    func post(_ path: String, json: String, bearer: String) async -> Exchange {
        var request = URLRequest(url: URL(string: baseURL + path)!)
        request.httpMethod = "POST"
        request.httpBody = Data(json.utf8)
        request.setValue("Bearer " + bearer, forHTTPHeaderField: "Authorization")
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        return await send(request)
    }

    private func send(_ request: URLRequest) async -> Exchange {
        let start = ContinuousClock.now
        do {
            let (data, response) = try await session.data(for: request)
            let http = response as? HTTPURLResponse
            return Exchange(status: http?.statusCode, retryAfter: http?.value(forHTTPHeaderField: "Retry-After"),
                            elapsed: .now - start, body: String(decoding: data, as: UTF8.self), transportError: nil)
        } catch {
            return Exchange(status: nil, retryAfter: nil, elapsed: .now - start, body: "", transportError: "\(error)")
        }
    }
}
