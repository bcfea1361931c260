extension Migration {
    /// Voiding that raced its target is applied by the next roll-up pass.
    ///
    /// A voiding statement marks its target voided when it is stored, and a statement stored after a voiding
    /// statement that names it is stored voided. Both look at committed rows only, so a target and its voiding
    /// statement stored by two transactions at the same time each missed the other, and the target stayed
    /// counted for good. Each catch-up pass now looks at the voiding statements stored since its watermark less
    /// the overlap (`RollupCoverage`: longer than any ingest transaction runs) and voids the targets they name that
    /// are not voided yet, with what voiding at ingest does: the learner days lose the statements, the actors are
    /// derived again in full. Outside the race nothing matches, and a partial index on the voiding statements by
    /// `stored` keeps the look a read of the few recent ones. Voiding at ingest and in the pass run one function.
    static let missedVoids = Migration(version: 33, name: "missed voids", statements: [
        "CREATE INDEX statements_tenant_voiding_stored ON app.statements (tenant_id, stored) WHERE voids IS NOT NULL",
        """
        CREATE FUNCTION app.void_statements(targets uuid[]) RETURNS integer
        LANGUAGE sql VOLATILE
        SET search_path = pg_catalog, pg_temp
        AS $$
          WITH voided AS (
            UPDATE app.statements SET voided = true
            WHERE id = ANY (targets) AND voids IS NULL AND NOT voided
            RETURNING actor_key, "timestamp"
          ), queued_days AS (
            INSERT INTO app.rollup_queue (day, actor_key, statements)
            SELECT ("timestamp" AT TIME ZONE 'UTC')::date, actor_key, -count(*) FROM voided GROUP BY 1, 2
          ), queued_actors AS (
            INSERT INTO app.learning_facts_queue (actor_key, full_derivation) SELECT DISTINCT actor_key, true FROM voided
          )
          SELECT count(*)::integer FROM voided
        $$
        """,
        "REVOKE ALL ON FUNCTION app.void_statements(uuid[]) FROM PUBLIC",
        "GRANT EXECUTE ON FUNCTION app.void_statements(uuid[]) TO tenantscope_tenant",
        """
        CREATE FUNCTION app.void_missed_targets(overlap interval) RETURNS integer
        LANGUAGE sql VOLATILE
        SET search_path = pg_catalog, pg_temp
        AS $$
          SELECT app.void_statements(ARRAY(
            SELECT v.voids FROM app.statements v
            WHERE v.voids IS NOT NULL
              AND v.stored > coalesce((SELECT r.stored_through FROM app.rollup_state r) - overlap, '-infinity')))
        $$
        """,
        "REVOKE ALL ON FUNCTION app.void_missed_targets(interval) FROM PUBLIC",
        "GRANT EXECUTE ON FUNCTION app.void_missed_targets(interval) TO tenantscope_tenant",
    ])
}
