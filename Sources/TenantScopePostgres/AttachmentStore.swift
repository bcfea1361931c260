import Foundation
import Logging
import PostgresNIO
import TenantScopeCore

/// The content of xAPI attachments (`app.xapi_attachments`), per tenant and SHA-2, always in the tenant's scope through
/// the one session helper: read in one call of a read function (architecture decision 62), written with the statements
/// that reference it (``StatementStore/store(_:attachments:in:logger:)``), in their transaction.
public struct AttachmentStore: Sendable {
    let sessions: ScopedDatabase

    /// Stores content whose hash is new for the tenant. Content already stored under a hash is the same
    /// bytes (the hash was checked), so a repeat is skipped rather than rewritten.
    ///
    /// In hash order, whatever the request's part order, as the session function's one insert takes them: two requests
    /// that send the same new contents in opposite orders then wait for each other's rows in one order, never each for
    /// the other's (a deadlock PostgreSQL ends by failing one). Of a hash given twice the first is kept, as before.
    static func insert(_ contents: [AttachmentContent], on connection: ScopedConnection) async throws {
        let inHashOrder = contents.enumerated().sorted { ($0.element.sha2, $0.offset) < ($1.element.sha2, $1.offset) }.map(\.element)
        for content in inHashOrder {
            try await connection.execute("""
                INSERT INTO app.xapi_attachments (sha2, content, content_type)
                VALUES (\(content.sha2), \(ByteBuffer(bytes: content.bytes)), \(content.contentType))
                ON CONFLICT (tenant_id, sha2) DO NOTHING
                """)
        }
    }

    /// The stored content for the given hashes in the scope's tenant, in the order asked; a hash the
    /// tenant has no content for (an attachment given by `fileUrl` only) is left out.
    public func contents(sha2s: [String], in scope: TenantScope, logger: Logger) async throws -> [AttachmentContent] {
        guard !sha2s.isEmpty else { return [] }
        var found: [String: AttachmentContent] = [:]
        // On the primary: a statement's attachments are read right after it is stored.
        let rows = try await sessions.readRows(scope, BoundStatement(sql: """
            SELECT sha2, content_type, content FROM app.xapi_attachments WHERE sha2 = ANY (($1::text[]))
            """, values: [.textArray(sha2s)]), columnTypes: ["text", "text", "bytea"], replicas: false, logger: logger).rows
        for row in rows {
            let (sha2, type, content) = try row.decode((String, String, ByteBuffer).self)
            found[sha2] = AttachmentContent(sha2: sha2, contentType: type, bytes: Array(content.readableBytesView))
        }
        return sha2s.compactMap { found[$0] }
    }
}
