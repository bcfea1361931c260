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
