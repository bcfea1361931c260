extension Migration {
    /// Per-tenant export jobs and their schedules (architecture decision 44).
    ///
    /// Both are tenant tables under the usual rules: the API, the worker and the CLI reach them only in a
    /// tenant's scope, so another tenant's job is simply not there (404). The worker learns which tenants
    /// have work through `app.pending_export_work()`, owned by the aggregates role like
    /// `pending_rollup_work()`: tenant ids and counts, never a job's content. It then claims a job in that
    /// tenant's scope with `FOR UPDATE SKIP LOCKED`, so two server processes never run the same attempt.
    static let exports = Migration(version: 22, name: "exports", statements: [
        """
        CREATE TABLE app.export_schedules (
          tenant_id uuid NOT NULL REFERENCES app.tenants (id) ON DELETE CASCADE,
          id uuid NOT NULL DEFAULT gen_random_uuid(),
          report text NOT NULL CHECK (report ~ '^[a-z][a-z0-9_]{0,62}$'),
          parameters jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(parameters) = 'object' AND octet_length(parameters::text) <= 4000),
          format text NOT NULL CHECK (format IN ('csv', 'json', 'ndjson')),
          compressed boolean NOT NULL DEFAULT false,
          cadence text NOT NULL CHECK (cadence IN ('daily', 'weekly')),
          hour integer NOT NULL CHECK (hour BETWEEN 0 AND 23),
          -- ISO day of the week (1 = Monday) for weekly schedules.
          weekday integer CHECK (weekday BETWEEN 1 AND 7),
          created_by text NOT NULL CHECK (length(created_by) BETWEEN 1 AND 300),
          created_role text NOT NULL CHECK (created_role IN ('viewer', 'analyst', 'admin')),
          attributes jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(attributes) = 'object'),
          created_at timestamptz NOT NULL DEFAULT now(),
          last_slot timestamptz,
          PRIMARY KEY (tenant_id, id),
          CHECK ((cadence = 'weekly') = (weekday IS NOT NULL))
        )
        """,
        "CALL app_private.protect_tenant_table('app.export_schedules')",
        """
        CREATE TABLE app.export_jobs (
          tenant_id uuid NOT NULL REFERENCES app.tenants (id) ON DELETE CASCADE,
          id uuid NOT NULL DEFAULT gen_random_uuid(),
          -- What is exported: a catalog report, the tenant's raw statements, or everything about one learner.
          source text NOT NULL CHECK (source IN ('report', 'statements', 'learner')),
          report text CHECK (report ~ '^[a-z][a-z0-9_]{0,62}$'),
          parameters jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(parameters) = 'object' AND octet_length(parameters::text) <= 4000),
          -- The learner of a data-subject export (its actor key); cleared when that learner is erased.
          subject_actor_key text CHECK (octet_length(subject_actor_key) <= 1000),
          format text NOT NULL CHECK (format IN ('csv', 'json', 'ndjson')),
          compressed boolean NOT NULL DEFAULT false,
          state text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done', 'failed', 'expired', 'revoked')),
          requested_by text NOT NULL CHECK (length(requested_by) BETWEEN 1 AND 300),
          requested_kind text NOT NULL CHECK (requested_kind IN ('tenant_user', 'platform_admin', 'schedule', 'operator')),
          -- The requester's role and signed row attributes: the job reads exactly what its requester may.
          requested_role text NOT NULL CHECK (requested_role IN ('viewer', 'analyst', 'admin')),
          attributes jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(attributes) = 'object'),
          schedule_id uuid,
          slot timestamptz,
          attempts integer NOT NULL DEFAULT 0,
          rows_written bigint NOT NULL DEFAULT 0,
          size_bytes bigint,
          error text CHECK (length(error) <= 1000),
          lease_owner text,
          -- A running attempt's lease; for a queued job given back after a failure, the earliest retry.
          lease_until timestamptz,
          created_at timestamptz NOT NULL DEFAULT now(),
          started_at timestamptz,
          finished_at timestamptz,
          expires_at timestamptz,
          PRIMARY KEY (tenant_id, id),
          UNIQUE (tenant_id, schedule_id, slot),
          CHECK ((source = 'report') = (report IS NOT NULL)),
          CHECK ((source = 'learner') = (subject_actor_key IS NOT NULL))
        )
        """,
        "CALL app_private.protect_tenant_table('app.export_jobs')",
        "CREATE INDEX export_jobs_tenant_created ON app.export_jobs (tenant_id, created_at DESC)",
        // The worker's claim and the pending-work summary read only unfinished or expiring jobs.
        "CREATE INDEX export_jobs_open ON app.export_jobs (tenant_id, created_at) WHERE state IN ('queued', 'running')",

        // Serializes export claims within the current tenant (the per-tenant running limit), for the
        // tenant role, which may not take advisory locks itself.
        """
        CREATE FUNCTION app.lock_export_claims() RETURNS void
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
        AS $$
        DECLARE
          tenant uuid := app.current_tenant();
        BEGIN
          IF tenant IS NULL THEN
            RAISE EXCEPTION 'no tenant context';
          END IF;
          PERFORM pg_advisory_xact_lock(hashtextextended('tenantscope.export_claim.' || tenant::text, 0));
        END
        $$
        """,
        "REVOKE ALL ON FUNCTION app.lock_export_claims() FROM PUBLIC",
        "GRANT EXECUTE ON FUNCTION app.lock_export_claims() TO tenantscope_tenant",

        // The latest slot of a schedule at or before `at` (UTC): today's (or this week's) hour, or the one before.
        """
        CREATE FUNCTION app.export_schedule_slot(cadence text, hour integer, weekday integer, at timestamptz) RETURNS timestamptz
        LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp
        AS $$
          SELECT CASE cadence
            WHEN 'daily' THEN
              CASE WHEN date_trunc('day', at AT TIME ZONE 'UTC') + make_interval(hours => hour) <= at AT TIME ZONE 'UTC'
                   THEN date_trunc('day', at AT TIME ZONE 'UTC') + make_interval(hours => hour)
                   ELSE date_trunc('day', at AT TIME ZONE 'UTC') + make_interval(hours => hour) - interval '1 day' END
            ELSE
              CASE WHEN date_trunc('week', at AT TIME ZONE 'UTC') + make_interval(days => weekday - 1, hours => hour) <= at AT TIME ZONE 'UTC'
                   THEN date_trunc('week', at AT TIME ZONE 'UTC') + make_interval(days => weekday - 1, hours => hour)
                   ELSE date_trunc('week', at AT TIME ZONE 'UTC') + make_interval(days => weekday - 1, hours => hour) - interval '7 days' END
          END AT TIME ZONE 'UTC'
        $$
        """,
        "GRANT EXECUTE ON FUNCTION app.export_schedule_slot(text, integer, integer, timestamptz) TO tenantscope_tenant",

        // Which tenants the export worker must visit: queued jobs, abandoned attempts (lease run out),
        // finished objects past their expiry, and schedules whose slot has come. Counts only.
        "CREATE POLICY aggregates_read ON app.export_jobs FOR SELECT TO tenantscope_aggregates USING (true)",
        "CREATE POLICY aggregates_read ON app.export_schedules FOR SELECT TO tenantscope_aggregates USING (true)",
        "GRANT SELECT ON app.export_jobs, app.export_schedules TO tenantscope_aggregates",
        """
        CREATE FUNCTION app.pending_export_work()
        RETURNS TABLE (tenant_id uuid, runnable bigint, expiring bigint, due_schedules bigint)
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
          )
          SELECT coalesce(j.tenant_id, s.tenant_id), coalesce(j.runnable, 0), coalesce(j.expiring, 0), coalesce(s.due, 0)
          FROM jobs j FULL JOIN schedules s ON s.tenant_id = j.tenant_id
          WHERE coalesce(j.runnable, 0) + coalesce(j.expiring, 0) + coalesce(s.due, 0) > 0
        $$
        """,
        "REVOKE ALL ON FUNCTION app.pending_export_work() FROM PUBLIC",
        "GRANT EXECUTE ON FUNCTION app.pending_export_work() TO tenantscope_app",
        "GRANT EXECUTE ON FUNCTION app.export_schedule_slot(text, integer, integer, timestamptz) TO tenantscope_aggregates",
        "GRANT tenantscope_aggregates TO CURRENT_USER",
        "GRANT CREATE ON SCHEMA app TO tenantscope_aggregates",
        "ALTER FUNCTION app.pending_export_work() OWNER TO tenantscope_aggregates",
        "REVOKE CREATE ON SCHEMA app FROM tenantscope_aggregates",
        "REVOKE tenantscope_aggregates FROM CURRENT_USER",
    ])
}
