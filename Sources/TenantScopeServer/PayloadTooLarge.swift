import Foundation
import HTTPTypes
import Hummingbird

struct PayloadTooLarge: Error, HTTPResponseError {
    let limit: Int

    var status: HTTPResponse.Status { .contentTooLarge }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        let mib = Double(limit) / 1_048_576
        return try ErrorBody(
            error: "request body exceeds the limit of \(limit) bytes (\(String(format: "%.1f", mib)) MiB); send smaller batches",
            status: status
        ).response()
    }
}
