extension Migration {
    /// A tenant's catch-up takes the tenant's derivation lock before it reads anything (issue 16, architecture
    /// decision 83).
    ///
    /// `app.catch_up_queued` (migration 40) first looked for voids that raced their targets, reading
    /// `app.rollup_state` and `app.statements` and voiding what it found, and only then took the derivation lock (in
    /// `app.derive_queued_learning_facts`). A catch-up that waited for that lock (another server's pass, an erasure, a
    /// rebuild of the tenant) so held its locks on those tables for as long as it waited. Any statement that needs a
    /// stronger lock on them (a migration's `ALTER TABLE`) then queued behind it, and every other tenant's catch-up
    /// queued behind that: one waiting tenant held up all of them. And an erasure, which takes the lock first and then
    /// deletes the learner's statements, could deadlock with a catch-up that had voided one of them and waited for the
    /// lock. Taking the lock first leaves a waiting catch-up holding nothing but its place in the lock's queue. The
    /// lock is the same transaction-scoped advisory lock, which a transaction may take again (the derivation does).
    static let derivationLockFirst = Migration(version: 48, name: "derivation lock first", statements: [
        """
        CREATE OR REPLACE FUNCTION app.catch_up_queued(max_rows integer, overlap interval, first_chunk boolean, last_chunk boolean,
                                                       OUT derived integer, OUT days integer, OUT rollup_error text)
        LANGUAGE plpgsql SECURITY INVOKER
        SET search_path = pg_catalog, pg_temp
        SET plan_cache_mode = force_generic_plan
        AS $$
        DECLARE
          queued integer;
        BEGIN
          -- Everything this commits can be derived again from durable rows: the facts and roll-ups it writes and the
          -- queue rows it deletes commit together, so a commit a crash loses leaves the queue rows for the next pass
          -- (RollupService.catchUp). Transaction-local, so it ends with the pass's transaction. A `SET` command: the
          -- tenant role may not call set_config.
          SET LOCAL synchronous_commit TO off;
          -- Before any table is read: a catch-up that waits here holds no lock another statement could queue behind.
          PERFORM app.lock_tenant_derivation();
          IF first_chunk THEN
            -- Voiding that raced its target (migration 33): first, so this pass counts and derives it.
            PERFORM app.void_missed_targets(overlap);
          END IF;
          -- Actors, not rows: a batch queues its actors in one row (migration 36).
          SELECT coalesce(sum(coalesce(cardinality(q.actor_keys), 1)), 0)::integer INTO queued
          FROM (SELECT f.actor_keys FROM app.learning_facts_queue f LIMIT max_rows + 1) q;
          derived := app.derive_queued_learning_facts(max_rows);
          IF queued > max_rows AND NOT last_chunk THEN
            RETURN;
          END IF;
          BEGIN
            days := app.catch_up_rollups(overlap, false);
          EXCEPTION WHEN OTHERS OR query_canceled THEN
            -- Rolled back to the block's start: the chunk derived above still commits; the next pass tries again.
            rollup_error := SQLSTATE || ': ' || SQLERRM;
          END;
        END
        $$
        """,
    ])
}
