import Foundation
import Logging
import Testing
import TenantScopeCore
@testable import TenantScopeServer

/// The embedded object store moves a finished export into place so no reader sees a partial file, also when the store
/// is on a file system of its own (`--export-store` on a volume): a `rename` cannot cross file systems, and every export
/// failed there.
@Suite struct FileExportStoreTests {
    @Test func aStoreOnAnotherFileSystemTakesAFinishedExport() async throws {
        let partials = FileManager.default.temporaryDirectory.appendingPathComponent("partials-\(UUID().uuidString)")
        let root = URL(fileURLWithPath: "/dev/shm/tenantscope-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: partials, withIntermediateDirectories: true)
        defer {
            try? FileManager.default.removeItem(at: partials)
            try? FileManager.default.removeItem(at: root)
        }
        let store = try FileExportStore(root: root)
        func device(_ url: URL) throws -> UInt64 {
            try #require(try FileManager.default.attributesOfFileSystem(forPath: url.path)[.systemNumber] as? UInt64)
        }
        try #require(try device(partials) != device(root), "the partial file and the store must be on different file systems")
        let file = partials.appendingPathComponent("job.partial")
        try Data("{\"record\":\"statement\"}\n".utf8).write(to: file)
        let key = ExportObjectKey(tenant: TenantID(UUID()), job: UUID(), fileExtension: "ndjson")
        try await store.store(file: file, as: key, contentType: "application/x-ndjson", logger: Logger(label: "test"))
        #expect(try String(contentsOf: store.url(of: key), encoding: .utf8) == "{\"record\":\"statement\"}\n")
        #expect(!FileManager.default.fileExists(atPath: file.path), "the partial file is gone")
        let left = try FileManager.default.contentsOfDirectory(atPath: store.url(of: key).deletingLastPathComponent().path)
        #expect(left == [store.url(of: key).lastPathComponent], "no staging copy is left: \(left)")
    }
}
