import Foundation
import Logging
import TenantScopeCore

/// Where finished export files are kept, behind one small protocol: files under the state directory
/// (``FileExportStore``, the embedded default) or an S3-compatible bucket (``S3ExportStore``).
///
/// An export is written to a local file first and handed to the store only when complete, so a store
/// never holds a partial object: a job that dies mid-way leaves nothing behind in it.
public protocol ExportObjectStore: Sendable {
    /// Where the objects go, for logs and `serve`'s start-up line (never a credential).
    var location: String { get }

    /// Makes the complete local file `file` the object `key` (moving or uploading it); `file` may be gone afterwards.
    func store(file: URL, as key: ExportObjectKey, contentType: String, logger: Logger) async throws

    /// Removes one object; a missing object is not an error.
    func remove(_ key: ExportObjectKey, logger: Logger) async throws

    /// Removes every export object of one tenant (tenant deletion, learner erasure).
    func removeAll(of tenant: TenantID, logger: Logger) async throws

    /// How a download of `key` is served until `expires` (at most 24 hours away).
    func download(_ key: ExportObjectKey, expires: Date, logger: Logger) async throws -> ExportDownload
}

/// How a signed download is answered.
public enum ExportDownload: Sendable, Equatable {
    /// TenantScope streams this local file itself.
    case file(URL)
    /// The client is redirected to this presigned URL of the store.
    case redirect(URL)
}
