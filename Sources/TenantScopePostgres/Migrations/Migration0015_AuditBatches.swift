extension Migration {
    /// Audit appends in batches (architecture decision 34): the server's one appender takes every entry
    /// that queued while the previous batch was written and appends them in one transaction, so concurrent
    /// requests share one chain lock, one round trip and one commit instead of queueing on the table lock
    /// one by one. Each entry is still checked and chained by `app.append_signed_audit`, in order.
    static let auditBatches = Migration(version: 15, name: "audit batches", statements: [
        """
        CREATE FUNCTION app.append_signed_audit_batch(
          p_principals text[], p_scope_tenant_ids text[], p_actions text[], p_reports text[],
          p_parameters text[], p_row_counts text[], p_outcomes text[]
        ) RETURNS bigint[]
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
        AS $$
        DECLARE
          n integer := coalesce(array_length(p_principals, 1), 0);
          seqs bigint[] := '{}';
        BEGIN
          IF n > 1000 OR n <> coalesce(array_length(p_scope_tenant_ids, 1), 0) OR n <> coalesce(array_length(p_actions, 1), 0)
             OR n <> coalesce(array_length(p_reports, 1), 0) OR n <> coalesce(array_length(p_parameters, 1), 0)
             OR n <> coalesce(array_length(p_row_counts, 1), 0) OR n <> coalesce(array_length(p_outcomes, 1), 0) THEN
            RAISE EXCEPTION 'invalid audit batch' USING ERRCODE = '22023';
          END IF;
          FOR i IN 1..n LOOP
            seqs := seqs || app.append_signed_audit(
              p_principals[i], nullif(p_scope_tenant_ids[i], '')::uuid, p_actions[i], nullif(p_reports[i], ''),
              p_parameters[i]::jsonb, nullif(p_row_counts[i], '')::bigint, p_outcomes[i]);
          END LOOP;
          RETURN seqs;
        END
        $$
        """,
        "REVOKE ALL ON FUNCTION app.append_signed_audit_batch(text[], text[], text[], text[], text[], text[], text[]) FROM PUBLIC",
        "GRANT EXECUTE ON FUNCTION app.append_signed_audit_batch(text[], text[], text[], text[], text[], text[], text[]) TO tenantscope_app",
    ])
}
