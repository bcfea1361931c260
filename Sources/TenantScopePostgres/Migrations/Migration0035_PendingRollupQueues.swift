extension Migration {
    /// The roll-up service's look at the queues, one count per queue.
    ///
    /// `app.pending_rollup_work()` (migration 13) summed two different things into one count: actors to derive
    /// (`app.learning_facts_queue`, one row per actor and batch) and per-day counts to add to the roll-ups
    /// (`app.rollup_queue`, one row per actor, day and batch since migration 31), so the backlog gauge could
    /// not say which part of the service was behind. `app.pending_rollup_queues()` returns them apart. Like the
    /// old function it is owned by the aggregates role, which alone reads the queues across tenants, and returns
    /// tenant ids, counts and times, never a row's content. The old function stays for servers of the previous
    /// build that still run while an upgrade rolls out; this build no longer calls it.
    static let pendingRollupQueues = Migration(version: 35, name: "pending roll-up queues", statements: [
        """
        CREATE FUNCTION app.pending_rollup_queues()
        RETURNS TABLE (tenant_id uuid, queued_actors bigint, queued_days bigint, oldest timestamptz)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
        AS $$
          SELECT w.tenant_id, sum(w.actors)::bigint, sum(w.days)::bigint, min(w.oldest)
          FROM (SELECT q.tenant_id, count(*) AS actors, 0 AS days, min(q.queued_at) AS oldest FROM app.learning_facts_queue q GROUP BY 1
                UNION ALL
                SELECT q.tenant_id, 0, count(*), min(q.queued_at) FROM app.rollup_queue q GROUP BY 1) w
          GROUP BY w.tenant_id
        $$
        """,
        // Handing the function over needs membership in the role and its CREATE on the schema, as in migration 13.
        "GRANT tenantscope_aggregates TO CURRENT_USER",
        "GRANT CREATE ON SCHEMA app TO tenantscope_aggregates",
        "ALTER FUNCTION app.pending_rollup_queues() OWNER TO tenantscope_aggregates",
        "REVOKE CREATE ON SCHEMA app FROM tenantscope_aggregates",
        "REVOKE tenantscope_aggregates FROM CURRENT_USER",
        "REVOKE ALL ON FUNCTION app.pending_rollup_queues() FROM PUBLIC",
        "GRANT EXECUTE ON FUNCTION app.pending_rollup_queues() TO tenantscope_app",
    ])
}
