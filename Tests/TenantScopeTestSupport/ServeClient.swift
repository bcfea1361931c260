import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// An HTTP client of a ``ServeProcess`` for fault tests: every exchange comes back as an ``Exchange``
/// (status, `Retry-After`, how long it took, or the transport error), never as a thrown error, so a
/// test can classify each answer. The per-request timeout is a hang detector, not a performance claim.
///
/// It runs on AsyncHTTPClient, not `URLSession`: FoundationNetworking on Linux can crash the whole test process
/// when a request times out or is cancelled as it completes ("Trying to access a behaviour for a task that in not
/// in the registry", seen once in a clean clone's `make test` while PostgreSQL was stopped under load).
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

    /// One client for every test: up to 16 connections to a server at once, as the load tests send.
    private static let http: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 16)
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    init(baseURL: String, timeout: Duration) {
        self.baseURL = baseURL
        self.timeout = timeout
    }

    /// `POST /xAPI/statements` with an LRS key over Basic auth.
    func postStatements(_ json: String, key: String, secret: String) async -> Exchange {
        var request = HTTPClientRequest(url: baseURL + "/xAPI/statements")
        request.method = .POST
        request.body = .bytes(ByteBuffer(string: json))
        request.headers.add(name: "Authorization", value: "Basic " + Data("\(key):\(secret)".utf8).base64EncodedString())
        request.headers.add(name: "X-Experience-API-Version", value: "1.0.3")
        request.headers.add(name: "Content-Type", value: "application/json")
        return await send(request)
    }

    /// `GET path`, with a bearer token when given.
    func get(_ path: String, bearer: String? = nil) async -> Exchange {
        var request = HTTPClientRequest(url: baseURL + path)
        if let bearer { request.headers.add(name: "Authorization", value: "Bearer " + bearer) }
        return await send(request)
    }

    /// `POST path` with a JSON body and a bearer token.
    func post(_ path: String, json: String, bearer: String) async -> Exchange {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = .POST
        request.body = .bytes(ByteBuffer(string: json))
        request.headers.add(name: "Authorization", value: "Bearer " + bearer)
        request.headers.add(name: "Content-Type", value: "application/json")
        return await send(request)
    }

    private func send(_ request: HTTPClientRequest) async -> Exchange {
        let start = ContinuousClock.now
        do {
            let response = try await Self.http.execute(request, timeout: TimeAmount(timeout))
            let body = try await response.body.collect(upTo: 64 << 20)
            return Exchange(status: Int(response.status.code), retryAfter: response.headers.first(name: "Retry-After"),
                            elapsed: .now - start, body: String(buffer: body), transportError: nil)
        } catch {
            return Exchange(status: nil, retryAfter: nil, elapsed: .now - start, body: "", transportError: "\(error)")
        }
    }
}
