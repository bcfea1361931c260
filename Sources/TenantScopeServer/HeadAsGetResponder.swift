import Hummingbird

/// Answers `HEAD` on every route that answers `GET` (RFC 9110 §9.3.2): the request runs as a `GET` through the router,
/// middleware included, and its status and header fields are sent without the body. The router only matches methods
/// it was given, so without this a `HEAD` of a report, a dashboard or `/healthz` (a load balancer's check, `curl -I`)
/// was a 404. What a `GET` would do, a `HEAD` does (authentication, rate limits, audit rows, the query), as the
/// method's definition asks.
struct HeadAsGetResponder<Wrapped: HTTPResponder>: HTTPResponder where Wrapped.Context == AppRequestContext {
    typealias Context = AppRequestContext

    let wrapped: Wrapped

    func respond(to request: Request, context: Context) async throws -> Response {
        guard request.method == .head else { return try await wrapped.respond(to: request, context: context) }
        var head = request.head
        head.method = .get
        let get = try await wrapped.respond(to: Request(head: head, body: request.body), context: context)
        // The header fields the GET would send, its Content-Length included where it has one; no body. The GET's body is
        // still started, into a writer that takes nothing: what it does when it ends runs (the request's log line and
        // metrics, recorded once the body is written; a file it opened is closed), and its first write stops it, so a
        // download is not read through for nothing.
        let body = get.body
        return Response(status: get.status, headers: get.headers, body: ResponseBody(contentLength: 0) { writer in
            do {
                try await body.write(Discarding())
            } catch is Discarding.Stop {}
            try await writer.finish(nil)
        })
    }

    /// Ends a body's production at its first byte.
    private struct Discarding: ResponseBodyWriter {
        struct Stop: Error {}

        mutating func write(_ buffer: ByteBuffer) async throws {
            throw Stop()
        }

        consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
    }
}
