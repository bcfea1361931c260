import Foundation

/// Turns `--export-store` into an object store.
public enum ExportStoreFactory {
    public static func store(_ location: String, environment: [String: String]) throws -> any ExportObjectStore {
        if location.hasPrefix("s3://") {
            throw ExportStoreLocationError(message: "s3:// export stores are not built into this binary yet")
        }
        if location.hasPrefix("file://") || location.hasPrefix("/") {
            let path = location.hasPrefix("file://") ? String(location.dropFirst("file://".count)) : location
            return try FileExportStore(root: URL(fileURLWithPath: path))
        }
        throw ExportStoreLocationError(message: "--export-store takes s3://bucket/prefix or an absolute directory, got '\(location)'")
    }
}

/// A `--export-store` value that names no usable store.
public struct ExportStoreLocationError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
