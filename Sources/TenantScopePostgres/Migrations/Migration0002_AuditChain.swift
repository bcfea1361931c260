extension Migration {
    /// The audit chain: appends go through one function that hashes each row together with the
    /// previous row's hash, so editing or deleting any row breaks every hash after it.
    static let auditChain = Migration(version: 2, name: "audit chain and token revocations", statements: [
        // The canonical text of a row: a jsonb array (jsonb prints deterministically) of every field.
        """
        CREATE FUNCTION app_private.audit_row_hash(
          previous_hash text, seq bigint, occurred_at timestamptz, actor text, actor_kind text, scope_tenant_id uuid,
          action text, report text, parameters jsonb, row_count bigint, outcome text
        ) RETURNS text
        LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
        AS $$
          SELECT encode(sha256(convert_to(previous_hash || jsonb_build_array(
            seq, (extract(epoch FROM occurred_at) * 1000000)::bigint, actor, actor_kind, scope_tenant_id,
            action, report, parameters, row_count, outcome)::text, 'UTF8')), 'hex')
        $$
        """,
        """
        CREATE FUNCTION app.append_audit(
          p_actor text, p_actor_kind text, p_scope_tenant_id uuid, p_action text, p_report text,
          p_parameters jsonb, p_row_count bigint, p_outcome text
        ) RETURNS bigint
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
        AS $$
        DECLARE
          previous text;
          new_seq bigint;
          at timestamptz := clock_timestamp();
        BEGIN
          -- One appender at a time, so every row chains to the row before it.
          LOCK TABLE app.audit_log IN SHARE ROW EXCLUSIVE MODE;
          SELECT hash INTO previous FROM app.audit_log ORDER BY seq DESC LIMIT 1;
          previous := coalesce(previous, repeat('0', 64));
          new_seq := nextval(pg_get_serial_sequence('app.audit_log', 'seq'));
          INSERT INTO app.audit_log (seq, occurred_at, actor, actor_kind, scope_tenant_id, action, report, parameters,
                                     row_count, outcome, previous_hash, hash)
          OVERRIDING SYSTEM VALUE
          VALUES (new_seq, at, p_actor, p_actor_kind, p_scope_tenant_id, p_action, p_report, coalesce(p_parameters, '{}'),
                  p_row_count, p_outcome, previous,
                  app_private.audit_row_hash(previous, new_seq, at, p_actor, p_actor_kind, p_scope_tenant_id, p_action,
                                             p_report, coalesce(p_parameters, '{}'), p_row_count, p_outcome));
          RETURN new_seq;
        END
        $$
        """,
        "REVOKE ALL ON FUNCTION app.append_audit(text, text, uuid, text, text, jsonb, bigint, text) FROM PUBLIC",
        "GRANT EXECUTE ON FUNCTION app.append_audit(text, text, uuid, text, text, jsonb, bigint, text) TO tenantscope_app",
        // The first row whose link or hash does not match, or NULL when the chain is intact.
        """
        CREATE FUNCTION app.first_broken_audit_row() RETURNS bigint
        LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
        AS $$
        DECLARE
          r app.audit_log;
          expected_previous text := repeat('0', 64);
        BEGIN
          FOR r IN SELECT * FROM app.audit_log ORDER BY seq LOOP
            IF r.previous_hash IS DISTINCT FROM expected_previous
               OR r.hash IS DISTINCT FROM app_private.audit_row_hash(r.previous_hash, r.seq, r.occurred_at, r.actor,
                    r.actor_kind, r.scope_tenant_id, r.action, r.report, r.parameters, r.row_count, r.outcome) THEN
              RETURN r.seq;
            END IF;
            expected_previous := r.hash;
          END LOOP;
          RETURN NULL;
        END
        $$
        """,
        "REVOKE ALL ON FUNCTION app.first_broken_audit_row() FROM PUBLIC",

        // The `jti` deny list: operators revoke a token before it expires; the server asks per request.
        """
        CREATE TABLE app_private.revoked_tokens (
          jti text PRIMARY KEY CHECK (length(jti) BETWEEN 1 AND 200),
          revoked_at timestamptz NOT NULL DEFAULT now(),
          reason text
        )
        """,
        """
        CREATE FUNCTION app.token_revoked(p_jti text) RETURNS boolean
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
        AS $$ SELECT EXISTS (SELECT 1 FROM app_private.revoked_tokens WHERE jti = p_jti) $$
        """,
        "REVOKE ALL ON FUNCTION app.token_revoked(text) FROM PUBLIC",
        "GRANT EXECUTE ON FUNCTION app.token_revoked(text) TO tenantscope_app",
    ])
}
