import Foundation
import Logging

/// Turns `--export-store` into an object store.
public enum ExportStoreFactory {
    /// `s3://bucket/prefix` (configured from `environment`), or an absolute directory (`/srv/exports`,
    /// `file:///srv/exports`). An S3 store must be shut down after use (``shutdown(_:)``).
    public static func store(_ location: String, environment: [String: String], logger: Logger) throws -> any ExportObjectStore {
        if location.hasPrefix("s3://") {
            return try S3ExportStore(url: location, environment: environment, logger: logger)
        }
        if location.hasPrefix("file://") || location.hasPrefix("/") {
            let path = location.hasPrefix("file://") ? String(location.dropFirst("file://".count)) : location
            return try FileExportStore(root: URL(fileURLWithPath: path))
        }
        throw ExportStoreLocationError(message: "--export-store takes s3://bucket/prefix or an absolute directory, got '\(location)'")
    }

    /// Closes what a store holds open (an S3 store's HTTP client); nothing for files.
    public static func shutdown(_ store: any ExportObjectStore) async {
        try? await (store as? S3ExportStore)?.shutdown()
    }
}

/// A `--export-store` value that names no usable store.
public struct ExportStoreLocationError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
