extension Migration {
    /// Export files that must go are queued in the transaction that decides it, and removed until they are gone
    /// (architecture decision 91).
    ///
    /// An erasure revoked (or deleted) the jobs of every export that could hold the learner, and the retention sweep
    /// expired old ones, in a transaction, and removed their files after it committed: a file the store could not remove
    /// then (S3 unavailable) stayed, and nothing would ever return to it (a retried erasure finds no job to revoke, an
    /// expired job is not expired again). `app.export_removals` holds each such file (its job id and extension, the
    /// object's whole name under the tenant's prefix) from that transaction on; whoever removes it deletes its row, and
    /// the export worker visits every tenant that has rows left (`app.pending_export_work()`, which gains a count).
    static let exportRemovals = Migration(version: 50, name: "export removals", statements: [
        """
        CREATE TABLE app.export_removals (
          tenant_id uuid NOT NULL REFERENCES app.tenants (id) ON DELETE CASCADE,
          job_id uuid NOT NULL,
          file_extension text NOT NULL CHECK (file_extension ~ '^[a-z]{1,8}(\\.[a-z]{1,8})?$'),
          queued_at timestamptz NOT NULL DEFAULT now(),
          PRIMARY KEY (tenant_id, job_id)
        )
        """,
        "CALL app_private.protect_tenant_table('app.export_removals')",
        // As every tenant table since migration 46: the default reads the context's claim, the policy checks it.
        "ALTER TABLE app.export_removals ALTER COLUMN tenant_id SET DEFAULT app.context_tenant()",
        "CREATE POLICY aggregates_read ON app.export_removals FOR SELECT TO tenantscope_aggregates USING (true)",
        "GRANT SELECT ON app.export_removals TO tenantscope_aggregates",
        // The function's result gains a column: replaced whole, acting for its owner.
        "GRANT tenantscope_aggregates TO CURRENT_USER",
        "GRANT CREATE ON SCHEMA app TO tenantscope_aggregates",
        "DROP FUNCTION app.pending_export_work()",
        """
        CREATE FUNCTION app.pending_export_work()
        RETURNS TABLE (tenant_id uuid, runnable bigint, expiring bigint, due_schedules bigint, removals bigint)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
        AS $$
          WITH jobs AS (
            SELECT j.tenant_id,
                   count(*) FILTER (WHERE (j.state = 'queued' AND (j.lease_until IS NULL OR j.lease_until < now()))
                                       OR (j.state = 'running' AND j.lease_until < now())) AS runnable,
                   count(*) FILTER (WHERE j.state = 'done' AND j.expires_at < now()) AS expiring
            FROM app.export_jobs j
            WHERE j.state IN ('queued', 'running') OR (j.state = 'done' AND j.expires_at < now())
            GROUP BY j.tenant_id
          ), schedules AS (
            SELECT s.tenant_id, count(*) AS due
            FROM app.export_schedules s
            WHERE app.export_schedule_slot(s.cadence, s.hour, s.weekday, now()) >= s.created_at
              AND (s.last_slot IS NULL OR app.export_schedule_slot(s.cadence, s.hour, s.weekday, now()) > s.last_slot)
            GROUP BY s.tenant_id
          ), removals AS (
            SELECT r.tenant_id, count(*) AS queued FROM app.export_removals r GROUP BY r.tenant_id
          )
          SELECT coalesce(j.tenant_id, s.tenant_id, r.tenant_id), coalesce(j.runnable, 0), coalesce(j.expiring, 0), coalesce(s.due, 0),
                 coalesce(r.queued, 0)
          FROM jobs j FULL JOIN schedules s ON s.tenant_id = j.tenant_id
               FULL JOIN removals r ON r.tenant_id = coalesce(j.tenant_id, s.tenant_id)
          WHERE coalesce(j.runnable, 0) + coalesce(j.expiring, 0) + coalesce(s.due, 0) + coalesce(r.queued, 0) > 0
        $$
        """,
        "ALTER FUNCTION app.pending_export_work() OWNER TO tenantscope_aggregates",
        "REVOKE ALL ON FUNCTION app.pending_export_work() FROM PUBLIC",
        "GRANT EXECUTE ON FUNCTION app.pending_export_work() TO tenantscope_app",
        "REVOKE CREATE ON SCHEMA app FROM tenantscope_aggregates",
        "REVOKE tenantscope_aggregates FROM CURRENT_USER",
    ])
}
