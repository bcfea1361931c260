import Hummingbird

/// 401 for Basic credentials, with a `WWW-Authenticate: Basic` challenge so HTTP clients retry with them.
struct BasicAuthenticationError: Error, HTTPResponseError {
    let reason: String
    let realm: String

    init(_ reason: String, realm: String) {
        self.reason = reason
        self.realm = realm
    }

    var status: HTTPResponse.Status { .unauthorized }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = HTTPFields()
        headers[.wwwAuthenticate] = "Basic realm=\"\(realm)\", charset=\"UTF-8\""
        return try ErrorBody(error: reason, status: status).response(headers: headers)
    }
}
