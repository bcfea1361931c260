import Foundation
import TenantScopeCore
import TenantScopePostgres

/// Writes an export's records to a local file in its format (CSV, a JSON array, JSON Lines), gzip-compressed
/// when asked, through a fixed-size buffer: memory stays flat whatever the number of rows.
///
/// Used by one export task at a time (the reader calls it in order), hence `@unchecked Sendable`.
final class ExportFileWriter: @unchecked Sendable {
    let url: URL
    let format: ExportFormat
    private let handle: FileHandle
    private let gzip: GzipEncoder?
    private var buffer: [UInt8] = []
    private var columns: [String] = []
    private(set) var rows = 0
    private(set) var bytesWritten = 0
    private var closed = false

    static let flushThreshold = 256 * 1024

    init(url: URL, format: ExportFormat, compressed: Bool) throws {
        guard FileManager.default.createFile(atPath: url.path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
            throw TenantScopeError.environment("cannot create the export file under \(url.deletingLastPathComponent().path)")
        }
        self.url = url
        self.format = format
        self.handle = try FileHandle(forWritingTo: url)
        self.gzip = compressed ? try GzipEncoder() : nil
        buffer.reserveCapacity(Self.flushThreshold + 64 * 1024)
        if format == .json { buffer.append(UInt8(ascii: "[")) }
    }

    deinit {
        try? handle.close()
    }

    func write(_ record: ExportRecord) throws {
        switch record {
        case .columns(let names):
            columns = names
            if format == .csv { appendLine(names.map(CSVField.escape).joined(separator: ",")) }
        case .row(let cells):
            rows += 1
            switch format {
            case .csv:
                appendLine(cells.map { CSVField.escape($0.description) }.joined(separator: ","))
            case .json, .ndjson:
                var object: JSONObject = [:]
                for (name, cell) in zip(columns, cells) { object[name] = cell.jsonValue }
                appendJSON(JSONValue.object(object).jsonText(sortingKeys: true))
            }
        case .json(let text):
            rows += 1
            appendJSON(text)
        }
        if buffer.count >= Self.flushThreshold { try flush() }
    }

    /// Ends the file (closing the JSON array, the gzip trailer) and closes it; returns its size in bytes.
    func finish() throws -> Int {
        if format == .json { buffer.append(UInt8(ascii: "]")) }
        try flush()
        if let gzip { try writeOut(gzip.finish()) }
        try handle.synchronize()
        try handle.close()
        closed = true
        return bytesWritten
    }

    private func appendLine(_ line: String) {
        buffer.append(contentsOf: line.utf8)
        buffer.append(contentsOf: [13, 10])  // CRLF, as RFC 4180 asks
    }

    private func appendJSON(_ text: String) {
        switch format {
        case .json:
            if rows > 1 { buffer.append(UInt8(ascii: ",")) }
            buffer.append(contentsOf: text.utf8)
        default:
            buffer.append(contentsOf: text.utf8)
            buffer.append(UInt8(ascii: "\n"))
        }
    }

    private func flush() throws {
        guard !buffer.isEmpty else { return }
        let bytes = try gzip.map { try $0.compress(buffer) } ?? buffer
        buffer.removeAll(keepingCapacity: true)
        try writeOut(bytes)
    }

    private func writeOut(_ bytes: [UInt8]) throws {
        guard !bytes.isEmpty else { return }
        try handle.write(contentsOf: bytes)
        bytesWritten += bytes.count
    }
}
