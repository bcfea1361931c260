extension Migration {
    /// The derivation queues take a batch's work as arrays: one row per batch and one per batch and day
    /// (issue 16, architecture decision 65).
    ///
    /// Ingest wrote a row to `app.learning_facts_queue` per actor of a batch and one to `app.rollup_queue` per
    /// actor and day: about two queue rows per statement for batches of spread-out learners. Each row paid a heap
    /// insert, its primary-key entry and, above all, the foreign-key trigger that checks `app.tenants` (one SPI
    /// query per row), about a quarter of the insert's time in PostgreSQL. Now a batch writes one row holding its
    /// actors (and each one's earliest `stored`), and one row per day holding that day's actors and counts.
    ///
    /// The single-row forms keep their meaning and stay valid: voiding still writes a row per actor (it is rare),
    /// learner erasure and the roll-up service write whole-day rows, and rows queued by the previous build are read
    /// as before. The consumers read both forms: they unnest the arrays into the rows they read until now, so the
    /// derivation and the catch-up below differ from migration 31's only in how they take the queue.
    ///
    /// A derivation chunk still counts actors, not rows: it takes rows in queue order until the actors before a
    /// row reach the chunk, so a chunk holds at most one batch more than it did.
    static let batchQueueRows = Migration(version: 36, name: "batch queue rows", statements: [
        "ALTER TABLE app.learning_facts_queue ALTER COLUMN actor_key DROP NOT NULL",
        "ALTER TABLE app.learning_facts_queue ADD COLUMN actor_keys text[], ADD COLUMN stored_froms timestamptz[]",
        // One actor, or a batch's actors (distinct, none NULL) with their starts; a full derivation names one actor.
        """
        ALTER TABLE app.learning_facts_queue ADD CONSTRAINT learning_facts_queue_one_form CHECK (
          (actor_key IS NOT NULL AND actor_keys IS NULL AND stored_froms IS NULL)
          OR (actor_key IS NULL AND actor_keys IS NOT NULL AND stored_froms IS NOT NULL AND NOT full_derivation
              AND cardinality(actor_keys) > 0 AND cardinality(stored_froms) = cardinality(actor_keys)
              AND array_position(actor_keys, NULL) IS NULL))
        """,
        "ALTER TABLE app.rollup_queue ADD COLUMN actor_keys text[], ADD COLUMN statement_counts integer[]",
        // A day's deltas of one batch: no single actor, no NULL, no zero (as migration 31's check for one row).
        """
        ALTER TABLE app.rollup_queue ADD CONSTRAINT rollup_queue_batch_check CHECK (
          (actor_keys IS NULL AND statement_counts IS NULL)
          OR (actor_keys IS NOT NULL AND statement_counts IS NOT NULL AND actor_key IS NULL AND statements IS NULL
              AND cardinality(actor_keys) > 0 AND cardinality(statement_counts) = cardinality(actor_keys)
              AND array_position(actor_keys, NULL) IS NULL AND array_position(statement_counts, NULL) IS NULL
              AND array_position(statement_counts, 0) IS NULL))
        """,

        // Migration 31's derivation, taking rows until their actors reach `max_rows` and reading both forms.
        """
        CREATE OR REPLACE FUNCTION app.derive_queued_learning_facts(max_rows integer) RETURNS integer
        LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, pg_temp
        AS $$
        DECLARE
          taken_full text[];
          taken_plain text[];
          plain_since timestamptz[];
          plain_look_back boolean[];
          full_keys text[];
          merge_keys text[];
          merge_since timestamptz[];
          merge_look_back boolean[];
        BEGIN
          PERFORM app.lock_tenant_derivation();
          WITH chosen AS (
            -- Every row holds at least one actor, so the first `max_rows` rows are all a chunk can take.
            SELECT w.seq FROM (
              SELECT o.seq, sum(coalesce(cardinality(o.actor_keys), 1)) OVER (ORDER BY o.seq) - coalesce(cardinality(o.actor_keys), 1) AS before
              FROM (SELECT f.seq, f.actor_keys FROM app.learning_facts_queue f ORDER BY f.seq LIMIT max_rows) o
            ) w
            WHERE w.before < max_rows
          ), taken AS (
            DELETE FROM app.learning_facts_queue q
            WHERE q.seq IN (SELECT c.seq FROM chosen c)
            RETURNING q.actor_key, q.actor_keys, q.full_derivation, q.stored_from, q.stored_froms
          ), entries AS (
            SELECT t.actor_key, t.full_derivation, t.stored_from FROM taken t WHERE t.actor_keys IS NULL
            UNION ALL
            SELECT u.actor_key, t.full_derivation, u.stored_from
            FROM taken t, unnest(t.actor_keys, t.stored_froms) AS u(actor_key, stored_from)
            WHERE t.actor_keys IS NOT NULL
          ), plain AS (
            -- An actor's new statements begin at the earliest `stored` of its rows; a row that does not say
            -- adds the look-back.
            SELECT e.actor_key, min(e.stored_from) AS since, bool_or(e.stored_from IS NULL) AS look_back
            FROM entries e WHERE NOT e.full_derivation GROUP BY e.actor_key
          )
          SELECT (SELECT array_agg(DISTINCT e.actor_key) FROM entries e WHERE e.full_derivation),
                 (SELECT array_agg(p.actor_key ORDER BY p.actor_key) FROM plain p),
                 (SELECT array_agg(p.since ORDER BY p.actor_key) FROM plain p),
                 (SELECT array_agg(p.look_back ORDER BY p.actor_key) FROM plain p)
          INTO taken_full, taken_plain, plain_since, plain_look_back;
          IF taken_full IS NULL AND taken_plain IS NULL THEN
            RETURN 0;
          END IF;
          full_keys := ARRAY(
            SELECT k FROM unnest(taken_full) k
            UNION
            SELECT k FROM unnest(taken_plain) k
            WHERE NOT EXISTS (SELECT 1 FROM app.learners l WHERE l.actor_key = k AND l.derived_through IS NOT NULL));
          merge_keys := ARRAY(SELECT p.k FROM unnest(taken_plain) AS p(k) WHERE p.k <> ALL (full_keys) ORDER BY p.k);
          merge_since := ARRAY(SELECT p.since FROM unnest(taken_plain, plain_since) AS p(k, since)
                               WHERE p.k <> ALL (full_keys) ORDER BY p.k);
          merge_look_back := ARRAY(SELECT p.look_back FROM unnest(taken_plain, plain_look_back) AS p(k, look_back)
                                   WHERE p.k <> ALL (full_keys) ORDER BY p.k);
          IF cardinality(full_keys) > 0 THEN
            PERFORM app.refresh_learning_facts_fully(full_keys);
          END IF;
          IF cardinality(merge_keys) > 0 THEN
            PERFORM app.merge_new_learning_facts(merge_keys, merge_since, merge_look_back, interval '2 hours');
          END IF;
          RETURN cardinality(full_keys) + cardinality(merge_keys);
        END
        $$
        """,

        // Migration 31's whole-day recount: a day's delta rows of either form are in its recount.
        """
        CREATE OR REPLACE FUNCTION app.refresh_learner_activity_days(days date[]) RETURNS void
        LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, pg_temp
        AS $$
        DECLARE
          one_day date;
          old_days date[];
          old_hashes text[];
          lost text[];
        BEGIN
          WITH gone AS (DELETE FROM app.daily_learner_activity a WHERE a.day = ANY (days) RETURNING a.day, a.learner_hash)
          SELECT array_agg(g.day), array_agg(g.learner_hash) INTO old_days, old_hashes FROM gone g;
          FOREACH one_day IN ARRAY days LOOP
            WITH counted_deltas AS (
              DELETE FROM app.rollup_queue q WHERE q.day = one_day AND (q.actor_key IS NOT NULL OR q.actor_keys IS NOT NULL))
            INSERT INTO app.daily_learner_activity (tenant_id, day, learner_hash, statements)
              SELECT (SELECT app.current_tenant()), one_day, coalesce(l.learner_key, app.learner_key(g.actor_key)), g.n
              FROM (SELECT s.actor_key, count(*) AS n
                    FROM app.statements s
                    WHERE s."timestamp" >= one_day::timestamp AT TIME ZONE 'UTC'
                      AND s."timestamp" < (one_day + 1)::timestamp AT TIME ZONE 'UTC'
                      AND NOT s.voided AND s.voids IS NULL
                    GROUP BY s.actor_key) g
              LEFT JOIN app.learners l ON l.actor_key = g.actor_key;
          END LOOP;

          DELETE FROM app.daily_active_learners WHERE day = ANY (days);
          INSERT INTO app.daily_active_learners (tenant_id, day, learners, statements)
            SELECT (SELECT app.current_tenant()), a.day, count(*), sum(a.statements) FROM app.daily_learner_activity a WHERE a.day = ANY (days) GROUP BY a.day;

          lost := ARRAY(SELECT DISTINCT o.learner_hash FROM unnest(old_days, old_hashes) AS o(day, learner_hash)
                        WHERE NOT EXISTS (SELECT 1 FROM app.daily_learner_activity a WHERE a.day = o.day AND a.learner_hash = o.learner_hash));
          IF cardinality(lost) > 0 THEN
            PERFORM app.rebuild_learner_active_days(lost);
          END IF;
          INSERT INTO app.learner_active_days AS d (tenant_id, learner_hash, active)
            SELECT (SELECT app.current_tenant()), a.learner_hash, range_agg(daterange(a.day, a.day, '[]'))
            FROM app.daily_learner_activity a
            WHERE a.day = ANY (days) AND NOT (a.learner_hash = ANY (lost))
              AND NOT EXISTS (SELECT 1 FROM unnest(old_days, old_hashes) AS o(day, learner_hash)
                              WHERE o.day = a.day AND o.learner_hash = a.learner_hash)
            GROUP BY a.learner_hash
          ON CONFLICT (tenant_id, learner_hash) DO UPDATE SET active = d.active + EXCLUDED.active;
        END
        $$
        """,

        // Migration 31's full recount, with the same rule for the delta rows of the days it recounts.
        """
        CREATE OR REPLACE FUNCTION app.rebuild_learner_activity_days(days date[]) RETURNS void
        LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, pg_temp
        AS $$
        DECLARE
          affected text[] := ARRAY(SELECT DISTINCT a.learner_hash FROM app.daily_learner_activity a WHERE a.day = ANY (days));
        BEGIN
          DELETE FROM app.daily_learner_activity WHERE day = ANY (days);
          WITH counted_deltas AS (
            DELETE FROM app.rollup_queue q WHERE q.day = ANY (days) AND (q.actor_key IS NOT NULL OR q.actor_keys IS NOT NULL))
          INSERT INTO app.daily_learner_activity (tenant_id, day, learner_hash, statements)
            SELECT (SELECT app.current_tenant()), g.day, coalesce(l.learner_key, app.learner_key(g.actor_key)), g.n
            FROM (SELECT (s."timestamp" AT TIME ZONE 'UTC')::date AS day, s.actor_key, count(*) AS n
                  FROM app.statements s
                  WHERE (s."timestamp" AT TIME ZONE 'UTC')::date = ANY (days) AND NOT s.voided AND s.voids IS NULL
                  GROUP BY 1, 2) g
            LEFT JOIN app.learners l ON l.actor_key = g.actor_key;

          DELETE FROM app.daily_active_learners WHERE day = ANY (days);
          INSERT INTO app.daily_active_learners (tenant_id, day, learners, statements)
            SELECT (SELECT app.current_tenant()), a.day, count(*), sum(a.statements) FROM app.daily_learner_activity a WHERE a.day = ANY (days) GROUP BY a.day;

          affected := ARRAY(SELECT unnest(affected) UNION
                            SELECT a.learner_hash FROM app.daily_learner_activity a WHERE a.day = ANY (days));
          PERFORM app.rebuild_learner_active_days(affected);
        END
        $$
        """,

        // Migration 31's catch-up, unnesting a batch's day rows into the per-actor deltas it summed until now.
        """
        CREATE OR REPLACE FUNCTION app.catch_up_rollups(overlap interval, full_rebuild boolean) RETURNS integer
        LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, pg_temp
        AS $$
        DECLARE
          newest timestamptz;
          queued app.learner_day_delta[];
          whole_days date[];
          days date[];
          watermark_missing boolean;
        BEGIN
          PERFORM app.lock_tenant_derivation();
          watermark_missing := NOT EXISTS (SELECT 1 FROM app.rollup_state);
          -- Summed per actor and day as they are taken: after a long backlog the queue holds rows of many batches.
          WITH taken AS (
            DELETE FROM app.rollup_queue q RETURNING q.day, q.actor_key, q.statements, q.actor_keys, q.statement_counts
          ), entries AS (
            SELECT t.day, t.actor_key, t.statements FROM taken t WHERE t.actor_keys IS NULL
            UNION ALL
            SELECT t.day, u.actor_key, u.statements
            FROM taken t, unnest(t.actor_keys, t.statement_counts) AS u(actor_key, statements)
            WHERE t.actor_keys IS NOT NULL
          )
          SELECT array_agg(ROW(g.day, g.actor_key, g.statements)::app.learner_day_delta) INTO queued
          FROM (SELECT e.day, e.actor_key, sum(e.statements)::integer AS statements FROM entries e GROUP BY e.day, e.actor_key) g;
          IF full_rebuild OR watermark_missing THEN
            days := ARRAY(SELECT DISTINCT day FROM app.daily_learner_activity
                          UNION SELECT DISTINCT (s."timestamp" AT TIME ZONE 'UTC')::date FROM app.statements s);
            PERFORM app.rebuild_learner_activity_days(days);
            PERFORM app.refresh_enrollment_outcomes();
          ELSIF queued IS NULL THEN
            RETURN -1;
          ELSE
            whole_days := ARRAY(SELECT DISTINCT q.day FROM unnest(queued) q WHERE q.actor_key IS NULL);
            IF cardinality(whole_days) > 0 THEN
              PERFORM app.refresh_learner_activity_days(whole_days);
            END IF;
            -- The deltas of a day recounted whole are in its recount.
            PERFORM app.apply_learner_day_deltas(ARRAY(
              SELECT ROW(q.day, q.actor_key, q.statements)::app.learner_day_delta FROM unnest(queued) q WHERE q.actor_key IS NOT NULL AND NOT (q.day = ANY (whole_days))));
            days := ARRAY(SELECT DISTINCT q.day FROM unnest(queued) q);
          END IF;
          IF full_rebuild THEN
            PERFORM app.refresh_daily_rollups_feature_usage();
          END IF;
          -- The watermark still bounds the raw tail that served "today" figures read (RollupCoverage).
          SELECT max(s.stored) INTO newest FROM app.statements s;
          INSERT INTO app.rollup_state (stored_through) VALUES (coalesce(newest, '-infinity'))
          ON CONFLICT (tenant_id) DO UPDATE SET stored_through = EXCLUDED.stored_through, refreshed_at = now();
          RETURN coalesce(array_length(days, 1), 0);
        END
        $$
        """,

        // Migration 35's counts, now of actors and of per-actor day counts however they are queued. Replacing the
        // function needs membership in its owner, as in migration 35.
        "GRANT tenantscope_aggregates TO CURRENT_USER",
        """
        CREATE OR REPLACE FUNCTION app.pending_rollup_queues()
        RETURNS TABLE (tenant_id uuid, queued_actors bigint, queued_days bigint, oldest timestamptz)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
        AS $$
          SELECT w.tenant_id, sum(w.actors)::bigint, sum(w.days)::bigint, min(w.oldest)
          FROM (SELECT q.tenant_id, sum(coalesce(cardinality(q.actor_keys), 1)) AS actors, 0 AS days, min(q.queued_at) AS oldest
                FROM app.learning_facts_queue q GROUP BY 1
                UNION ALL
                SELECT q.tenant_id, 0, sum(coalesce(cardinality(q.actor_keys), 1)), min(q.queued_at)
                FROM app.rollup_queue q GROUP BY 1) w
          GROUP BY w.tenant_id
        $$
        """,
        "REVOKE tenantscope_aggregates FROM CURRENT_USER",
    ])
}
