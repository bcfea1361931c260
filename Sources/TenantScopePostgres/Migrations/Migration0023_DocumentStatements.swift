extension Migration {
    /// The xAPI document writes as one statement each (architecture decision 45): a PUT or POST is one call of
    /// `app.xapi_document_write`, a DELETE under preconditions one call of `app.xapi_document_delete`. Each
    /// locks the stored row, decides what the Swift code used to decide between its queries, and writes only
    /// when that decision is `ok`, returning it for the server to answer with.
    ///
    /// Functions rather than one data-modifying CTE sent as text: PostgreSQL plans a PL/pgSQL function's
    /// statements once per session, while PostgresNIO's queries are planned on every call, and planning the
    /// CTE cost more than the round trip it saved (measured with pgbench on the same cluster: about 40 % fewer
    /// writes per second than the two statements it replaced; the function: 30-50 % more at one connection).

    static let documentStatements = Migration(version: 23, name: "xAPI document statements", statements: [
        // The ETag xAPI asks for (Communication 3.1): SHA-1 hex of the content, as `DocumentContent.etag`
        // computes it. pgcrypto lives in `app_private`, which the tenant role may not use; this one function
        // reaches it, and reads nothing.
        """
        CREATE FUNCTION app.xapi_document_etag(content bytea) RETURNS text
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
        AS $$ SELECT encode(app_private.digest(content, 'sha1'), 'hex') $$
        """,
        "REVOKE ALL ON FUNCTION app.xapi_document_etag(bytea) FROM PUBLIC",
        "GRANT EXECUTE ON FUNCTION app.xapi_document_etag(bytea) TO tenantscope_tenant",

        // Whether a stored document is a JSON object as `JSONParser` reads one (a POST merges into nothing
        // else). The parser refuses everything jsonb refuses (by design: what it accepts can be stored), and
        // two things jsonb accepts: nesting deeper than 512 levels, and numbers a Double cannot hold (at or
        // beyond 2^1024 - 2^970, where rounding to the nearest Double reaches infinity). Those two are
        // checked after the parse. PostgreSQL 15 has no soft input errors, so a refused parse is caught here;
        // nothing in the block writes, so the subtransaction costs no transaction id.
        """
        CREATE FUNCTION app.xapi_document_is_json_object(content bytea) RETURNS boolean
        LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE SECURITY INVOKER SET search_path = pg_catalog, pg_temp
        AS $$
        DECLARE
          document jsonb;
        BEGIN
          document := convert_from(content, 'UTF8')::jsonb;
          RETURN jsonb_typeof(document) = 'object'
            AND NOT jsonb_path_exists(document, 'strict $.**{512 to last} ? (@.type() == "object" || @.type() == "array")')
            AND NOT jsonb_path_exists(document, 'strict $.** ? (@.type() == "number" && (@ >= $limit || @ <= -$limit))',
                                      jsonb_build_object('limit', 2::numeric ^ 1024 - 2::numeric ^ 970));
        EXCEPTION WHEN data_exception OR program_limit_exceeded THEN
          -- Not UTF-8, not JSON, a \\u0000, a number numeric cannot hold, or nesting deeper than the stack.
          RETURN false;
        END
        $$
        """,
        "REVOKE ALL ON FUNCTION app.xapi_document_is_json_object(bytea) FROM PUBLIC",
        "GRANT EXECUTE ON FUNCTION app.xapi_document_is_json_object(bytea) TO tenantscope_tenant",

        // `DocumentContent.isJSON` for a stored Content-Type: the media type before the first `;` (leading
        // `;` skipped, as Swift's `split` skips empty pieces), trimmed of `CharacterSet.whitespaces`, equal to
        // `application/json` in ASCII case only (Swift's `lowercased()` turns no other character into one of
        // those letters; PostgreSQL's `lower()` might, by locale).
        """
        CREATE FUNCTION app.xapi_is_json_media_type(content_type text) RETURNS boolean
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
        RETURN translate(btrim(split_part(ltrim(content_type, ';'), ';', 1), '\(Migration.documentWhitespace)'),
                         'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') = 'application/json'
        """,
        "REVOKE ALL ON FUNCTION app.xapi_is_json_media_type(text) FROM PUBLIC",
        "GRANT EXECUTE ON FUNCTION app.xapi_is_json_media_type(text) TO tenantscope_tenant",

        // If-Match and If-None-Match (RFC 9110 §13.1) against the stored ETag (NULL: no document): the
        // refusal, in the order the checks apply, or 'ok'.
        """
        CREATE FUNCTION app.xapi_document_precondition(stored_etag text, if_match text[], if_none_match text[]) RETURNS text
        LANGUAGE sql IMMUTABLE PARALLEL SAFE
        RETURN CASE
          WHEN if_match IS NOT NULL AND stored_etag IS NULL THEN 'if_match_absent'
          WHEN if_match IS NOT NULL AND NOT (stored_etag = ANY (if_match) OR '*' = ANY (if_match)) THEN 'if_match_changed'
          WHEN if_none_match IS NOT NULL AND stored_etag IS NOT NULL AND (stored_etag = ANY (if_none_match) OR '*' = ANY (if_none_match))
            THEN 'if_none_match'
          ELSE 'ok'
        END
        """,
        "REVOKE ALL ON FUNCTION app.xapi_document_precondition(text, text[], text[]) FROM PUBLIC",
        "GRANT EXECUTE ON FUNCTION app.xapi_document_precondition(text, text[], text[]) TO tenantscope_tenant",

        // A PUT (merge false) or POST (merge true). The checks run in the order the resource applies them:
        // If-Match, If-None-Match (412); a profile PUT without either, `needs_precondition` (409 when the
        // document exists, 400 when not); a POST into a stored document where one of the two is not
        // application/json or the stored one is not a JSON object (400). `overwrite` (an unconditional State
        // PUT) also wins over a document another request created since the lock found none; anything else
        // then writes nothing (`written` 0: 409, retry). Under READ COMMITTED each statement here sees the
        // latest committed rows, and a second writer's FOR UPDATE waits for the first to commit, so two
        // writers with the same If-Match cannot both pass.
        //
        // A merge keeps each top-level member's bytes as sent (json_each of json, not jsonb, which would
        // re-print numbers and spacing); a key given twice keeps its last value, as JSONParser and jsonb do;
        // the top level is written compactly, keys in code-point order, so a merge's bytes are reproducible.
        """
        CREATE FUNCTION app.xapi_document_write(
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
        END
        $$
        """,
        "REVOKE ALL ON FUNCTION app.xapi_document_write(text, text, text, text, text, bytea, text, text, text[], text[], boolean, boolean, boolean, boolean) FROM PUBLIC",
        "GRANT EXECUTE ON FUNCTION app.xapi_document_write(text, text, text, text, text, bytea, text, text, text[], text[], boolean, boolean, boolean, boolean) TO tenantscope_tenant",

        // A DELETE of one document under If-Match / If-None-Match: locked, checked, deleted only when `ok`.
        """
        CREATE FUNCTION app.xapi_document_delete(
          kind text, activity_id text, agent_key text, registration text, document_id text, if_match text[], if_none_match text[])
        RETURNS text
        LANGUAGE plpgsql VOLATILE SECURITY INVOKER SET search_path = pg_catalog, pg_temp
        AS $$
        DECLARE
          stored_etag text;
          outcome text;
        BEGIN
          SELECT d.etag INTO stored_etag FROM app.xapi_documents d
          WHERE d.kind = xapi_document_delete.kind AND d.activity_id = xapi_document_delete.activity_id
            AND d.agent_key = xapi_document_delete.agent_key AND d.registration = xapi_document_delete.registration
            AND d.document_id = xapi_document_delete.document_id
          FOR UPDATE;
          outcome := app.xapi_document_precondition(stored_etag, if_match, if_none_match);
          IF outcome = 'ok' THEN
            DELETE FROM app.xapi_documents d
            WHERE d.kind = xapi_document_delete.kind AND d.activity_id = xapi_document_delete.activity_id
              AND d.agent_key = xapi_document_delete.agent_key AND d.registration = xapi_document_delete.registration
              AND d.document_id = xapi_document_delete.document_id;
          END IF;
          RETURN outcome;
        END
        $$
        """,
        "REVOKE ALL ON FUNCTION app.xapi_document_delete(text, text, text, text, text, text[], text[]) FROM PUBLIC",
        "GRANT EXECUTE ON FUNCTION app.xapi_document_delete(text, text, text, text, text, text[], text[]) TO tenantscope_tenant",

        // Every document lookup, the ids list with `since` included, names a whole address, so the primary
        // key's prefix serves it and `since` filters the few rows of one address. This index served no query;
        // it cost every write an index entry and kept a PUT's update from being HOT (`updated` changes).
        "DROP INDEX app.xapi_documents_tenant_updated",
    ])

    /// `CharacterSet.whitespaces` as swift-corelibs-foundation has it: CHARACTER TABULATION, Unicode's space
    /// separators (Zs), and ZERO WIDTH SPACE (U+200B, a Zs before Unicode 4.0.1). A test compares the two.
    /// Part of migration 23's text: changing it is changing that migration.
    static let documentWhitespace =
        "\t \u{A0}\u{1680}\u{2000}\u{2001}\u{2002}\u{2003}\u{2004}\u{2005}\u{2006}\u{2007}\u{2008}\u{2009}\u{200A}\u{200B}\u{202F}\u{205F}\u{3000}"
}
