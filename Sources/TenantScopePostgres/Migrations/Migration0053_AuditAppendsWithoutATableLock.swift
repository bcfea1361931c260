extension Migration {
    /// Audit appends take turns on an advisory lock instead of a table lock (architecture decision 97).
    ///
    /// `app.append_audit` serialized appenders with `LOCK TABLE app.audit_log IN SHARE ROW EXCLUSIVE MODE`, which also
    /// conflicts with the `SHARE UPDATE EXCLUSIVE` lock VACUUM and ANALYZE take: under steady traffic autovacuum on the
    /// insert-only log was cancelled each time an append waited behind it, so the table was never vacuumed, and an
    /// anti-wraparound vacuum (which is not cancelled) would hold every audited request for its whole run. Every row of
    /// the log is written by this function (no role but the owner may insert), so a transaction-scoped advisory lock
    /// orders appenders as the table lock did: the next one reads the chain's head once the previous has committed.
    /// Replaced whole; its grants stay.
    static let auditAppendsWithoutATableLock = Migration(version: 53, name: "audit appends without a table lock", statements: [
        """
        CREATE OR REPLACE FUNCTION app.append_audit(
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
          -- One appender at a time, so every row chains to the row before it; not a table lock, which VACUUM waits for.
          PERFORM pg_advisory_xact_lock(hashtextextended('tenantscope.audit_log', 0));
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
    ])
}
