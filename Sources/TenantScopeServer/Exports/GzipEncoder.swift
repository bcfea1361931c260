import CZlib
import Foundation

/// Streams bytes into the gzip format (RFC 1952) with zlib, a buffer at a time, so an export of any size
/// is compressed in constant memory.
final class GzipEncoder {
    private var stream = z_stream()
    private var finished = false

    init() throws {
        // windowBits 15 + 16 asks zlib for a gzip header and trailer instead of a zlib one.
        let status = deflateInit2_(&stream, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else { throw GzipFailure(status: status) }
    }

    deinit {
        deflateEnd(&stream)
    }

    struct GzipFailure: Error, CustomStringConvertible {
        let status: Int32
        var description: String { "zlib failed with status \(status)" }
    }

    /// Compresses `input`, returning whatever compressed bytes zlib has ready.
    func compress(_ input: [UInt8]) throws -> [UInt8] {
        try run(input, flush: Z_NO_FLUSH)
    }

    /// Ends the stream: the last compressed bytes and the gzip trailer (CRC-32 and length).
    func finish() throws -> [UInt8] {
        guard !finished else { return [] }
        finished = true
        return try run([], flush: Z_FINISH)
    }

    private func run(_ input: [UInt8], flush: Int32) throws -> [UInt8] {
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var input = input
        try input.withUnsafeMutableBufferPointer { source in
            stream.next_in = source.baseAddress
            stream.avail_in = uInt(source.count)
            repeat {
                let produced = try chunk.withUnsafeMutableBufferPointer { target -> Int in
                    stream.next_out = target.baseAddress
                    stream.avail_out = uInt(target.count)
                    let status = deflate(&stream, flush)
                    guard status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR else { throw GzipFailure(status: status) }
                    return target.count - Int(stream.avail_out)
                }
                output.append(contentsOf: chunk[0..<produced])
            } while stream.avail_out == 0
            stream.next_in = nil
        }
        return output
    }
}
