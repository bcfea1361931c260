import Foundation
import Logging
import PostgresNIO
import TenantScopeCore

/// The xAPI document resources' storage (State, Activity Profile, Agent Profile): reads and writes
/// `app.xapi_documents` in the credential's tenant scope (one call of a session function, or a scoped transaction),
/// so row-level security keeps every other tenant's documents out of reach even when the ids are the same.
///
/// Every operation is one statement (``DocumentStatements``, architecture decision 45). A write locks the
/// stored document, checks the request's preconditions against its ETag and replaces or merges it in that
/// statement (a function of migration 23); two writers of the same document therefore see each other's
/// result, and `If-Match` means what it says.
public struct DocumentStore: Sendable {
    let sessions: ScopedDatabase

    public struct StoredDocument: Sendable, Hashable {
        public var content: DocumentContent
        /// SHA-1 hex of the content, unquoted.
        public var etag: String
        public var updated: Date
    }

    /// `If-Match` and `If-None-Match` of a request (RFC 9110 §13.1), as lists of unquoted ETags or `*`.
    /// PostgreSQL checks them against the locked row (`app.xapi_document_precondition`, migration 23).
    public struct Preconditions: Sendable, Hashable {
        public var ifMatch: [String]?
        public var ifNoneMatch: [String]?

        public init(ifMatch: [String]? = nil, ifNoneMatch: [String]? = nil) {
            self.ifMatch = ifMatch
            self.ifNoneMatch = ifNoneMatch
        }

        public var isEmpty: Bool { ifMatch == nil && ifNoneMatch == nil }
    }

    public enum WriteMode: Sendable {
        /// PUT: the content replaces the document.
        case replace
        /// POST: JSON objects are merged into the stored one; a missing document is created.
        case merge
    }

    // MARK: - Reading

    /// On the primary (the LRS reads its own writes), as all reads here.
    public func document(_ address: DocumentAddress, id: String, in scope: TenantScope, logger: Logger) async throws -> StoredDocument? {
        let rows = try await sessions.readRows(scope, DocumentStatements.document(address, id: id), columnTypes: DocumentStatements.documentColumns,
                                               replicas: false, logger: logger).rows
        return try rows.first.map { row in
            let (content, type, etag, updated) = try row.decode((ByteBuffer, String, String, Date).self)
            return StoredDocument(content: DocumentContent(bytes: Array(content.readableBytesView), contentType: type), etag: etag, updated: updated)
        }
    }

    /// The ids of the documents at an address, updated after `since` when given, in id order, and the
    /// newest `updated` among them (for `Last-Modified`).
    public func ids(_ address: DocumentAddress, since: String?, in scope: TenantScope, logger: Logger) async throws -> (ids: [String], newest: Date?) {
        let rows = try await sessions.readRows(scope, DocumentStatements.ids(address, since: since), columnTypes: DocumentStatements.idColumns,
                                               replicas: false, logger: logger).rows
        var ids: [String] = []
        var newest: Date?
        for row in rows {
            let (id, updated) = try row.decode((String, Date).self)
            ids.append(id)
            newest = max(newest ?? updated, updated)
        }
        return (ids, newest)
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
        let statement = DocumentStatements.write(
            content, merge: mode == .merge, to: address, id: id, preconditions: preconditions,
            needsPrecondition: mode == .replace && address.kind.requiresConcurrencyHeaders && preconditions.isEmpty,
            overwrite: mode == .replace && preconditions.isEmpty)
        // One statement, committed on its own: a refusal (an outcome other than `ok`, or nothing written) wrote nothing.
        let row = try await sessions.writeRows(scope, statement, columnTypes: DocumentStatements.writeColumns, logger: logger).first
        guard let (outcome, written) = try row?.decode((String, Int).self) else { throw UnexpectedOutcome(outcome: nil) }
        try Self.accept(outcome)
        // Nothing was there to lock, and another request created the document before this one's insert: an
        // unconditional replace (a State PUT) overwrote it, as it would have a moment later, and anything else looked
        // again and merged into it or was refused by its preconditions (migration 52). Nothing written after that
        // second look cannot happen while the function holds the row; should it, the request changed nothing.
        if written == 0 {
            throw TenantScopeError.conflict("the document was created by another request at the same time; retry")
        }
    }

    /// Deletes one document (`id`), or every document at the address; a missing one is not an error.
    /// With preconditions, the one document is checked (412) before it is deleted, in the same statement.
    public func delete(_ address: DocumentAddress, id: String?, preconditions: Preconditions, in scope: TenantScope, logger: Logger) async throws {
        if id == nil, !preconditions.isEmpty {
            // A DELETE of every State of an activity and agent has no one document, and so no ETag, to hold a
            // precondition against: refused rather than ignored, which deleted them all (probe 38).
            throw TenantScopeError.invalidInput(
                "If-Match and If-None-Match apply to one document: name it (stateId), or send neither to delete them all")
        }
        guard let id, !preconditions.isEmpty else {
            _ = try await sessions.writeRows(scope, DocumentStatements.delete(address, id: id), columnTypes: DocumentStatements.deleteColumns,
                                             logger: logger)
            return
        }
        let row = try await sessions.writeRows(scope, DocumentStatements.conditionalDelete(address, id: id, preconditions: preconditions),
                                               columnTypes: DocumentStatements.conditionalDeleteColumns, logger: logger).first
        guard let outcome = try row?.decode(String.self) else { throw UnexpectedOutcome(outcome: nil) }
        try Self.accept(outcome)
    }

    /// Turns a statement's refusal into the answer the resource gives (the statement wrote nothing for it, so the call
    /// or transaction it ran in changed nothing); `ok` passes.
    static func accept(_ outcome: String) throws {
        switch DocumentStatements.Outcome(rawValue: outcome) {
        case .ok:
            return
        case .ifMatchAbsent:
            throw TenantScopeError.preconditionFailed("If-Match: there is no such document")
        case .ifMatchChanged:
            throw TenantScopeError.preconditionFailed("If-Match: the document has changed (its ETag is not the one given)")
        case .ifNoneMatch:
            throw TenantScopeError.preconditionFailed("If-None-Match: the document already exists")
        case .exists:
            throw TenantScopeError.conflict(
                "the document exists: send If-Match with its ETag to overwrite it, or If-None-Match: * to create only")
        case .preconditionRequired:
            throw TenantScopeError.invalidInput("a PUT to a profile needs If-Match (overwrite) or If-None-Match: * (create)")
        case .notJSON:
            throw TenantScopeError.invalidInput(
                "a POST merges JSON documents only: both the stored document and the request must be application/json")
        case .storedNotObject:
            throw TenantScopeError.invalidInput("the stored document is not a JSON object, so nothing can be merged into it")
        case nil:
            throw UnexpectedOutcome(outcome: outcome)
        }
    }

    /// A statement that answered what it cannot (a bug, not bad input): the request fails with 500.
    struct UnexpectedOutcome: Error, CustomStringConvertible {
        var outcome: String?
        var description: String { "a document statement returned \(outcome.map { "the outcome '\($0)'" } ?? "no row")" }
    }
}
