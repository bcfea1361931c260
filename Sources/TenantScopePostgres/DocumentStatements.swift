import TenantScopeCore

/// The SQL of the xAPI document resources: each operation is one statement (architecture decision 45), run as one call
/// of its session function (decision 62): one round trip, or a scoped transaction where the connection runs those.
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

    /// What ``document(_:id:)`` returns: the content, its type, its ETag and when it was updated.
    static let documentColumns = ["bytea", "text", "text", "timestamptz"]

    static func document(_ address: DocumentAddress, id: String) -> BoundStatement {
        BoundStatement(sql: """
            SELECT content, content_type, etag, updated FROM app.xapi_documents
            WHERE kind = ($1::text) AND activity_id = ($2::text) AND agent_key = ($3::text) AND registration = ($4::text)
              AND document_id = ($5::text)
            """, values: addressValues(address) + [.text(id)])
    }

    /// What ``ids(_:since:)`` returns: each document's id and when it was updated.
    static let idColumns = ["text", "timestamptz"]

    /// The primary key's prefix is the whole address, so this is a range of one index ordered by id.
    static func ids(_ address: DocumentAddress, since: String?) -> BoundStatement {
        BoundStatement(sql: """
            SELECT document_id, updated FROM app.xapi_documents
            WHERE kind = ($1::text) AND activity_id = ($2::text) AND agent_key = ($3::text) AND registration = ($4::text)
              AND (($5::text)::timestamptz IS NULL OR updated > ($5::text)::timestamptz)
            ORDER BY document_id
            """, values: addressValues(address) + [.text(since)])
    }

    // MARK: - Writing

    /// What ``write(_:merge:to:id:preconditions:needsPrecondition:overwrite:)`` returns.
    static let writeColumns = ["text", "int8"]

    /// PUT (`merge: false`) or POST (`merge: true`) of `content`: `app.xapi_document_write`. Returns one row:
    /// `outcome` and `written` (rows stored: 0 when a document another request created meanwhile was not to
    /// be overwritten). The function writes only when the outcome is `ok`, so a refusal changes nothing.
    ///
    /// - `needsPrecondition`: a profile PUT without `If-Match`/`If-None-Match` (refused either way).
    /// - `overwrite`: an unconditional replace (a State PUT), which also wins over a document created by a
    ///   concurrent request after the lock found none; anything else that finds one is refused.
    static func write(
        _ content: DocumentContent, merge: Bool, to address: DocumentAddress, id: String,
        preconditions: DocumentStore.Preconditions, needsPrecondition: Bool, overwrite: Bool
    ) -> BoundStatement {
        BoundStatement(sql: """
            SELECT w.outcome, w.written::int8 FROM app.xapi_document_write(
              ($1::text), ($2::text), ($3::text), ($4::text), ($5::text), ($6::bytea), ($7::text), ($8::text), ($9::text[]), ($10::text[]),
              ($11::boolean), ($12::boolean), ($13::boolean), ($14::boolean)) AS w
            """, values: addressValues(address) + [
                .text(id), .bytes(content.bytes), .text(content.contentType), .text(content.etag),
                .textArrayOrNull(preconditions.ifMatch), .textArrayOrNull(preconditions.ifNoneMatch),
                .boolean(merge), .boolean(content.isJSON), .boolean(needsPrecondition), .boolean(overwrite),
            ])
    }

    /// What ``conditionalDelete(_:id:preconditions:)`` returns: the outcome.
    static let conditionalDeleteColumns = ["text"]

    /// DELETE of one document under preconditions: `app.xapi_document_delete`. Returns one row, the outcome.
    /// (Without preconditions, or for a whole State set, ``delete(_:id:)`` is the statement.)
    static func conditionalDelete(_ address: DocumentAddress, id: String, preconditions: DocumentStore.Preconditions) -> BoundStatement {
        BoundStatement(sql: """
            SELECT app.xapi_document_delete(($1::text), ($2::text), ($3::text), ($4::text), ($5::text), ($6::text[]), ($7::text[]))
            """, values: addressValues(address) + [
                .text(id), .textArrayOrNull(preconditions.ifMatch), .textArrayOrNull(preconditions.ifNoneMatch),
            ])
    }

    /// What ``delete(_:id:)`` returns: how many documents it deleted.
    static let deleteColumns = ["int8"]

    /// DELETE of one document (`id`) or of every document at the address, unconditionally.
    static func delete(_ address: DocumentAddress, id: String?) -> BoundStatement {
        BoundStatement(sql: """
            WITH deleted AS (
              DELETE FROM app.xapi_documents
              WHERE kind = ($1::text) AND activity_id = ($2::text) AND agent_key = ($3::text) AND registration = ($4::text)
                AND (($5::text) IS NULL OR document_id = ($5::text))
              RETURNING 1)
            SELECT count(*)::int8 FROM deleted
            """, values: addressValues(address) + [.text(id)])
    }

    /// The address's four columns, the first four parameters of every statement here.
    private static func addressValues(_ address: DocumentAddress) -> [BoundStatement.Value] {
        [.text(address.kind.rawValue), .text(address.activityID), .text(address.agentKey), .text(address.registration)]
    }
}
