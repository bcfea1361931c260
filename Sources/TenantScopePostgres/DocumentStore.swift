import Foundation
import Logging
import PostgresNIO
import TenantScopeCore

/// The xAPI document resources' storage (State, Activity Profile, Agent Profile): reads and writes
/// `app.xapi_documents` inside the credential's tenant-scoped transaction, so row-level security keeps
/// every other tenant's documents out of reach even when the ids are the same.
///
/// A write is one transaction: it locks the stored document (`FOR UPDATE`), checks the request's
/// preconditions against its ETag, then replaces or merges it. Two writers of the same document
/// therefore see each other's result, and `If-Match` means what it says.
public struct DocumentStore: Sendable {
    let sessions: ScopedDatabase

    public struct StoredDocument: Sendable, Hashable {
        public var content: DocumentContent
        /// SHA-1 hex of the content, unquoted.
        public var etag: String
        public var updated: Date
    }

    /// `If-Match` and `If-None-Match` of a request (RFC 9110 §13.1), as lists of unquoted ETags or `*`.
    public struct Preconditions: Sendable, Hashable {
        public var ifMatch: [String]?
        public var ifNoneMatch: [String]?

        public init(ifMatch: [String]? = nil, ifNoneMatch: [String]? = nil) {
            self.ifMatch = ifMatch
            self.ifNoneMatch = ifNoneMatch
        }

        public var isEmpty: Bool { ifMatch == nil && ifNoneMatch == nil }

        /// Throws 412 when the stored document (its ETag, nil when there is none) fails a condition.
        func check(against etag: String?) throws(TenantScopeError) {
            if let ifMatch {
                guard let etag, ifMatch.contains("*") || ifMatch.contains(etag) else {
                    throw .preconditionFailed(etag == nil
                        ? "If-Match: there is no such document"
                        : "If-Match: the document has changed (its ETag is not the one given)")
                }
            }
            if let ifNoneMatch, let etag, ifNoneMatch.contains("*") || ifNoneMatch.contains(etag) {
                throw .preconditionFailed("If-None-Match: the document already exists")
            }
        }
    }

    public enum WriteMode: Sendable {
        /// PUT: the content replaces the document.
        case replace
        /// POST: JSON objects are merged into the stored one; a missing document is created.
        case merge
    }

    // MARK: - Reading

    public func document(_ address: DocumentAddress, id: String, in scope: TenantScope, logger: Logger) async throws -> StoredDocument? {
        try await sessions.run(scope, logger: logger) { connection in
            try await Self.select(address, id: id, locking: false, on: connection)
        }
    }

    /// The ids of the documents at an address, updated after `since` when given, in id order, and the
    /// newest `updated` among them (for `Last-Modified`).
    public func ids(_ address: DocumentAddress, since: String?, in scope: TenantScope, logger: Logger) async throws -> (ids: [String], newest: Date?) {
        try await sessions.run(scope, logger: logger) { connection in
            let rows = try await connection.query("""
                SELECT document_id, updated FROM app.xapi_documents
                WHERE kind = \(address.kind.rawValue) AND activity_id = \(address.activityID) AND agent_key = \(address.agentKey)
                  AND registration = \(address.registration)
                  AND (\(since)::timestamptz IS NULL OR updated > \(since)::timestamptz)
                ORDER BY document_id
                """)
            var ids: [String] = []
            var newest: Date?
            for try await (id, updated) in rows.decode((String, Date).self) {
                ids.append(id)
                newest = max(newest ?? updated, updated)
            }
            return (ids, newest)
        }
    }

    // MARK: - Writing

