import Foundation
import Testing
@testable import TenantScopeCore
@testable import TenantScopePostgres
@testable import TenantScopeTestSupport

/// `docs/schema.sql` is the schema the migrations produce today (tables, functions, policies, grants),
/// so a reader need not replay every migration to find the current `refresh_learning_facts`. This test
/// dumps a freshly migrated database with `pg_dump --schema-only` and fails when the file differs;
/// `UPDATE_SCHEMA_SNAPSHOT=1 swift test --filter SchemaSnapshotTests` rewrites it.
@Suite(.freshDatabase) struct SchemaSnapshotTests {
    static var snapshotPath: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/schema.sql").path
    }

    /// The dump without what varies between runs and machines: comments (they name the server and dump
    /// versions), the session settings pg_dump starts with, and psql's `\restrict` lines (random keys).
    static func normalized(_ dump: String) -> String {
        var lines: [Substring] = []
        for line in dump.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("--") || line.hasPrefix("SET ") || line.hasPrefix("SELECT pg_catalog.set_config")
                || line.hasPrefix("\\restrict") || line.hasPrefix("\\unrestrict") { continue }
            if line.isEmpty, lines.last?.isEmpty ?? true { continue }
            lines.append(line)
        }
        let header = """
            -- TenantScope's schema as the migrations leave it (pg_dump --schema-only of a freshly migrated
            -- database, comments and session settings removed). Generated: do not edit. A test fails when it
            -- differs from the live schema; UPDATE_SCHEMA_SNAPSHOT=1 swift test --filter SchemaSnapshotTests
            -- rewrites it. The migrations in Sources/TenantScopePostgres/Migrations are the source of truth.

            """
        return header + lines.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines) + "\n"
    }

    @Test func theCommittedSnapshotIsTheLiveSchema() async throws {
        let handle = try TestDatabase.current
        let binaries = try PostgresBinaries.locate()
        let endpoint = handle.ownerEndpoint
        let result = try await Shell.run(binaries.directory + "/pg_dump", [
            "--schema-only", "--no-owner", "--schema=app", "--schema=app_private", "--schema=semantic", "--schema=gate",
            "--host", endpoint.host, "--port", "\(endpoint.port)", "--username", endpoint.username, endpoint.database,
        ], environment: ProcessInfo.processInfo.environment.merging(["PGPASSWORD": endpoint.password ?? ""]) { _, new in new })
        #expect(result.status == 0, "\(result.error)")
        let live = Self.normalized(result.output)
        #expect(live.contains("CREATE POLICY") && live.contains("FUNCTION app.refresh_learning_facts"))
        if ProcessInfo.processInfo.environment["UPDATE_SCHEMA_SNAPSHOT"] == "1" {
            try live.write(toFile: Self.snapshotPath, atomically: true, encoding: .utf8)
        }
        let committed = (try? String(contentsOfFile: Self.snapshotPath, encoding: .utf8)) ?? ""
        #expect(committed == live, "docs/schema.sql is out of date: run UPDATE_SCHEMA_SNAPSHOT=1 swift test --filter SchemaSnapshotTests")
    }
}
