import Foundation
import Logging
import TenantScopeCore

/// The embedded default object store: files under `<state directory>/exports/<tenant-id>/<job-id>.<ext>`,
/// served by TenantScope itself through the signed download route.
///
/// A finished file is moved into place with one `rename` (from a copy beside it when the partial file is on another
/// file system), so a reader never sees a partial object.
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
        // An atomic rename when the partial file is on the store's file system (the default: both under the state
        // directory). A store elsewhere (`--export-store` on a volume of its own) cannot be renamed into (EXDEV): the
        // file is copied next to its place under a hidden name first, and that copy renamed, so a reader still never
        // sees a partial object.
        guard rename(file.path, target.path) != 0 else { return }
        guard errno == EXDEV else {
            throw TenantScopeError.environment("cannot move the finished export into \(target.deletingLastPathComponent().path) (errno \(errno))")
        }
        let staging = target.deletingLastPathComponent().appendingPathComponent(".\(target.lastPathComponent).\(UUID().uuidString).partial")
        do {
            try FileManager.default.copyItem(at: file, to: staging)
        } catch {
            try? FileManager.default.removeItem(at: staging)
            throw TenantScopeError.environment("cannot copy the finished export into \(target.deletingLastPathComponent().path): \(error.localizedDescription)")
        }
        if rename(staging.path, target.path) != 0 {
            let failure = errno
            try? FileManager.default.removeItem(at: staging)
            throw TenantScopeError.environment("cannot move the finished export into \(target.deletingLastPathComponent().path) (errno \(failure))")
        }
        try? FileManager.default.removeItem(at: file)
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
