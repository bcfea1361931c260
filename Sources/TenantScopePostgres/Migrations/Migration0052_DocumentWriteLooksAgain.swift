extension Migration {
    /// A document write that lost its insert to a concurrent one looks again (architecture decision 95).
    ///
    /// Two POSTs (merges) to a document that did not exist yet both found nothing to lock; the second's insert waited for
    /// the first, updated nothing (a merge may not overwrite) and was answered 409 "retry", its members never merged. Two
    /// PUTs with `If-None-Match: *` got the same 409 where xAPI expects 412 for the second. The function now tries a
    /// second time when its insert wrote nothing: the conflict left the committed row locked, so the second look finds
    /// it, and merges into it, or refuses by its preconditions. Replaced whole; its grants stay.
    static let documentWriteLooksAgain = Migration(version: 52, name: "document write looks again", statements: [
        """
        CREATE OR REPLACE FUNCTION app.xapi_document_write(
          kind text, activity_id text, agent_key text, registration text, document_id text,
          content bytea, content_type text, etag text, if_match text[], if_none_match text[],
          merge boolean, content_is_json boolean, needs_precondition boolean, overwrite boolean,
          OUT outcome text, OUT written integer)
        LANGUAGE plpgsql VOLATILE SECURITY INVOKER SET search_path = pg_catalog, pg_temp
        AS $$
        DECLARE
          stored_content bytea;
          stored_type text;
          stored_etag text;
        BEGIN
          -- Twice at most: a first attempt that found no document and lost the insert to a concurrent one (the
          -- conflict waited for it to commit, and the row is now locked) looks again, and merges into it or refuses.
          FOR attempt IN 1..2 LOOP
            written := 0;
            SELECT d.content, d.content_type, d.etag INTO stored_content, stored_type, stored_etag
            FROM app.xapi_documents d
            WHERE d.kind = xapi_document_write.kind AND d.activity_id = xapi_document_write.activity_id
              AND d.agent_key = xapi_document_write.agent_key AND d.registration = xapi_document_write.registration
              AND d.document_id = xapi_document_write.document_id
            FOR UPDATE;
            outcome := app.xapi_document_precondition(stored_etag, if_match, if_none_match);
            IF outcome <> 'ok' THEN
              RETURN;
            ELSIF needs_precondition THEN
              outcome := CASE WHEN stored_etag IS NULL THEN 'precondition_required' ELSE 'exists' END;
              RETURN;
            ELSIF merge AND stored_etag IS NOT NULL THEN
              IF NOT (content_is_json AND app.xapi_is_json_media_type(stored_type)) THEN
                outcome := 'not_json';
                RETURN;
              ELSIF NOT app.xapi_document_is_json_object(stored_content) THEN
                outcome := 'stored_not_object';
                RETURN;
              END IF;
              SELECT convert_to('{' || coalesce(string_agg(to_json(m.key)::text || ':' || m.value::text, ',' ORDER BY m.key COLLATE "C"), '')
                                || '}', 'UTF8')
              INTO content
              FROM (SELECT DISTINCT ON (c.key) c.key, c.value
                    FROM (SELECT s.key, s.value, 0 AS source, s.position
                          FROM json_each(convert_from(stored_content, 'UTF8')::json) WITH ORDINALITY AS s (key, value, position)
                          UNION ALL
                          SELECT p.key, p.value, 1, p.position
                          FROM json_each(convert_from(xapi_document_write.content, 'UTF8')::json) WITH ORDINALITY AS p (key, value, position)
                         ) AS c
                    ORDER BY c.key, c.source DESC, c.position DESC) AS m;
              content_type := 'application/json';
              etag := app.xapi_document_etag(content);
            END IF;

            IF stored_etag IS NOT NULL THEN
              UPDATE app.xapi_documents d
              SET content = xapi_document_write.content, content_type = xapi_document_write.content_type,
                  etag = xapi_document_write.etag, updated = clock_timestamp()
              WHERE d.kind = xapi_document_write.kind AND d.activity_id = xapi_document_write.activity_id
                AND d.agent_key = xapi_document_write.agent_key AND d.registration = xapi_document_write.registration
                AND d.document_id = xapi_document_write.document_id;
            ELSE
              INSERT INTO app.xapi_documents AS d (kind, activity_id, agent_key, registration, document_id, content, content_type, etag)
              VALUES (kind, activity_id, agent_key, registration, document_id, content, content_type, etag)
              ON CONFLICT ON CONSTRAINT xapi_documents_pkey DO UPDATE
                SET content = EXCLUDED.content, content_type = EXCLUDED.content_type, etag = EXCLUDED.etag, updated = clock_timestamp()
                WHERE overwrite;
            END IF;
            GET DIAGNOSTICS written = ROW_COUNT;
            EXIT WHEN written > 0 OR stored_etag IS NOT NULL OR overwrite;
          END LOOP;
        END
        $$
        """,
    ])
}
