extension Migration {
    /// Batches with voiding statements take turns on the ids they name (architecture decision 99).
    ///
    /// Two batches whose voiding statements named each other (a voids b, b voids a), stored at the same moment, each
    /// looked at the other's uncommitted row, found no voiding statement there, and both were stored: xAPI forbids voiding
    /// a voiding statement. `app.lock_voiding_ids` takes, until the transaction ends, one lock per bucket of the ids a
    /// batch's voiding statements and their targets name, in bucket order, so the second batch waits for the first to
    /// commit, and its check, run after the lock, sees the first's row. Buckets (64 per tenant), not ids: a batch of 5,000
    /// voiding statements would otherwise take 10,000 locks and could fill the shared lock table. The tenant role may not
    /// take advisory locks itself (cluster hardening), hence a SECURITY DEFINER function keyed by the transaction's tenant.
    static let voidingTakesTurns = Migration(version: 54, name: "voiding takes turns", statements: [
        """
        CREATE FUNCTION app.lock_voiding_ids(ids uuid[]) RETURNS void
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
        AS $$
        DECLARE
          tenant uuid := app.current_tenant();
        BEGIN
          IF tenant IS NULL THEN
            RAISE EXCEPTION 'no tenant context';
          END IF;
          PERFORM pg_advisory_xact_lock(hashtextextended('tenantscope.void.' || tenant::text || '.' || b.bucket::text, 0))
          FROM (SELECT DISTINCT abs(hashtext(v.id::text) % 64) AS bucket FROM unnest(ids) AS v(id) WHERE v.id IS NOT NULL ORDER BY 1) b;
        END
        $$
        """,
        "REVOKE ALL ON FUNCTION app.lock_voiding_ids(uuid[]) FROM PUBLIC",
        "GRANT EXECUTE ON FUNCTION app.lock_voiding_ids(uuid[]) TO tenantscope_tenant",
    ])
}