    /// Stores a document (PUT: `.replace`, POST: `.merge`). Refuses with 412 when a precondition fails;
    /// for the profiles (Communication 3.1), a PUT without preconditions with 409 when the document
    /// exists and with 400 when it does not (the conformance suite's reading of "must use If-Match").
    public func write(
        _ content: DocumentContent, mode: WriteMode, to address: DocumentAddress, id: String, preconditions: Preconditions,
        in scope: TenantScope, logger: Logger
    ) async throws {
        if mode == .merge, content.isJSON {
            _ = try content.jsonObject()  // a JSON POST must be an object, stored document or not
        }
        try await sessions.run(scope, access: .readWrite, logger: logger) { connection in
            let existing = try await Self.select(address, id: id, locking: true, on: connection)
            try preconditions.check(against: existing?.etag)
            if mode == .replace, address.kind.requiresConcurrencyHeaders, preconditions.isEmpty {
                if existing != nil {
                    throw TenantScopeError.conflict(
                        "the document exists: send If-Match with its ETag to overwrite it, or If-None-Match: * to create only")
                }
                throw TenantScopeError.invalidInput("a PUT to a profile needs If-Match (overwrite) or If-None-Match: * (create)")
            }
            var stored = content
            if mode == .merge, let existing {
                stored = try existing.content.merging(content)
            }
            let buffer = ByteBuffer(bytes: stored.bytes)
            if existing != nil {
                try await connection.query("""
                    UPDATE app.xapi_documents
                    SET content = \(buffer), content_type = \(stored.contentType), etag = \(stored.etag), updated = clock_timestamp()
                    WHERE kind = \(address.kind.rawValue) AND activity_id = \(address.activityID) AND agent_key = \(address.agentKey)
                      AND registration = \(address.registration) AND document_id = \(id)
                    """)
            } else {
                // Another request may have created it since the SELECT (nothing was there to lock). An
                // unconditional replace (a State PUT) simply wins over it, as it would have a moment later;
                // anything that depended on the document's absence or content is refused.
                let overwrite = mode == .replace && preconditions.isEmpty
                let inserted = try await connection.query("""
                    INSERT INTO app.xapi_documents (kind, activity_id, agent_key, registration, document_id, content, content_type, etag)
                    VALUES (\(address.kind.rawValue), \(address.activityID), \(address.agentKey), \(address.registration), \(id),
                            \(buffer), \(stored.contentType), \(stored.etag))
                    ON CONFLICT (tenant_id, kind, activity_id, agent_key, registration, document_id) DO \(unescaped: overwrite
                        ? "UPDATE SET content = EXCLUDED.content, content_type = EXCLUDED.content_type, etag = EXCLUDED.etag, updated = clock_timestamp()"
                        : "NOTHING")
                    RETURNING 1
                    """).collect()
                if inserted.isEmpty {
                    throw TenantScopeError.conflict("the document was created by another request at the same time; retry")
                }
            }
        }
    }

    /// Deletes one document (`id`), or every document at the address; a missing one is not an error.
    /// With preconditions, the one document is checked (412) before it is deleted.
    public func delete(_ address: DocumentAddress, id: String?, preconditions: Preconditions, in scope: TenantScope, logger: Logger) async throws {
        try await sessions.run(scope, access: .readWrite, logger: logger) { connection in
            if let id, !preconditions.isEmpty {
                let existing = try await Self.select(address, id: id, locking: true, on: connection)
                try preconditions.check(against: existing?.etag)
            }
            try await connection.query("""
                DELETE FROM app.xapi_documents
                WHERE kind = \(address.kind.rawValue) AND activity_id = \(address.activityID) AND agent_key = \(address.agentKey)
                  AND registration = \(address.registration) AND (\(id)::text IS NULL OR document_id = \(id))
                """)
        }
    }

    static func select(_ address: DocumentAddress, id: String, locking: Bool, on connection: ScopedConnection) async throws -> StoredDocument? {
        let rows = try await connection.query("""
            SELECT content, content_type, etag, updated FROM app.xapi_documents
            WHERE kind = \(address.kind.rawValue) AND activity_id = \(address.activityID) AND agent_key = \(address.agentKey)
              AND registration = \(address.registration) AND document_id = \(id)
            \(unescaped: locking ? "FOR UPDATE" : "")
            """)
        for try await (content, type, etag, updated) in rows.decode((ByteBuffer, String, String, Date).self) {
            return StoredDocument(content: DocumentContent(bytes: Array(content.readableBytesView), contentType: type), etag: etag, updated: updated)
        }
        return nil
    }
}
