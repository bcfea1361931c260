import NIOCore
import PostgresNIO
import TenantScopeCore

/// The SQL of the xAPI document resources: each operation is one statement inside the scoped transaction
/// (architecture decision 45), so a request costs the transaction's fixed round trips plus one.
///
/// A write or a DELETE under preconditions calls a PL/pgSQL function of migration 23, which locks the stored
/// row (`FOR UPDATE`), decides what the Swift code used to decide between its queries (preconditions, the
/// profiles' PUT rule, the merge's JSON rules), writes only when that decision is `ok`, and returns it.
/// Under READ COMMITTED a second writer's `FOR UPDATE` waits for the first to commit and then sees the row
/// the first one left, so two writers with the same `If-Match` cannot both succeed.
enum DocumentStatements {
    /// What a write or conditional delete decided, as its function returns it.
    enum Outcome: String, Sendable {
        case ok
        case ifMatchAbsent = "if_match_absent"
        case ifMatchChanged = "if_match_changed"
        case ifNoneMatch = "if_none_match"
        /// A profile PUT without `If-Match`/`If-None-Match`, and no document.
        case preconditionRequired = "precondition_required"
        /// A profile PUT without `If-Match`/`If-None-Match`, and the document exists.
        case exists
        /// A POST into a stored document where one of the two is not `application/json`.
        case notJSON = "not_json"
        /// A POST into a stored `application/json` document that is not a JSON object.
        case storedNotObject = "stored_not_object"
    }

    // MARK: - Reading

    static func document(_ address: DocumentAddress, id: String) -> PostgresQuery {
        """
        SELECT content, content_type, etag, updated FROM app.xapi_documents
        WHERE kind = \(address.kind.rawValue) AND activity_id = \(address.activityID) AND agent_key = \(address.agentKey)
          AND registration = \(address.registration) AND document_id = \(id)
        """
    }

    /// The primary key's prefix is the whole address, so this is a range of one index ordered by id.
    static func ids(_ address: DocumentAddress, since: String?) -> PostgresQuery {
        """
        SELECT document_id, updated FROM app.xapi_documents
        WHERE kind = \(address.kind.rawValue) AND activity_id = \(address.activityID) AND agent_key = \(address.agentKey)
          AND registration = \(address.registration)
          AND (\(since)::timestamptz IS NULL OR updated > \(since)::timestamptz)
        ORDER BY document_id
        """
    }

    // MARK: - Writing

    /// PUT (`merge: false`) or POST (`merge: true`) of `content`: `app.xapi_document_write`. Returns one row:
    /// `outcome` and `written` (rows stored: 0 when a document another request created meanwhile was not to
    /// be overwritten).
    ///
    /// - `needsPrecondition`: a profile PUT without `If-Match`/`If-None-Match` (refused either way).
    /// - `overwrite`: an unconditional replace (a State PUT), which also wins over a document created by a
    ///   concurrent request after the lock found none; anything else that finds one is refused.
    static func write(
        _ content: DocumentContent, merge: Bool, to address: DocumentAddress, id: String,
        preconditions: DocumentStore.Preconditions, needsPrecondition: Bool, overwrite: Bool
    ) -> PostgresQuery {
        """
        SELECT outcome, written FROM app.xapi_document_write(
          \(address.kind.rawValue), \(address.activityID), \(address.agentKey), \(address.registration), \(id),
          \(ByteBuffer(bytes: content.bytes))::bytea, \(content.contentType), \(content.etag),
          \(preconditions.ifMatch)::text[], \(preconditions.ifNoneMatch)::text[],
          \(merge), \(content.isJSON), \(needsPrecondition), \(overwrite))
        """
    }

    /// DELETE of one document under preconditions: `app.xapi_document_delete`. Returns one row, the outcome.
    /// (Without preconditions, or for a whole State set, ``delete(_:id:)`` is the statement.)
    static func conditionalDelete(_ address: DocumentAddress, id: String, preconditions: DocumentStore.Preconditions) -> PostgresQuery {
        """
        SELECT app.xapi_document_delete(
          \(address.kind.rawValue), \(address.activityID), \(address.agentKey), \(address.registration), \(id),
          \(preconditions.ifMatch)::text[], \(preconditions.ifNoneMatch)::text[])
        """
    }

    /// DELETE of one document (`id`) or of every document at the address, unconditionally.
    static func delete(_ address: DocumentAddress, id: String?) -> PostgresQuery {
        """
        DELETE FROM app.xapi_documents
        WHERE kind = \(address.kind.rawValue) AND activity_id = \(address.activityID) AND agent_key = \(address.agentKey)
          AND registration = \(address.registration) AND (\(id)::text IS NULL OR document_id = \(id))
        """
    }
}
