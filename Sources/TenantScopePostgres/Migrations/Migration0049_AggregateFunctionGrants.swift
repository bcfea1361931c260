extension Migration {
    /// The cross-tenant aggregate functions are executable by the roles they were written for only (architecture
    /// decision 89).
    ///
    /// Migrations 9, 13, 14 and 35 made them `SECURITY DEFINER`, handed them to `tenantscope_aggregates`, dropped their
    /// own membership in that role, and only then revoked `EXECUTE` from `PUBLIC` and granted it to the platform role
    /// or the server login. By then the migrating owner neither owned the functions nor could act for the role that
    /// did, so PostgreSQL skipped both with a warning: the functions kept `PUBLIC`'s `EXECUTE`, and the tenant role,
    /// which may use schema `app`, could call `app.platform_window_learners(30)` in any tenant transaction and read every
    /// tenant's learner and statement counts. No surface sends such SQL (the catalog's is fixed, the sandbox may not use
    /// `app`), but the database is the floor. The grants are made again, this time while the owner acts for the role;
    /// `app.pending_rollup_work()`, which nothing has called since migration 35, is dropped.
    static let aggregateFunctionGrants = Migration(version: 49, name: "aggregate function grants", statements: [
        "GRANT tenantscope_aggregates TO CURRENT_USER",
        """
        REVOKE ALL ON FUNCTION app.platform_learner_activity(integer), app.platform_window_learners(integer),
                               app.rollup_watermarks(), app.pending_rollup_queues() FROM PUBLIC
        """,
        "GRANT EXECUTE ON FUNCTION app.platform_learner_activity(integer), app.platform_window_learners(integer) TO tenantscope_platform",
        "GRANT EXECUTE ON FUNCTION app.rollup_watermarks(), app.pending_rollup_queues() TO tenantscope_app",
        "DROP FUNCTION app.pending_rollup_work()",
        "REVOKE tenantscope_aggregates FROM CURRENT_USER",
    ])
}
