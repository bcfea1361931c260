import Foundation
import HTTPTypes
import Hummingbird

/// The JSON body of every error response: `{"error": "...", "status": 401}`.
struct ErrorBody: Codable, Sendable {
    var error: String
    var status: Int

    init(error: String, status: HTTPResponse.Status) {
        self.error = error
        self.status = status.code
    }

    func response(headers: HTTPFields = [:]) throws -> Response {
        var headers = headers
        headers[.contentType] = "application/json; charset=utf-8"
        let data = try JSONEncoder().encode(self)
        return Response(status: .init(code: status), headers: headers, body: .init(byteBuffer: .init(bytes: data)))
    }
}
