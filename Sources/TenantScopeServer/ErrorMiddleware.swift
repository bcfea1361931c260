import HTTPTypes
import Hummingbird
import Logging
import NIOHTTP1
import TenantScopeCore
import TenantScopePostgres

/// Turns domain errors into clear 4xx responses and everything unexpected into a logged, detail-free 500.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            return try Self.response(for: error, request: request, context: context)
        }
    }

    /// The HTTP status of a domain error kind.
    static func status(of kind: TenantScopeError.Kind) -> HTTPResponse.Status {
        switch kind {
        case .invalidInput: .badRequest
        case .notFound: .notFound
        case .forbidden: .forbidden
        case .conflict: .conflict
        case .preconditionFailed: .preconditionFailed
        case .environment: .serviceUnavailable
        case .gone: .gone
        default: .internalServerError
        }
    }

    /// Nobody reads it: nginx's "client closed request", so logs and metrics can tell it from a failure.
    static var clientClosedRequest: HTTPResponse.Status { HTTPResponse.Status(code: 499, reasonPhrase: "Client Closed Request") }

    /// The status an error thrown by a handler becomes (what ``response(for:request:context:)`` answers).
    static func status(of error: any Error) -> HTTPResponse.Status {
        switch error {
        case let error as TenantScopeError: status(of: error.kind)
        case is DatabaseUnavailable, is TenantRelocating, is ExportStoreUnavailable, is S3ResponseError, is CancellationError: .serviceUnavailable
        case is ClientGone: clientClosedRequest
        case let error as any HTTPResponseError: error.status
        case let error where TransactionConflict.matches(error): .serviceUnavailable
        default: .internalServerError
        }
    }

    /// The response for an error: also used by middleware that must add headers to error responses.
    static func response(for error: any Error, request: Request, context: Context) throws -> Response {
        switch error {
        case let error as TenantScopeError:
            return try ErrorBody(error: error.message, status: status(of: error.kind)).response()
        case let error as DatabaseUnavailable:
            // An outage is logged once per change by the pool's health; the client is told to come back.
            context.logger.debug("Request failed: database unavailable", metadata: ["db.reason": "\(error.reason)"])
            var headers = HTTPFields()
            headers[.retryAfter] = "5"
            return try ErrorBody(error: "the database is unavailable; retry shortly", status: .serviceUnavailable).response(headers: headers)
        case let error as TenantRelocating:
            // A move is copying the tenant, or this process routed by a placement a move has just changed:
            // nothing happened, and a retry in a moment reaches the tenant's cluster.
            var headers = HTTPFields()
            headers[.retryAfter] = "2"
            return try ErrorBody(error: "\(error); retry shortly", status: .serviceUnavailable).response(headers: headers)
        case let error as ExportStoreUnavailable:
            // The reason names the store's operation and failure (never a credential or a signed URL).
            context.logger.warning("Request failed: export store unavailable", metadata: ["export.store_reason": "\(error.reason)"])
            var headers = HTTPFields()
            headers[.retryAfter] = "5"
            return try ErrorBody(error: "the export store is unavailable; retry shortly", status: .serviceUnavailable).response(headers: headers)
        case let error as S3ResponseError:
            // The store refused (credentials, bucket, region): the server's configuration, not the client's
            // request. Logged with S3's code and request id; the client is told the store is unavailable.
            context.logger.error("Request failed: the export store refused a request", metadata: ["error": "\(error)"])
            return try ErrorBody(error: "the export store is unavailable", status: .serviceUnavailable).response()
        case is ClientGone:
            return try ErrorBody(error: "the client closed the request", status: clientClosedRequest).response()
        case is CancellationError:
            // The server is stopping and cut the request's database work short: not the client's fault.
            var headers = HTTPFields()
            headers[.retryAfter] = "5"
            return try ErrorBody(error: "the server is stopping; retry shortly", status: .serviceUnavailable).response(headers: headers)
        case let error as HTTPError where error.body == nil:
            // Hummingbird's own, without a message: the router's for a path or method no route has (probe 38: a 404
            // with an empty body). Every error is `{"error": …}`.
            let message = error.status == .notFound ? "no such route: check the method and the path (GET /openapi.yaml lists them)"
                : error.status.reasonPhrase.lowercased()
            return try ErrorBody(error: message, status: error.status).response(headers: error.headers)
        case let error as any HTTPResponseError:
            return try error.response(from: request, context: context)
        case let error as HTTPParserError:
            // The body's framing broke while a handler read it (a chunk longer than its size line, a size that is not
            // hex): the client's request, not a fault here.
            return try ErrorBody(error: "the request is not well-formed HTTP: \(error)", status: .badRequest).response()
        case let error where TransactionConflict.matches(error):
            // A deadlock or serialization failure with a concurrent request: nothing happened, and a retry should pass.
            context.logger.warning("Request failed: a concurrent transaction conflicted",
                                   metadata: ["db.sqlstate": "\(TransactionConflict.sqlState(of: error) ?? "")"])
            var headers = HTTPFields()
            headers[.retryAfter] = "1"
            return try ErrorBody(error: "the request conflicted with a concurrent one; retry shortly", status: .serviceUnavailable)
                .response(headers: headers)
        default:
            // Details go to the log (at error level, with no tenant data in the message), never to the client.
            context.logger.error("Request failed", metadata: ["error.type": "\(type(of: error))", "error": "\(String(reflecting: error))"])
            return try ErrorBody(error: "internal error", status: .internalServerError).response()
        }
    }
}
