import Foundation
import Logging
import TenantScopeCore

/// The embedded default object store: files under `<state directory>/exports/<tenant-id>/<job-id>.<ext>`,
/// served by TenantScope itself through the signed download route.
///
/// A finished file is moved into place with one `rename`, so a reader never sees a partial object.
public struct FileExportStore: ExportObjectStore {
    public let root: URL

    public init(root: URL) throws {
        self.root = root
        do {
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw TenantScopeError.environment("cannot create the export directory \(root.path): \(error.localizedDescription)")
        }
    }

    public var location: String { "files under \(root.path)" }

    func url(of key: ExportObjectKey) -> URL {
        root.appendingPathComponent(key.relativePath)
    }

    public func store(file: URL, as key: ExportObjectKey, contentType: String, logger: Logger) async throws {
        let target = url(of: key)
        try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        // Same file system (the partial files live under the same root), so this is an atomic rename.
        if rename(file.path, target.path) != 0 {
            throw TenantScopeError.environment("cannot move the finished export into \(target.deletingLastPathComponent().path) (errno \(errno))")
        }
    }

    public func remove(_ key: ExportObjectKey, logger: Logger) async throws {
        let path = url(of: key).path
        if unlink(path) != 0 && errno != ENOENT {
            throw TenantScopeError.environment("cannot remove an export file (errno \(errno))")
        }
    }

    public func removeAll(of tenant: TenantID, logger: Logger) async throws {
        let directory = root.appendingPathComponent(tenant.description)
        guard FileManager.default.fileExists(atPath: directory.path) else { return }
        try FileManager.default.removeItem(at: directory)
    }

    public func download(_ key: ExportObjectKey, expires: Date, logger: Logger) async throws -> ExportDownload {
        .file(url(of: key))
    }
}
