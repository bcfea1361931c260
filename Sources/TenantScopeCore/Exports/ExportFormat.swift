/// The file format of an export: CSV (reports only), a JSON array, or JSON Lines (one value per line).
public enum ExportFormat: String, Sendable, Hashable, CaseIterable, Codable {
    case csv
    case json
    case ndjson

    /// The file name's extension, with `.gz` when compressed.
    public func fileExtension(compressed: Bool) -> String {
        compressed ? "\(rawValue).gz" : rawValue
    }

    /// The media type of the (uncompressed) content.
    public var contentType: String {
        switch self {
        case .csv: "text/csv; charset=utf-8"
        case .json: "application/json"
        case .ndjson: "application/x-ndjson"
        }
    }

    /// The media type of a stored object: gzip files are served as what they are.
    public func storedContentType(compressed: Bool) -> String {
        compressed ? "application/gzip" : contentType
    }
}
