import Foundation
import HTTPTypes
import Hummingbird

/// Reads a request body up to a limit; a larger one is refused with 413 and a message naming the limit.
enum RequestBody {
    static func collect(_ request: Request, limit: Int) async throws -> Data {
        if let declared = request.headers[.contentLength].flatMap(Int.init), declared > limit {
            throw PayloadTooLarge(limit: limit)
        }
        do {
            var buffer = try await request.body.collect(upTo: limit)
            return buffer.readData(length: buffer.readableBytes) ?? Data()
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw PayloadTooLarge(limit: limit)
        }
    }
}

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
