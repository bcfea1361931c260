import Hummingbird

/// The credential state could not be loaded within its staleness bound (the database is unreachable):
/// 503 with `Retry-After`, so clients retry instead of discarding a credential that may be valid.
public struct CredentialStateUnavailable: Error, HTTPResponseError {
    public var status: HTTPResponse.Status { .serviceUnavailable }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = HTTPFields()
        headers[.retryAfter] = "5"
        return try ErrorBody(error: "credentials cannot be checked right now; retry shortly", status: status).response(headers: headers)
    }
}
