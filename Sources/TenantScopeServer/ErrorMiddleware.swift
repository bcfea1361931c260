import HTTPTypes
import Hummingbird
import Logging
import TenantScopeCore

/// Turns domain errors into clear 4xx responses and everything unexpected into a logged, detail-free 500.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as TenantScopeError {
            let status: HTTPResponse.Status = switch error.kind {
            case .invalidInput: .badRequest
            case .notFound: .notFound
            case .forbidden: .forbidden
            case .conflict: .conflict
            case .environment: .serviceUnavailable
            }
            return try ErrorBody(error: error.message, status: status).response()
        } catch let error as any HTTPResponseError {
            return try error.response(from: request, context: context)
        } catch {
            // Details go to the log (at error level, with no tenant data in the message), never to the client.
            context.logger.error("Request failed", metadata: ["error.type": "\(type(of: error))", "error": "\(String(reflecting: error))"])
            return try ErrorBody(error: "internal error", status: .internalServerError).response()
        }
    }
}
