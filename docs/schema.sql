-- TenantScope's schema as the migrations leave it (pg_dump --schema-only of a freshly migrated
-- database, comments and session settings removed). Generated: do not edit. A test fails when it
-- differs from the live schema; UPDATE_SCHEMA_SNAPSHOT=1 swift test --filter SchemaSnapshotTests
-- rewrites it. The migrations in Sources/TenantScopePostgres/Migrations are the source of truth.
CREATE SCHEMA app;

CREATE SCHEMA app_private;

CREATE SCHEMA gate;

CREATE SCHEMA semantic;

COMMENT ON SCHEMA semantic IS 'TenantScope semantic layer: one tenant''s learning data for ad-hoc SQL and AI agents';

CREATE TYPE app.course_title AS (
	course_iri text,
	title text,
	title_at timestamp with time zone,
	title_from uuid
);

CREATE TYPE app.day_total_delta AS (
	day date,
	learners integer,
	statements bigint
);

CREATE TYPE app.enrollment_merge AS (
	actor_key text,
	course_iri text,
	enrolled_at timestamp with time zone,
	completed_at timestamp with time zone,
	cohort text,
	cohort_at timestamp with time zone,
	cohort_from uuid,
	registration uuid,
	registration_at timestamp with time zone,
	registration_from uuid
);

CREATE TYPE app.enrollment_outcome AS (
	day date,
	course_id uuid,
	cohort text,
	region text,
	days_to_complete integer,
	enrollments integer
);

CREATE TYPE app.enrollment_outcome_change AS (
	tenant_id uuid,
	day date,
	course_id uuid,
	cohort text,
	region text,
	days_to_complete integer,
	enrollments integer
);

CREATE TYPE app.learner_day_change AS (
	day date,
	learner_hash text,
	before integer,
	after integer
);

CREATE TYPE app.learner_day_delta AS (
	day date,
	actor_key text,
	statements integer
);

CREATE TYPE app.statement_facts AS (
	actor_key text,
	course_iri text,
	"timestamp" timestamp with time zone,
	id uuid,
	stored timestamp with time zone,
	completes_course boolean,
	cohort text,
	registration uuid,
	actor_name text,
	learner_region text,
	counted boolean,
	course_title text
);

CREATE FUNCTION app.active_learner_totals(days integer) RETURNS TABLE(today_learners bigint, window_learners bigint)
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    SET plan_cache_mode TO 'force_generic_plan'
    AS $$
DECLARE
  first_day date := current_date - (days - 1);
  today record;
  checked text[];
BEGIN
  IF days IS NULL OR days < 1 THEN
    RAISE EXCEPTION 'the window must be at least one day' USING ERRCODE = '22023';
  END IF;
  SELECT * INTO today FROM app.learners_pending_today();
  -- Checked one by one: the pending learners, and learners whose last active day is after today.
  checked := ARRAY(SELECT k FROM unnest(today.pending) k
                   UNION
                   SELECT l.learner_hash FROM app.learner_active_days l WHERE l.last_day > current_date);
  RETURN QUERY
  WITH looked_up AS (
    SELECT c.learner_hash, d.last_day, d.active,
           EXISTS (SELECT 1 FROM app.daily_learner_activity a
                   WHERE a.day = current_date AND a.learner_hash = c.learner_hash) AS rolled_up_today
    FROM unnest(checked) c(learner_hash)
    -- OFFSET 0 keeps the lookup per learner: flattened into a join, the planner read all of the tenant's
    -- active days to hash a few dozen learners.
    LEFT JOIN LATERAL (SELECT l.last_day, l.active FROM app.learner_active_days l
                       WHERE l.learner_hash = c.learner_hash OFFSET 0) d ON true
  ), checked_learners AS MATERIALIZED (
    SELECT u.*, CASE WHEN u.learner_hash = ANY (today.pending) THEN u.learner_hash = ANY (today.active)
                     ELSE u.rolled_up_today END AS today
    FROM looked_up u
  )
  SELECT
    (coalesce((SELECT t.learners FROM app.daily_active_learners t WHERE t.day = current_date), 0)
      - (SELECT count(*) FROM checked_learners c WHERE c.rolled_up_today)
      + (SELECT count(*) FROM checked_learners c WHERE c.today))::bigint,
    ((SELECT coalesce(sum(n.learners), 0) FROM app.learners_by_last_day n WHERE n.last_day BETWEEN first_day AND current_date)
      - (SELECT count(*) FROM checked_learners c WHERE c.last_day BETWEEN first_day AND current_date)
      + (SELECT count(*) FROM checked_learners c
         WHERE c.today OR c.active && daterange(first_day, current_date, '[)')))::bigint;
END
$$;

CREATE FUNCTION app.active_learners_today(wanted_region text) RETURNS SETOF text
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    SET plan_cache_mode TO 'force_generic_plan'
    AS $$
DECLARE
  today record;
BEGIN
  SELECT * INTO today FROM app.learners_pending_today();
  RETURN QUERY
    SELECT a.learner_hash FROM app.daily_learner_activity a
    WHERE a.day = current_date
      AND a.learner_hash <> ALL (today.pending)
      AND (wanted_region IS NULL OR EXISTS (SELECT 1 FROM app.learners l
                                             WHERE l.learner_key = a.learner_hash AND l.region = wanted_region))
    UNION
    SELECT k.learner_hash FROM unnest(today.active) k(learner_hash)
    WHERE wanted_region IS NULL OR EXISTS (SELECT 1 FROM app.learners l
                                           WHERE l.learner_key = k.learner_hash AND l.region = wanted_region);
END
$$;

CREATE FUNCTION app.append_audit(p_actor text, p_actor_kind text, p_scope_tenant_id uuid, p_action text, p_report text, p_parameters jsonb, p_row_count bigint, p_outcome text) RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
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
$$;

CREATE FUNCTION app.append_signed_audit(p_principal text, p_scope_tenant_id uuid, p_action text, p_report text, p_parameters jsonb, p_row_count bigint, p_outcome text) RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
DECLARE
  parts text[] := string_to_array(p_principal, '.');
  mac_key bytea;
BEGIN
  IF coalesce(array_length(parts, 1), 0) <> 4 OR parts[1] !~ '^([0-9a-f][0-9a-f])+$' OR length(parts[1]) > 800
     OR parts[2] NOT IN ('tenant_user', 'platform_admin', 'operator', 'system') OR parts[3] !~ '^[0-9]{1,12}$' THEN
    RAISE EXCEPTION 'invalid audit principal' USING ERRCODE = '28000';
  END IF;
  SELECT decode(s.value, 'hex') INTO mac_key FROM app_private.settings s WHERE s.key = 'tenant_context_key';
  IF encode(app_private.hmac(convert_to('audit:' || parts[1] || '.' || parts[2] || '.' || parts[3], 'UTF8'), mac_key, 'sha256'), 'hex')
     IS DISTINCT FROM parts[4] THEN
    RAISE EXCEPTION 'invalid audit principal' USING ERRCODE = '28000';
  END IF;
  IF parts[3]::bigint < extract(epoch FROM now()) THEN
    RAISE EXCEPTION 'expired audit principal' USING ERRCODE = '28000';
  END IF;
  IF p_action IS NULL OR p_action !~ '^[a-z][a-z_]{0,63}$' OR p_outcome IS NULL OR length(p_outcome) > 64 THEN
    RAISE EXCEPTION 'invalid audit entry' USING ERRCODE = '22023';
  END IF;
  RETURN app.append_audit(convert_from(decode(parts[1], 'hex'), 'UTF8'), parts[2], p_scope_tenant_id, p_action,
                          p_report, p_parameters, p_row_count, p_outcome);
END
$_$;

CREATE FUNCTION app.append_signed_audit_batch(p_principals text[], p_scope_tenant_ids text[], p_actions text[], p_reports text[], p_parameters text[], p_row_counts text[], p_outcomes text[]) RETURNS bigint[]
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
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
$$;

CREATE FUNCTION app.apply_enrollment_outcome_changes(before app.enrollment_outcome[], after app.enrollment_outcome[]) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
  changes app.enrollment_outcome[] := ARRAY(
    SELECT ROW(c.day, c.course_id, c.cohort, c.region, c.days_to_complete, sum(c.enrollments))::app.enrollment_outcome
    FROM (SELECT b.day, b.course_id, b.cohort, b.region, b.days_to_complete, -b.enrollments AS enrollments FROM unnest(before) b
          UNION ALL
          SELECT a.day, a.course_id, a.cohort, a.region, a.days_to_complete, a.enrollments FROM unnest(after) a) c
    GROUP BY c.day, c.course_id, c.cohort, c.region, c.days_to_complete
    HAVING sum(c.enrollments) <> 0);
BEGIN
  IF cardinality(changes) = 0 THEN
    RETURN;
  END IF;
  DELETE FROM app.daily_enrollment_outcomes o USING unnest(changes) d
    WHERE d.enrollments < 0 AND o.day = d.day AND o.course_id = d.course_id AND o.cohort = d.cohort
      AND o.region IS NOT DISTINCT FROM d.region AND o.days_to_complete IS NOT DISTINCT FROM d.days_to_complete
      AND o.enrollments + d.enrollments <= 0;
  UPDATE app.daily_enrollment_outcomes o SET enrollments = o.enrollments + d.enrollments
    FROM unnest(changes) d
    WHERE d.enrollments < 0 AND o.day = d.day AND o.course_id = d.course_id AND o.cohort = d.cohort
      AND o.region IS NOT DISTINCT FROM d.region AND o.days_to_complete IS NOT DISTINCT FROM d.days_to_complete;
  INSERT INTO app.daily_enrollment_outcomes AS o (day, course_id, cohort, region, days_to_complete, enrollments)
    SELECT d.day, d.course_id, d.cohort, d.region, d.days_to_complete, d.enrollments FROM unnest(changes) d WHERE d.enrollments > 0
  ON CONFLICT (tenant_id, day, course_id, cohort, region, days_to_complete)
    DO UPDATE SET enrollments = o.enrollments + EXCLUDED.enrollments;
END
$$;

CREATE FUNCTION app.apply_enrollment_outcomes(keys text[], sign integer) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
  IF sign > 0 THEN
    INSERT INTO app.daily_enrollment_outcomes AS o (day, course_id, cohort, region, days_to_complete, enrollments)
      SELECT d.day, d.course_id, d.cohort, d.region, d.days_to_complete, d.enrollments
      FROM app.enrollment_outcomes_of(keys) d
    ON CONFLICT (tenant_id, day, course_id, cohort, region, days_to_complete)
      DO UPDATE SET enrollments = o.enrollments + EXCLUDED.enrollments;
  ELSE
    -- Rows that reach zero go first; the rest are decremented (the CHECK keeps counts positive).
    DELETE FROM app.daily_enrollment_outcomes o USING app.enrollment_outcomes_of(keys) d
      WHERE o.day = d.day AND o.course_id = d.course_id AND o.cohort = d.cohort
        AND o.region IS NOT DISTINCT FROM d.region AND o.days_to_complete IS NOT DISTINCT FROM d.days_to_complete
        AND o.enrollments <= d.enrollments;
    UPDATE app.daily_enrollment_outcomes o SET enrollments = o.enrollments - d.enrollments
      FROM app.enrollment_outcomes_of(keys) d
      WHERE o.day = d.day AND o.course_id = d.course_id AND o.cohort = d.cohort
        AND o.region IS NOT DISTINCT FROM d.region AND o.days_to_complete IS NOT DISTINCT FROM d.days_to_complete;
  END IF;
END
$$;

CREATE FUNCTION app.apply_learner_day_deltas(deltas app.learner_day_delta[]) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
  changes app.learner_day_change[];
  totals app.day_total_delta[];
  lost text[];
BEGIN
  -- Two steps: the learner keys first (`after` holds the delta until the stored count is known), so
  -- the stored rows are then looked up by plain values through the primary key. In one statement the
  -- key is an expression of the join and the planner filtered every learner day of the day instead.
  changes := ARRAY(
    SELECT ROW(d.day, coalesce(l.learner_key, app.learner_key(d.actor_key)), NULL, d.delta)::app.learner_day_change
    FROM (SELECT q.day, q.actor_key, sum(q.statements)::integer AS delta
          FROM unnest(deltas) q GROUP BY q.day, q.actor_key HAVING sum(q.statements) <> 0) d
    LEFT JOIN app.learners l ON l.actor_key = d.actor_key);
  changes := ARRAY(
    SELECT ROW(k.day, k.learner_hash, coalesce(a.statements, 0), coalesce(a.statements, 0) + k.after)::app.learner_day_change
    FROM unnest(changes) k
    LEFT JOIN app.daily_learner_activity a ON a.day = k.day AND a.learner_hash = k.learner_hash
    ORDER BY k.day, k.learner_hash);
  IF cardinality(changes) = 0 THEN
    RETURN;
  END IF;

  -- A count that reaches zero (or would go below it, which only a damaged queue could cause and a
  -- rebuild repairs) leaves the table, as a recount would leave it out.
  DELETE FROM app.daily_learner_activity a USING unnest(changes) c
    WHERE c.before > 0 AND c.after <= 0 AND a.day = c.day AND a.learner_hash = c.learner_hash;
  UPDATE app.daily_learner_activity a SET statements = c.after FROM unnest(changes) c
    WHERE c.before > 0 AND c.after > 0 AND a.day = c.day AND a.learner_hash = c.learner_hash;
  INSERT INTO app.daily_learner_activity (tenant_id, day, learner_hash, statements)
    SELECT (SELECT app.current_tenant()), c.day, c.learner_hash, c.after FROM unnest(changes) c WHERE c.before = 0 AND c.after > 0;

  -- Day totals: a learner day that appeared adds a learner, one that went takes one away. The totals
  -- have CHECKs (learners > 0), which PostgreSQL applies to a proposed row before ON CONFLICT, so
  -- existing days are updated or deleted and only new days inserted.
  totals := ARRAY(
    SELECT ROW(c.day, count(*) FILTER (WHERE c.before = 0 AND c.after > 0) - count(*) FILTER (WHERE c.before > 0 AND c.after <= 0),
               sum(greatest(c.after, 0) - c.before))::app.day_total_delta
    FROM unnest(changes) c GROUP BY c.day);
  DELETE FROM app.daily_active_learners d USING unnest(totals) t
    WHERE d.day = t.day AND d.learners + t.learners <= 0;
  UPDATE app.daily_active_learners d SET learners = d.learners + t.learners, statements = d.statements + t.statements
    FROM unnest(totals) t WHERE d.day = t.day;
  INSERT INTO app.daily_active_learners (tenant_id, day, learners, statements)
    SELECT (SELECT app.current_tenant()), t.day, t.learners, t.statements FROM unnest(totals) t
    WHERE t.learners > 0 AND NOT EXISTS (SELECT 1 FROM app.daily_active_learners d WHERE d.day = t.day);

  -- Active-day ranges: a learner that lost a day is rebuilt from its learner days; a new day is added.
  lost := ARRAY(SELECT DISTINCT c.learner_hash FROM unnest(changes) c WHERE c.before > 0 AND c.after <= 0);
  IF cardinality(lost) > 0 THEN
    PERFORM app.rebuild_learner_active_days(lost);
  END IF;
  INSERT INTO app.learner_active_days AS d (tenant_id, learner_hash, active)
    SELECT (SELECT app.current_tenant()), c.learner_hash, range_agg(daterange(c.day, c.day, '[]'))
    FROM unnest(changes) c
    WHERE c.before = 0 AND c.after > 0 AND NOT (c.learner_hash = ANY (lost))
    GROUP BY c.learner_hash
  ON CONFLICT (tenant_id, learner_hash) DO UPDATE SET active = d.active + EXCLUDED.active;
END
$$;

CREATE FUNCTION app.audit_head() RETURNS TABLE(seq bigint, hash text)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$ SELECT a.seq, a.hash FROM app.audit_log a ORDER BY a.seq DESC LIMIT 1 $$;

CREATE FUNCTION app.catch_up_queued(max_rows integer, overlap interval, first_chunk boolean, last_chunk boolean, OUT derived integer, OUT days integer, OUT rollup_error text) RETURNS record
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    SET plan_cache_mode TO 'force_generic_plan'
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
$$;

CREATE FUNCTION app.catch_up_rollups(overlap interval, full_rebuild boolean) RETURNS integer
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
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
$$;

CREATE FUNCTION app.context_tenant() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
  SELECT CASE WHEN pg_catalog.current_setting('app.tenant_ctx', true) OPERATOR(pg_catalog.~)
                     '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}[.]'
              THEN pg_catalog.left(pg_catalog.current_setting('app.tenant_ctx', true), 36)::pg_catalog.uuid END
$$;

CREATE FUNCTION app.count_learners_by_last_day() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
  gained_tenants uuid[] := '{}';
  gained_days date[] := '{}';
  lost_tenants uuid[] := '{}';
  lost_days date[] := '{}';
BEGIN
  -- Each event has only its own transition tables: an insert the added rows, a delete the removed ones, an
  -- update both.
  IF TG_OP <> 'DELETE' THEN
    SELECT coalesce(array_agg(a.tenant_id), '{}'), coalesce(array_agg(a.last_day), '{}')
    INTO gained_tenants, gained_days FROM added a;
  END IF;
  IF TG_OP <> 'INSERT' THEN
    SELECT coalesce(array_agg(r.tenant_id), '{}'), coalesce(array_agg(r.last_day), '{}')
    INTO lost_tenants, lost_days FROM removed r;
  END IF;
  -- Each day's difference: an update that keeps a learner's last day (a day added inside its range) changes
  -- none and is dropped by the HAVING. Sorted, so two transactions changing the same days lock them in one
  -- order. Rows of a tenant being deleted (a cascade from app.tenants) change nothing: their counts go with
  -- the tenant.
  INSERT INTO app.learners_by_last_day AS l (tenant_id, last_day, learners)
    SELECT c.tenant_id, c.last_day, sum(c.difference)::integer
    FROM (SELECT g.tenant_id, g.last_day, 1 AS difference FROM unnest(gained_tenants, gained_days) AS g(tenant_id, last_day)
          UNION ALL
          SELECT r.tenant_id, r.last_day, -1 FROM unnest(lost_tenants, lost_days) AS r(tenant_id, last_day)) c
    WHERE EXISTS (SELECT 1 FROM app.tenants t WHERE t.id = c.tenant_id)
    GROUP BY 1, 2
    HAVING sum(c.difference) <> 0
    ORDER BY 1, 2
  ON CONFLICT (tenant_id, last_day) DO UPDATE SET learners = l.learners + EXCLUDED.learners;
  -- Only a lost learner brings a count to zero.
  DELETE FROM app.learners_by_last_day l
    USING unnest(lost_tenants, lost_days) AS c(tenant_id, last_day)
    WHERE l.tenant_id = c.tenant_id AND l.last_day = c.last_day AND l.learners = 0;
  RETURN NULL;
END
$$;

CREATE FUNCTION app.course_titles_from_statements(actor_keys text[]) RETURNS SETOF app.course_title
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
  IF actor_keys IS NULL THEN
    -- Each course's first titled statement through the course index, one course at a time, as every pass read
    -- it before: a rebuild costs what it did.
    RETURN QUERY
      SELECT c.course_iri, t.course_title, t."timestamp", t.id
      FROM (SELECT DISTINCT s.course_iri FROM app.statements s
            WHERE s.course_iri IS NOT NULL AND NOT s.voided AND s.voids IS NULL) c
      LEFT JOIN LATERAL (
        SELECT s.course_title, s."timestamp", s.id FROM app.statements s
        WHERE s.course_iri = c.course_iri AND s.course_title IS NOT NULL AND NOT s.voided AND s.voids IS NULL
        ORDER BY s."timestamp", s.id
        LIMIT 1
      ) t ON true;
  ELSE
    RETURN QUERY
      SELECT a.course_iri,
             (array_agg(a.title ORDER BY a.title_at, a.title_from) FILTER (WHERE a.title IS NOT NULL))[1],
             (array_agg(a.title_at ORDER BY a.title_at, a.title_from) FILTER (WHERE a.title IS NOT NULL))[1],
             (array_agg(a.title_from ORDER BY a.title_at, a.title_from) FILTER (WHERE a.title IS NOT NULL))[1]
      FROM unnest(actor_keys) AS k(actor_key)
      CROSS JOIN LATERAL (
        SELECT s.course_iri,
               (array_agg(s.course_title ORDER BY s."timestamp", s.id) FILTER (WHERE s.course_title IS NOT NULL))[1] AS title,
               (array_agg(s."timestamp" ORDER BY s."timestamp", s.id) FILTER (WHERE s.course_title IS NOT NULL))[1] AS title_at,
               (array_agg(s.id ORDER BY s."timestamp", s.id) FILTER (WHERE s.course_title IS NOT NULL))[1] AS title_from
        FROM app.statements s
        WHERE s.actor_key = k.actor_key AND s.course_iri IS NOT NULL AND NOT s.voided AND s.voids IS NULL
        GROUP BY s.course_iri
      ) a
      GROUP BY a.course_iri;
  END IF;
END
$$;

CREATE FUNCTION app.credential_state(horizon interval) RETURNS TABLE(kind text, tenant_id uuid, value text, at timestamp with time zone)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
  SELECT 'tenant', t.id, t.cluster, t.created_at FROM app.tenants t
  UNION ALL
  SELECT 'revoked_token', NULL::uuid, r.jti, r.revoked_at FROM app_private.revoked_tokens r
  WHERE r.revoked_at > now() - horizon
  UNION ALL
  SELECT 'revoked_session', s.tenant_id, s.subject, s.revoked_at FROM app_private.revoked_sessions s
  WHERE s.revoked_at > now() - horizon
$$;

CREATE FUNCTION app.current_tenant() RETURNS uuid
    LANGUAGE plpgsql STABLE SECURITY DEFINER PARALLEL SAFE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
DECLARE
  ctx text := nullif(current_setting('app.tenant_ctx', true), '');
  parts text[];
  mac_key bytea;
BEGIN
  IF ctx IS NULL THEN
    RETURN NULL;
  END IF;
  parts := string_to_array(ctx, '.');
  IF coalesce(array_length(parts, 1), 0) <> 3 OR parts[2] !~ '^[0-9]{1,12}$' THEN
    RAISE EXCEPTION 'invalid tenant context';
  END IF;
  SELECT decode(s.value, 'hex') INTO mac_key FROM app_private.settings s WHERE s.key = 'tenant_context_key';
  IF encode(app_private.hmac(convert_to(parts[1] || '.' || parts[2], 'UTF8'), mac_key, 'sha256'), 'hex')
     IS DISTINCT FROM parts[3] THEN
    RAISE EXCEPTION 'invalid tenant context';
  END IF;
  IF parts[2]::bigint < extract(epoch FROM now()) THEN
    RAISE EXCEPTION 'expired tenant context';
  END IF;
  RETURN parts[1]::uuid;
END
$_$;

CREATE FUNCTION app.dedicated_clusters() RETURNS TABLE(name text, region text, host text, port integer, database text, tls text, app_password text)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
  SELECT c.name, c.region, c.host, c.port, c.database, c.tls, c.app_password
  FROM app_private.clusters c WHERE c.name <> 'pool' ORDER BY c.name
$$;

CREATE FUNCTION app.delete_tenant(p_slug text) RETURNS TABLE(id uuid, slug text, name text, tier text, region text, created_at timestamp with time zone)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
BEGIN
  IF p_slug IS NULL OR p_slug !~ '^[a-z][a-z0-9-]{0,61}[a-z0-9]$' THEN
    RAISE EXCEPTION 'invalid tenant slug' USING ERRCODE = '22023';
  END IF;
  RETURN QUERY DELETE FROM app.tenants t WHERE t.slug = p_slug
               RETURNING t.id, t.slug, t.name, t.tier, t.region, t.created_at;
END
$_$;

CREATE FUNCTION app.derive_queued_learning_facts(max_rows integer) RETURNS integer
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
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
  -- The plain actors that are not derived in full, in one pass that finds them by hashing (`<> ALL` compared
  -- every plain actor with every full one, three times over).
  SELECT coalesce(array_agg(p.k ORDER BY p.k), '{}'), coalesce(array_agg(p.since ORDER BY p.k), '{}'),
         coalesce(array_agg(p.look_back ORDER BY p.k), '{}')
  INTO merge_keys, merge_since, merge_look_back
  FROM unnest(taken_plain, plain_since, plain_look_back) AS p(k, since, look_back)
  WHERE NOT EXISTS (SELECT 1 FROM unnest(full_keys) AS f(k) WHERE f.k = p.k);
  IF cardinality(full_keys) > 0 THEN
    PERFORM app.refresh_learning_facts_fully(full_keys);
  END IF;
  IF cardinality(merge_keys) > 0 THEN
    PERFORM app.merge_new_learning_facts(merge_keys, merge_since, merge_look_back, interval '2 hours');
  END IF;
  RETURN cardinality(full_keys) + cardinality(merge_keys);
END
$$;

CREATE FUNCTION app.enrollment_outcomes_of(keys text[]) RETURNS TABLE(day date, course_id uuid, cohort text, region text, days_to_complete integer, enrollments integer)
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
  RETURN QUERY
  SELECT (e.enrolled_at AT TIME ZONE 'UTC')::date, e.course_id, e.cohort, l.region,
         floor(extract(epoch FROM e.completed_at - e.enrolled_at) / 86400)::int, count(*)::int
  FROM app.learners l JOIN app.enrollments e ON e.learner_id = l.id
  WHERE l.actor_key = ANY (keys)
  GROUP BY 1, 2, 3, 4, 5;
END
$$;

CREATE FUNCTION app.enrollments_from_statements(actor_keys text[]) RETURNS TABLE(actor_key text, course_iri text, enrolled_at timestamp with time zone, completed_at timestamp with time zone, cohort text, registration uuid)
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
  IF actor_keys IS NULL THEN
    RETURN QUERY
      SELECT s.actor_key, s.course_iri, min(s."timestamp"),
             min(s."timestamp") FILTER (WHERE s.completes_course),
             coalesce((array_agg(s.cohort ORDER BY s."timestamp", s.id) FILTER (WHERE s.cohort IS NOT NULL))[1],
                      to_char(min(s."timestamp") AT TIME ZONE 'UTC', 'YYYY-MM')),
             (array_agg(s.registration ORDER BY s."timestamp", s.id) FILTER (WHERE s.registration IS NOT NULL))[1]
      FROM app.statements s
      WHERE NOT s.voided AND s.voids IS NULL AND s.course_iri IS NOT NULL
      GROUP BY s.actor_key, s.course_iri;
  ELSE
    RETURN QUERY
      SELECT k.actor_key, a.course_iri, a.enrolled_at, a.completed_at, a.cohort, a.registration
      FROM unnest(actor_keys) AS k(actor_key)
      CROSS JOIN LATERAL (
        SELECT s.course_iri, min(s."timestamp") AS enrolled_at,
               min(s."timestamp") FILTER (WHERE s.completes_course) AS completed_at,
               coalesce((array_agg(s.cohort ORDER BY s."timestamp", s.id) FILTER (WHERE s.cohort IS NOT NULL))[1],
                        to_char(min(s."timestamp") AT TIME ZONE 'UTC', 'YYYY-MM')) AS cohort,
               (array_agg(s.registration ORDER BY s."timestamp", s.id) FILTER (WHERE s.registration IS NOT NULL))[1] AS registration
        FROM app.statements s
        WHERE s.actor_key = k.actor_key AND NOT s.voided AND s.voids IS NULL AND s.course_iri IS NOT NULL
        GROUP BY s.course_iri
      ) a;
  END IF;
END
$$;

CREATE FUNCTION app.export_schedule_slot(cadence text, hour integer, weekday integer, at timestamp with time zone) RETURNS timestamp with time zone
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path TO 'pg_catalog', 'pg_temp'
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
$$;

CREATE FUNCTION app.first_broken_audit_row() RETURNS bigint
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
  r app.audit_log;
  expected_previous text := repeat('0', 64);
BEGIN
  FOR r IN SELECT * FROM app.audit_log ORDER BY seq LOOP
    IF r.previous_hash IS DISTINCT FROM expected_previous
       OR r.hash IS DISTINCT FROM app_private.audit_row_hash(r.previous_hash, r.seq, r.occurred_at, r.actor,
            r.actor_kind, r.scope_tenant_id, r.action, r.report, r.parameters, r.row_count, r.outcome) THEN
      RETURN r.seq;
    END IF;
    expected_previous := r.hash;
  END LOOP;
  RETURN NULL;
END
$$;

CREATE FUNCTION app.learner_key(actor_key text) RETURNS text
    LANGUAGE sql STABLE SECURITY DEFINER PARALLEL SAFE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
  SELECT left(encode(app_private.hmac(convert_to(actor_key, 'UTF8'), k.secret, 'sha256'), 'hex'), 32)
  FROM app_private.learner_key_secrets k WHERE k.tenant_id = (SELECT app.current_tenant())
$$;

CREATE FUNCTION app.learners_from_statements(actor_keys text[]) RETURNS TABLE(actor_key text, display_name text, region text, first_seen timestamp with time zone, last_seen timestamp with time zone)
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
  IF actor_keys IS NULL THEN
    RETURN QUERY
      SELECT s.actor_key,
             (array_agg(s.actor_name ORDER BY s."timestamp", s.id) FILTER (WHERE s.actor_name IS NOT NULL))[1],
             (array_agg(s.learner_region ORDER BY s."timestamp", s.id) FILTER (WHERE s.learner_region IS NOT NULL))[1],
             min(s."timestamp"), max(s."timestamp")
      FROM app.statements s WHERE NOT s.voided AND s.voids IS NULL
      GROUP BY s.actor_key;
  ELSE
    RETURN QUERY
      SELECT k.actor_key, a.display_name, a.region, a.first_seen, a.last_seen
      FROM unnest(actor_keys) AS k(actor_key)
      CROSS JOIN LATERAL (
        SELECT (array_agg(s.actor_name ORDER BY s."timestamp", s.id) FILTER (WHERE s.actor_name IS NOT NULL))[1] AS display_name,
               (array_agg(s.learner_region ORDER BY s."timestamp", s.id) FILTER (WHERE s.learner_region IS NOT NULL))[1] AS region,
               min(s."timestamp") AS first_seen, max(s."timestamp") AS last_seen
        FROM app.statements s WHERE s.actor_key = k.actor_key AND NOT s.voided AND s.voids IS NULL
        HAVING count(*) > 0
      ) a;
  END IF;
END
$$;

CREATE FUNCTION app.learners_pending_today(OUT pending text[], OUT active text[]) RETURNS record
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    SET plan_cache_mode TO 'force_generic_plan'
    AS $$
DECLARE
  whole_day boolean;
BEGIN
  -- `pending`: the learners whose row of today the roll-ups may not hold yet; `active`: those of them active
  -- today. One statement, so the queue and the rolled-up rows it adds to are read at one snapshot.
  SELECT NOT EXISTS (SELECT 1 FROM app.rollup_state)
           OR EXISTS (SELECT 1 FROM app.rollup_queue q
                      WHERE q.day = current_date AND q.actor_key IS NULL AND q.actor_keys IS NULL),
         coalesce(array_agg(p.learner_hash), '{}'),
         coalesce(array_agg(p.learner_hash) FILTER (WHERE p.statements > 0), '{}')
  INTO whole_day, pending, active
  FROM (
    SELECT k.learner_hash, k.queued + coalesce((SELECT a.statements FROM app.daily_learner_activity a
                                                WHERE a.day = current_date AND a.learner_hash = k.learner_hash), 0)
           AS statements
    FROM (
      -- A derived learner's key is read from its row (the learners' trigger set it with app.learner_key);
      -- the HMAC is computed only for an actor not derived yet.
      SELECT coalesce((SELECT l.learner_key FROM app.learners l WHERE l.actor_key = g.actor_key),
                      app.learner_key(g.actor_key)) AS learner_hash, g.queued
      FROM (
        SELECT e.actor_key, sum(e.statements) AS queued
        FROM (SELECT q.actor_key, q.statements FROM app.rollup_queue q
              WHERE q.day = current_date AND q.actor_key IS NOT NULL
              UNION ALL
              SELECT u.actor_key, u.statements
              FROM app.rollup_queue q, unnest(q.actor_keys, q.statement_counts) AS u(actor_key, statements)
              WHERE q.day = current_date AND q.actor_keys IS NOT NULL) e
        GROUP BY e.actor_key) g) k) p;
  IF whole_day THEN
    -- Every learner of today is pending; the active ones are read from today's raw statements.
    active := ARRAY(
      SELECT coalesce(l.learner_key, app.learner_key(r.actor_key)) FROM (
        SELECT DISTINCT s.actor_key FROM app.statements s
        WHERE s."timestamp" >= current_date::timestamp AT TIME ZONE 'UTC'
          AND s."timestamp" < (current_date + 1)::timestamp AT TIME ZONE 'UTC'
          AND NOT s.voided AND s.voids IS NULL) r
        LEFT JOIN app.learners l ON l.actor_key = r.actor_key);
    pending := ARRAY(SELECT a.learner_hash FROM app.daily_learner_activity a WHERE a.day = current_date
                     UNION
                     SELECT k FROM unnest(active) k);
  END IF;
END
$$;

CREATE FUNCTION app.lock_export_claims() RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
  tenant uuid := app.current_tenant();
BEGIN
  IF tenant IS NULL THEN
    RAISE EXCEPTION 'no tenant context';
  END IF;
  PERFORM pg_advisory_xact_lock(hashtextextended('tenantscope.export_claim.' || tenant::text, 0));
END
$$;

CREATE FUNCTION app.lock_tenant_derivation() RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
  tenant uuid := app.current_tenant();
BEGIN
  IF tenant IS NULL THEN
    RAISE EXCEPTION 'no tenant context';
  END IF;
  PERFORM pg_advisory_xact_lock(hashtextextended('tenantscope.derive.' || tenant::text, 0));
END
$$;

CREATE FUNCTION app.lock_voiding_ids(ids uuid[]) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
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
$$;

CREATE FUNCTION app.lrs_credential_tenant(presented_key text, presented_secret_sha256 text) RETURNS uuid
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
  -- Parameter names differ from every column name: in SQL functions a column would win.
  SELECT c.tenant_id FROM app_private.lrs_credentials c
  WHERE c.key = presented_key AND c.revoked_at IS NULL AND c.secret_sha256 = lower(presented_secret_sha256)
$$;

CREATE FUNCTION app.merge_course_titles(candidates app.course_title[], checked text[], whole boolean) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
  INSERT INTO app.courses AS c (course_iri, title, title_at, title_from)
    SELECT n.course_iri, n.title, n.title_at, n.title_from FROM unnest(candidates) n
  ON CONFLICT (tenant_id, course_iri) DO UPDATE
    SET title = EXCLUDED.title, title_at = EXCLUDED.title_at, title_from = EXCLUDED.title_from
    WHERE whole
       OR (EXCLUDED.title_at IS NOT NULL
           AND (c.title IS NULL OR (c.title_at IS NOT NULL AND (EXCLUDED.title_at, EXCLUDED.title_from) < (c.title_at, c.title_from))));
  IF whole THEN
    RETURN;
  END IF;
  UPDATE app.courses c
  SET title = t.title, title_at = t.title_at, title_from = t.title_from
  FROM (
    SELECT k.id, f.title, f.title_at, f.title_from
    FROM app.courses k
    LEFT JOIN LATERAL (
      SELECT s.course_title AS title, s."timestamp" AS title_at, s.id AS title_from
      FROM app.statements s
      WHERE s.course_iri = k.course_iri AND s.course_title IS NOT NULL AND NOT s.voided AND s.voids IS NULL
      ORDER BY s."timestamp", s.id
      LIMIT 1
    ) f ON true
    WHERE k.course_iri = ANY (coalesce(checked, ARRAY(SELECT n.course_iri FROM unnest(candidates) n)))
      AND k.title IS NOT NULL
      AND (k.title_at IS NULL
           OR NOT EXISTS (SELECT 1 FROM app.statements s WHERE s.id = k.title_from AND NOT s.voided AND s.voids IS NULL))
  ) t
  WHERE c.id = t.id;
END
$$;

CREATE FUNCTION app.merge_new_learning_facts(keys text[], since timestamp with time zone[], look_back boolean[], overlap interval) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
  merged_actors text[];
  read_since timestamptz[];
  fresh app.statement_facts[];
  candidates app.enrollment_merge[];
  changing app.enrollment_merge[];
  region_actors text[];
  outcomes_before app.enrollment_outcome[];
  changed_after app.enrollment_outcome[];
BEGIN
  -- Where each actor's new statements begin: the earliest `stored` its queue rows name, and, when one of
  -- its rows names none (`look_back`), no later than its `derived_through` minus the overlap.
  SELECT array_agg(l.actor_key),
         array_agg(CASE WHEN k.look_back THEN least(k.since, l.derived_through - overlap) ELSE k.since END)
  INTO merged_actors, read_since
  FROM unnest(keys, since, look_back) AS k(actor_key, since, look_back) JOIN app.learners l ON l.actor_key = k.actor_key;
  fresh := ARRAY(
    SELECT ROW(s.actor_key, s.course_iri, s."timestamp", s.id, s.stored, s.completes_course, s.cohort, s.registration,
               s.actor_name, s.learner_region, NOT s.voided AND s.voids IS NULL, s.course_title)::app.statement_facts
    FROM unnest(merged_actors, read_since) AS u(actor_key, since)
    JOIN app.statements s ON s.actor_key = u.actor_key AND s.stored >= u.since);
  -- Each course's earliest counted statement with a title among the new ones, merged against the one its
  -- title came from (migration 38), instead of reading all of the course's statements again.
  -- One sort: a course's titled statements first, earliest first; a course with none gets no title.
  PERFORM app.merge_course_titles(ARRAY(
    SELECT DISTINCT ON (s.course_iri)
           ROW(s.course_iri, s.course_title,
               CASE WHEN s.course_title IS NOT NULL THEN s."timestamp" END,
               CASE WHEN s.course_title IS NOT NULL THEN s.id END)::app.course_title
    FROM unnest(fresh) s
    WHERE s.counted AND s.course_iri IS NOT NULL
    ORDER BY s.course_iri, s.course_title IS NULL, s."timestamp", s.id), NULL, false);

  -- The actors whose region the new statements move (an earlier statement with a region): every outcome
  -- row of theirs changes with it, so theirs are read whole, before the writes and after.
  region_actors := ARRAY(
    SELECT r.actor_key
    FROM (SELECT s.actor_key,
                 (array_agg(s."timestamp" ORDER BY s."timestamp", s.id) FILTER (WHERE s.learner_region IS NOT NULL AND s.counted))[1] AS region_at,
                 (array_agg(s.id ORDER BY s."timestamp", s.id) FILTER (WHERE s.learner_region IS NOT NULL AND s.counted))[1] AS region_from
          FROM unnest(fresh) s GROUP BY s.actor_key) r
    JOIN app.learners l ON l.actor_key = r.actor_key
    WHERE r.region_at IS NOT NULL AND (l.region_at IS NULL OR (r.region_at, r.region_from) < (l.region_at, l.region_from)));
  outcomes_before := ARRAY(SELECT ROW(o.*)::app.enrollment_outcome FROM app.enrollment_outcomes_of(region_actors) o);

  -- The enrollments the new statements would change (new ones, or an earliest value that moves: the
  -- upsert's WHERE below). Most touched enrollments change nothing, so the upsert (which locks every row
  -- it finds, changed or not) does not visit them. The same join reads the outcome row each changing
  -- enrollment holds now (one enrollment each), for the learners whose region stays.
  candidates := ARRAY(
    SELECT ROW(n.*)::app.enrollment_merge FROM (
        SELECT s.actor_key, s.course_iri, min(s."timestamp") AS enrolled_at,
               min(s."timestamp") FILTER (WHERE s.completes_course) AS completed_at,
               (array_agg(s.cohort ORDER BY s."timestamp", s.id) FILTER (WHERE s.cohort IS NOT NULL))[1] AS cohort,
               (array_agg(s."timestamp" ORDER BY s."timestamp", s.id) FILTER (WHERE s.cohort IS NOT NULL))[1] AS cohort_at,
               (array_agg(s.id ORDER BY s."timestamp", s.id) FILTER (WHERE s.cohort IS NOT NULL))[1] AS cohort_from,
               (array_agg(s.registration ORDER BY s."timestamp", s.id) FILTER (WHERE s.registration IS NOT NULL))[1] AS registration,
               (array_agg(s."timestamp" ORDER BY s."timestamp", s.id) FILTER (WHERE s.registration IS NOT NULL))[1] AS registration_at,
               (array_agg(s.id ORDER BY s."timestamp", s.id) FILTER (WHERE s.registration IS NOT NULL))[1] AS registration_from
        FROM unnest(fresh) s
        WHERE s.counted AND s.course_iri IS NOT NULL
        GROUP BY s.actor_key, s.course_iri
    ) n);
  SELECT coalesce(array_agg(ROW(n.*)::app.enrollment_merge), '{}'),
         outcomes_before || coalesce(array_agg(
           ROW((e.enrolled_at AT TIME ZONE 'UTC')::date, e.course_id, e.cohort, l.region,
               floor(extract(epoch FROM e.completed_at - e.enrolled_at) / 86400)::int, 1)::app.enrollment_outcome)
           FILTER (WHERE e.learner_id IS NOT NULL AND r.actor_key IS NULL), '{}')
  INTO changing, outcomes_before
  FROM unnest(candidates) n
  JOIN app.learners l ON l.actor_key = n.actor_key
  JOIN app.courses c ON c.course_iri = n.course_iri
  -- As in record_derivation_provenance: found by learner, never by scanning a course's enrollments per row.
  LEFT JOIN app.enrollments e ON e.learner_id = l.id AND e.course_id IS NOT DISTINCT FROM c.id
  LEFT JOIN unnest(region_actors) AS r(actor_key) ON r.actor_key = n.actor_key
  WHERE e.learner_id IS NULL
     OR n.enrolled_at < e.enrolled_at
     OR (n.completed_at IS NOT NULL AND (e.completed_at IS NULL OR n.completed_at < e.completed_at))
     OR (n.cohort_at IS NOT NULL AND (e.cohort_at IS NULL OR (n.cohort_at, n.cohort_from) < (e.cohort_at, e.cohort_from)))
     OR (n.registration_at IS NOT NULL
         AND (e.registration_at IS NULL OR (n.registration_at, n.registration_from) < (e.registration_at, e.registration_from)));

  -- The upsert returns each enrollment it writes as it now is: its outcome row, for the learners whose
  -- region stays, is the other half of the difference.
  WITH written AS (
    INSERT INTO app.enrollments AS e (learner_id, course_id, enrolled_at, completed_at, cohort, registration,
                                      cohort_at, cohort_from, registration_at, registration_from)
      SELECT l.id, c.id, n.enrolled_at, n.completed_at,
             coalesce(n.cohort, to_char(n.enrolled_at AT TIME ZONE 'UTC', 'YYYY-MM')), n.registration,
             n.cohort_at, n.cohort_from, n.registration_at, n.registration_from
      FROM unnest(changing) n
      JOIN app.learners l ON l.actor_key = n.actor_key
      JOIN app.courses c ON c.course_iri = n.course_iri
    ON CONFLICT (tenant_id, learner_id, course_id) DO UPDATE SET
      enrolled_at = least(e.enrolled_at, EXCLUDED.enrolled_at),
      completed_at = least(e.completed_at, EXCLUDED.completed_at),
      cohort = CASE
        WHEN EXCLUDED.cohort_at IS NOT NULL AND (e.cohort_at IS NULL OR (EXCLUDED.cohort_at, EXCLUDED.cohort_from) < (e.cohort_at, e.cohort_from))
          THEN EXCLUDED.cohort
        WHEN e.cohort_at IS NULL THEN to_char(least(e.enrolled_at, EXCLUDED.enrolled_at) AT TIME ZONE 'UTC', 'YYYY-MM')
        ELSE e.cohort END,
      cohort_from = CASE
        WHEN EXCLUDED.cohort_at IS NOT NULL AND (e.cohort_at IS NULL OR (EXCLUDED.cohort_at, EXCLUDED.cohort_from) < (e.cohort_at, e.cohort_from))
          THEN EXCLUDED.cohort_from ELSE e.cohort_from END,
      cohort_at = CASE
        WHEN EXCLUDED.cohort_at IS NOT NULL AND (e.cohort_at IS NULL OR (EXCLUDED.cohort_at, EXCLUDED.cohort_from) < (e.cohort_at, e.cohort_from))
          THEN EXCLUDED.cohort_at ELSE e.cohort_at END,
      registration = CASE
        WHEN EXCLUDED.registration_at IS NOT NULL
             AND (e.registration_at IS NULL OR (EXCLUDED.registration_at, EXCLUDED.registration_from) < (e.registration_at, e.registration_from))
          THEN EXCLUDED.registration ELSE e.registration END,
      registration_from = CASE
        WHEN EXCLUDED.registration_at IS NOT NULL
             AND (e.registration_at IS NULL OR (EXCLUDED.registration_at, EXCLUDED.registration_from) < (e.registration_at, e.registration_from))
          THEN EXCLUDED.registration_from ELSE e.registration_from END,
      registration_at = CASE
        WHEN EXCLUDED.registration_at IS NOT NULL
             AND (e.registration_at IS NULL OR (EXCLUDED.registration_at, EXCLUDED.registration_from) < (e.registration_at, e.registration_from))
          THEN EXCLUDED.registration_at ELSE e.registration_at END
      -- Most touched enrollments gain nothing (a later statement changes no earliest value): those are not rewritten.
      WHERE EXCLUDED.enrolled_at < e.enrolled_at
         OR (EXCLUDED.completed_at IS NOT NULL AND (e.completed_at IS NULL OR EXCLUDED.completed_at < e.completed_at))
         OR (EXCLUDED.cohort_at IS NOT NULL AND (e.cohort_at IS NULL OR (EXCLUDED.cohort_at, EXCLUDED.cohort_from) < (e.cohort_at, e.cohort_from)))
         OR (EXCLUDED.registration_at IS NOT NULL
             AND (e.registration_at IS NULL OR (EXCLUDED.registration_at, EXCLUDED.registration_from) < (e.registration_at, e.registration_from)))
    RETURNING e.learner_id, e.course_id, e.enrolled_at, e.completed_at, e.cohort
  )
  SELECT coalesce(array_agg(
           ROW((w.enrolled_at AT TIME ZONE 'UTC')::date, w.course_id, w.cohort, l.region,
               floor(extract(epoch FROM w.completed_at - w.enrolled_at) / 86400)::int, 1)::app.enrollment_outcome), '{}')
  INTO changed_after
  FROM written w
  JOIN app.learners l ON l.id = w.learner_id
  LEFT JOIN unnest(region_actors) AS r(actor_key) ON r.actor_key = l.actor_key
  WHERE r.actor_key IS NULL;

  UPDATE app.learners l
  SET first_seen = least(l.first_seen, n.first_seen), last_seen = greatest(l.last_seen, n.last_seen),
      derived_through = greatest(l.derived_through, n.newest_stored),
      display_name = CASE WHEN n.name_at IS NOT NULL AND (l.name_at IS NULL OR (n.name_at, n.name_from) < (l.name_at, l.name_from))
                          THEN n.display_name ELSE l.display_name END,
      name_from = CASE WHEN n.name_at IS NOT NULL AND (l.name_at IS NULL OR (n.name_at, n.name_from) < (l.name_at, l.name_from))
                       THEN n.name_from ELSE l.name_from END,
      name_at = CASE WHEN n.name_at IS NOT NULL AND (l.name_at IS NULL OR (n.name_at, n.name_from) < (l.name_at, l.name_from))
                     THEN n.name_at ELSE l.name_at END,
      region = CASE WHEN n.region_at IS NOT NULL AND (l.region_at IS NULL OR (n.region_at, n.region_from) < (l.region_at, l.region_from))
                    THEN n.region ELSE l.region END,
      region_from = CASE WHEN n.region_at IS NOT NULL AND (l.region_at IS NULL OR (n.region_at, n.region_from) < (l.region_at, l.region_from))
                         THEN n.region_from ELSE l.region_from END,
      region_at = CASE WHEN n.region_at IS NOT NULL AND (l.region_at IS NULL OR (n.region_at, n.region_from) < (l.region_at, l.region_from))
                       THEN n.region_at ELSE l.region_at END
  FROM (
    SELECT s.actor_key, max(s.stored) AS newest_stored,
           min(s."timestamp") FILTER (WHERE s.counted) AS first_seen,
           max(s."timestamp") FILTER (WHERE s.counted) AS last_seen,
           (array_agg(s.actor_name ORDER BY s."timestamp", s.id) FILTER (WHERE s.actor_name IS NOT NULL AND s.counted))[1] AS display_name,
           (array_agg(s."timestamp" ORDER BY s."timestamp", s.id) FILTER (WHERE s.actor_name IS NOT NULL AND s.counted))[1] AS name_at,
           (array_agg(s.id ORDER BY s."timestamp", s.id) FILTER (WHERE s.actor_name IS NOT NULL AND s.counted))[1] AS name_from,
           (array_agg(s.learner_region ORDER BY s."timestamp", s.id) FILTER (WHERE s.learner_region IS NOT NULL AND s.counted))[1] AS region,
           (array_agg(s."timestamp" ORDER BY s."timestamp", s.id) FILTER (WHERE s.learner_region IS NOT NULL AND s.counted))[1] AS region_at,
           (array_agg(s.id ORDER BY s."timestamp", s.id) FILTER (WHERE s.learner_region IS NOT NULL AND s.counted))[1] AS region_from
    FROM unnest(fresh) s GROUP BY s.actor_key
  ) n
  WHERE l.actor_key = n.actor_key;

  -- One row per changed enrollment on either side (and the region movers' rows, grouped): the function
  -- sums equal keys before it writes.
  PERFORM app.apply_enrollment_outcome_changes(outcomes_before,
    changed_after || ARRAY(SELECT ROW(o.*)::app.enrollment_outcome FROM app.enrollment_outcomes_of(region_actors) o));
END
$$;

CREATE FUNCTION app.pending_export_work() RETURNS TABLE(tenant_id uuid, runnable bigint, expiring bigint, due_schedules bigint, removals bigint)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
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
$$;

CREATE FUNCTION app.pending_rollup_queues() RETURNS TABLE(tenant_id uuid, queued_actors bigint, queued_days bigint, oldest timestamp with time zone)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
  SELECT w.tenant_id, sum(w.actors)::bigint, sum(w.days)::bigint, min(w.oldest)
  FROM (SELECT q.tenant_id, sum(coalesce(cardinality(q.actor_keys), 1)) AS actors, 0 AS days, min(q.queued_at) AS oldest
        FROM app.learning_facts_queue q GROUP BY 1
        UNION ALL
        SELECT q.tenant_id, 0, sum(coalesce(cardinality(q.actor_keys), 1)), min(q.queued_at)
        FROM app.rollup_queue q GROUP BY 1) w
  GROUP BY w.tenant_id
$$;

CREATE FUNCTION app.platform_learner_activity(window_days integer) RETURNS TABLE(tenant_id uuid, active_learners bigint, statements bigint)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
  SELECT a.tenant_id, count(DISTINCT a.learner_hash), sum(a.statements)::bigint
  FROM app.daily_learner_activity a
  WHERE window_days BETWEEN 1 AND 3660 AND a.day >= current_date - (window_days - 1)
  GROUP BY a.tenant_id
$$;

CREATE FUNCTION app.platform_window_learners(window_days integer) RETURNS TABLE(tenant_id uuid, window_active_learners bigint)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
  SELECT x.tenant_id, sum(x.learners)::bigint
  FROM (
    SELECT l.tenant_id, count(*) AS learners
    FROM app.learner_active_days l
    WHERE window_days BETWEEN 1 AND 3660 AND l.last_day BETWEEN current_date - (window_days - 1) AND current_date
    GROUP BY l.tenant_id
    UNION ALL
    SELECT l.tenant_id, count(*)
    FROM app.learner_active_days l
    WHERE window_days BETWEEN 1 AND 3660 AND l.last_day > current_date
      AND l.active && daterange(current_date - (window_days - 1), current_date, '[]')
    GROUP BY l.tenant_id
  ) x
  GROUP BY x.tenant_id
$$;

CREATE FUNCTION app.rebuild_learner_active_days(hashes text[]) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
  DELETE FROM app.learner_active_days WHERE learner_hash = ANY (hashes);
  INSERT INTO app.learner_active_days (tenant_id, learner_hash, active)
    SELECT (SELECT app.current_tenant()), a.learner_hash, range_agg(daterange(a.day, a.day, '[]'))
    FROM app.daily_learner_activity a WHERE a.learner_hash = ANY (hashes)
    GROUP BY a.learner_hash;
END
$$;

CREATE FUNCTION app.rebuild_learner_activity_days(days date[]) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
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
$$;

CREATE FUNCTION app.record_derivation_provenance(keys text[]) RETURNS void
    LANGUAGE sql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
  UPDATE app.learners l
  SET derived_through = p.derived_through, name_at = p.name_at, name_from = p.name_from,
      region_at = p.region_at, region_from = p.region_from
  FROM (
    SELECT k.actor_key, a.*
    FROM unnest(keys) AS k(actor_key)
    CROSS JOIN LATERAL (
      SELECT max(s.stored) AS derived_through,
             (array_agg(s."timestamp" ORDER BY s."timestamp", s.id) FILTER (WHERE s.actor_name IS NOT NULL AND NOT s.voided AND s.voids IS NULL))[1] AS name_at,
             (array_agg(s.id ORDER BY s."timestamp", s.id) FILTER (WHERE s.actor_name IS NOT NULL AND NOT s.voided AND s.voids IS NULL))[1] AS name_from,
             (array_agg(s."timestamp" ORDER BY s."timestamp", s.id) FILTER (WHERE s.learner_region IS NOT NULL AND NOT s.voided AND s.voids IS NULL))[1] AS region_at,
             (array_agg(s.id ORDER BY s."timestamp", s.id) FILTER (WHERE s.learner_region IS NOT NULL AND NOT s.voided AND s.voids IS NULL))[1] AS region_from
      FROM app.statements s
      WHERE s.actor_key = k.actor_key
      HAVING count(*) > 0
    ) a
  ) p
  WHERE l.actor_key = p.actor_key;
  -- Each actor's statements are aggregated once, before any enrollment is joined: planned as one join, the
  -- aggregate ran again for every enrollment of the actor (13,502 times for 2,529 actors in a first catch-up).
  WITH p AS MATERIALIZED (
    SELECT l.id AS learner_id, c.id AS course_id, a.cohort_at, a.cohort_from, a.registration_at, a.registration_from
    FROM unnest(keys) AS k(actor_key)
    JOIN app.learners l ON l.actor_key = k.actor_key
    CROSS JOIN LATERAL (
      SELECT s.course_iri,
             (array_agg(s."timestamp" ORDER BY s."timestamp", s.id) FILTER (WHERE s.cohort IS NOT NULL))[1] AS cohort_at,
             (array_agg(s.id ORDER BY s."timestamp", s.id) FILTER (WHERE s.cohort IS NOT NULL))[1] AS cohort_from,
             (array_agg(s."timestamp" ORDER BY s."timestamp", s.id) FILTER (WHERE s.registration IS NOT NULL))[1] AS registration_at,
             (array_agg(s.id ORDER BY s."timestamp", s.id) FILTER (WHERE s.registration IS NOT NULL))[1] AS registration_from
      FROM app.statements s
      WHERE s.actor_key = k.actor_key AND s.course_iri IS NOT NULL AND NOT s.voided AND s.voids IS NULL
      GROUP BY s.course_iri
    ) a
    JOIN app.courses c ON c.course_iri = a.course_iri
  )
  UPDATE app.enrollments e
  SET cohort_at = p.cohort_at, cohort_from = p.cohort_from, registration_at = p.registration_at, registration_from = p.registration_from
  FROM p
  -- The course compared so that no index can take it (migration 37): an enrollment is found by its learner.
  WHERE e.learner_id = p.learner_id AND e.course_id IS NOT DISTINCT FROM p.course_id;
$$;

CREATE FUNCTION app.refresh_daily_rollups_feature_usage() RETURNS void
    LANGUAGE sql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
  DELETE FROM app.daily_feature_usage;
  INSERT INTO app.daily_feature_usage (day, feature_key, events, actors)
    SELECT (occurred_at AT TIME ZONE 'UTC')::date, feature_key, count(*), count(DISTINCT actor)
    FROM app.feature_events GROUP BY 1, 2;
$$;

CREATE FUNCTION app.refresh_enrollment_outcomes() RETURNS void
    LANGUAGE sql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
  DELETE FROM app.daily_enrollment_outcomes;
  INSERT INTO app.daily_enrollment_outcomes (day, course_id, cohort, region, days_to_complete, enrollments)
    SELECT (e.enrolled_at AT TIME ZONE 'UTC')::date, e.course_id, e.cohort, l.region,
           floor(extract(epoch FROM e.completed_at - e.enrolled_at) / 86400)::int, count(*)
    FROM app.enrollments e JOIN app.learners l ON l.id = e.learner_id
    GROUP BY 1, 2, 3, 4, 5;
$$;

CREATE FUNCTION app.refresh_feature_usage_for_days(days date[]) RETURNS void
    LANGUAGE sql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
  DELETE FROM app.daily_feature_usage WHERE day = ANY (days);
  INSERT INTO app.daily_feature_usage (day, feature_key, events, actors)
    SELECT d.day, e.feature_key, count(*), count(DISTINCT e.actor)
    FROM unnest(days) AS d(day)
    JOIN app.feature_events e ON e.occurred_at >= d.day::timestamp AT TIME ZONE 'UTC'
                             AND e.occurred_at < (d.day + 1)::timestamp AT TIME ZONE 'UTC'
    GROUP BY 1, 2;
$$;

CREATE FUNCTION app.refresh_learner_activity_days(days date[]) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
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
$$;

CREATE FUNCTION app.refresh_learning_facts(actor_keys text[]) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
  -- NULL means every actor: those with statements and those with a learner row left behind.
  keys text[] := coalesce(actor_keys, ARRAY(SELECT s.actor_key FROM app.statements s UNION SELECT l.actor_key FROM app.learners l));
  affected_courses text[];
  titles app.course_title[];
BEGIN
  -- The actors' statements are found actor by actor, through the actor index, whatever the planner's estimates
  -- (a rebuild reads them all): read as `actor_key = ANY (keys)`, each of these read every statement of the
  -- tenant, so deriving a few new learners cost the tenant's whole history.
  IF actor_keys IS NULL THEN
    affected_courses := ARRAY(SELECT DISTINCT s.course_iri FROM app.statements s WHERE s.course_iri IS NOT NULL);
  ELSE
    affected_courses := ARRAY(
      SELECT DISTINCT a.course_iri
      FROM unnest(actor_keys) AS k(actor_key)
      CROSS JOIN LATERAL (SELECT DISTINCT s.course_iri FROM app.statements s
                          WHERE s.actor_key = k.actor_key AND s.course_iri IS NOT NULL) a);
    PERFORM app.apply_enrollment_outcomes(keys, -1);
  END IF;
  INSERT INTO app.learners (actor_key, display_name, region, first_seen, last_seen)
    SELECT f.actor_key, f.display_name, f.region, f.first_seen, f.last_seen FROM app.learners_from_statements(actor_keys) f
  ON CONFLICT (tenant_id, actor_key) DO UPDATE
    SET display_name = EXCLUDED.display_name, region = EXCLUDED.region,
        first_seen = EXCLUDED.first_seen, last_seen = EXCLUDED.last_seen;
  DELETE FROM app.learners l
    WHERE l.actor_key = ANY (keys)
      AND NOT EXISTS (SELECT 1 FROM app.statements s
                      WHERE s.actor_key = l.actor_key AND NOT s.voided AND s.voids IS NULL);

  -- Titles from these actors' statements, merged by the statement each came from; a course whose title came
  -- from a statement that no longer counts is read again whole. A rebuild (NULL) read every statement, so its
  -- titles replace the stored ones.
  titles := ARRAY(SELECT ROW(t.*)::app.course_title FROM app.course_titles_from_statements(actor_keys) t);
  PERFORM app.merge_course_titles(titles, affected_courses, actor_keys IS NULL);
  -- A course with a counted statement of these actors (a title candidate) still has one.
  DELETE FROM app.courses c
    WHERE c.course_iri = ANY (affected_courses)
      AND NOT c.course_iri = ANY (ARRAY(SELECT t.course_iri FROM unnest(titles) t))
      AND NOT EXISTS (SELECT 1 FROM app.statements s WHERE s.course_iri = c.course_iri AND NOT s.voided AND s.voids IS NULL);

  DELETE FROM app.enrollments e USING app.learners l
    WHERE e.learner_id = l.id AND l.actor_key = ANY (keys);
  INSERT INTO app.enrollments (learner_id, course_id, enrolled_at, completed_at, cohort, registration)
    SELECT l.id, c.id, f.enrolled_at, f.completed_at, f.cohort, f.registration
    FROM app.enrollments_from_statements(actor_keys) f
    JOIN app.learners l ON l.actor_key = f.actor_key
    JOIN app.courses c ON c.course_iri = f.course_iri;
  IF actor_keys IS NOT NULL THEN
    PERFORM app.apply_enrollment_outcomes(keys, 1);
  END IF;
END
$$;

CREATE FUNCTION app.refresh_learning_facts_fully(actor_keys text[]) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
  PERFORM app.refresh_learning_facts(actor_keys);
  PERFORM app.record_derivation_provenance(
    coalesce(actor_keys, ARRAY(SELECT l.actor_key FROM app.learners l)));
END
$$;

CREATE FUNCTION app.rollup_watermarks() RETURNS TABLE(tenant_id uuid, refreshed_at timestamp with time zone)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$ SELECT r.tenant_id, r.refreshed_at FROM app.rollup_state r $$;

CREATE FUNCTION app.runtime_keys() RETURNS TABLE(tenant_context_key text, shared_link_key text)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
  SELECT (SELECT s.value FROM app_private.settings s WHERE s.key = 'tenant_context_key'),
         (SELECT s.value FROM app_private.settings s WHERE s.key = 'shared_link_key')
$$;

CREATE FUNCTION app.schema_version() RETURNS integer
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$ SELECT coalesce(max(version), 0) FROM app_private.schema_migrations $$;

CREATE FUNCTION app.shared_link_tenant(link_id uuid) RETURNS uuid
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
  SELECT t.tenant_id FROM app_private.shared_link_tenants t WHERE t.link_id = shared_link_tenant.link_id
$$;

CREATE FUNCTION app.sum_enrollment_outcomes_by_month() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
  changes app.enrollment_outcome_change[];
BEGIN
  -- Each branch names only the transition tables its event has.
  IF TG_OP = 'INSERT' THEN
    changes := ARRAY(SELECT ROW(a.tenant_id, a.day, a.course_id, a.cohort, a.region, a.days_to_complete, a.enrollments)::app.enrollment_outcome_change
                     FROM added a);
  ELSIF TG_OP = 'DELETE' THEN
    changes := ARRAY(SELECT ROW(r.tenant_id, r.day, r.course_id, r.cohort, r.region, r.days_to_complete, -r.enrollments)::app.enrollment_outcome_change
                     FROM removed r);
  ELSE
    changes := ARRAY(SELECT ROW(a.tenant_id, a.day, a.course_id, a.cohort, a.region, a.days_to_complete, a.enrollments)::app.enrollment_outcome_change
                     FROM added a
                     UNION ALL
                     SELECT ROW(r.tenant_id, r.day, r.course_id, r.cohort, r.region, r.days_to_complete, -r.enrollments)::app.enrollment_outcome_change
                     FROM removed r);
  END IF;
  -- Rows of a tenant being deleted (a cascade from app.tenants) change nothing: their sums go with the tenant.
  changes := ARRAY(SELECT c FROM unnest(changes) c WHERE EXISTS (SELECT 1 FROM app.tenants t WHERE t.id = c.tenant_id));
  IF cardinality(changes) = 0 THEN
    RETURN NULL;
  END IF;

  -- Sorted, so two transactions changing the same rows lock them in one order.
  INSERT INTO app.monthly_course_outcomes AS o (tenant_id, month, course_id, cohort, region, enrolled, completed)
    SELECT c.tenant_id, date_trunc('month', c.day::timestamp)::date, c.course_id, c.cohort, c.region, sum(c.enrollments)::integer,
           coalesce(sum(c.enrollments) FILTER (WHERE c.days_to_complete IS NOT NULL), 0)::integer
    FROM unnest(changes) c
    GROUP BY 1, 2, 3, 4, 5
    HAVING sum(c.enrollments) <> 0 OR coalesce(sum(c.enrollments) FILTER (WHERE c.days_to_complete IS NOT NULL), 0) <> 0
    ORDER BY 1, 2, 3, 4, 5
  ON CONFLICT (tenant_id, month, course_id, cohort, region)
    DO UPDATE SET enrolled = o.enrolled + EXCLUDED.enrolled, completed = o.completed + EXCLUDED.completed;

  INSERT INTO app.monthly_completion_times AS o (tenant_id, month, course_id, region, days_to_complete, completions)
    SELECT c.tenant_id, date_trunc('month', c.day::timestamp)::date, c.course_id, c.region, c.days_to_complete, sum(c.enrollments)::integer
    FROM unnest(changes) c
    WHERE c.days_to_complete IS NOT NULL
    GROUP BY 1, 2, 3, 4, 5
    HAVING sum(c.enrollments) <> 0
    ORDER BY 1, 2, 3, 4, 5
  ON CONFLICT (tenant_id, month, course_id, region, days_to_complete)
    DO UPDATE SET completions = o.completions + EXCLUDED.completions;

  INSERT INTO app.monthly_course_outcomes_all_regions AS o (tenant_id, month, course_id, cohort, enrolled, completed)
    SELECT c.tenant_id, date_trunc('month', c.day::timestamp)::date, c.course_id, c.cohort, sum(c.enrollments)::integer,
           coalesce(sum(c.enrollments) FILTER (WHERE c.days_to_complete IS NOT NULL), 0)::integer
    FROM unnest(changes) c
    GROUP BY 1, 2, 3, 4
    HAVING sum(c.enrollments) <> 0 OR coalesce(sum(c.enrollments) FILTER (WHERE c.days_to_complete IS NOT NULL), 0) <> 0
    ORDER BY 1, 2, 3, 4
  ON CONFLICT (tenant_id, month, course_id, cohort)
    DO UPDATE SET enrolled = o.enrolled + EXCLUDED.enrolled, completed = o.completed + EXCLUDED.completed;

  INSERT INTO app.monthly_completion_times_all_regions AS o (tenant_id, month, course_id, days_to_complete, completions)
    SELECT c.tenant_id, date_trunc('month', c.day::timestamp)::date, c.course_id, c.days_to_complete, sum(c.enrollments)::integer
    FROM unnest(changes) c
    WHERE c.days_to_complete IS NOT NULL
    GROUP BY 1, 2, 3, 4
    HAVING sum(c.enrollments) <> 0
    ORDER BY 1, 2, 3, 4
  ON CONFLICT (tenant_id, month, course_id, days_to_complete)
    DO UPDATE SET completions = o.completions + EXCLUDED.completions;

  INSERT INTO app.monthly_cohort_outcomes_all_courses AS o (tenant_id, month, cohort, enrolled, completed)
    SELECT c.tenant_id, date_trunc('month', c.day::timestamp)::date, c.cohort, sum(c.enrollments)::integer,
           coalesce(sum(c.enrollments) FILTER (WHERE c.days_to_complete IS NOT NULL), 0)::integer
    FROM unnest(changes) c
    GROUP BY 1, 2, 3
    HAVING sum(c.enrollments) <> 0 OR coalesce(sum(c.enrollments) FILTER (WHERE c.days_to_complete IS NOT NULL), 0) <> 0
    ORDER BY 1, 2, 3
  ON CONFLICT (tenant_id, month, cohort)
    DO UPDATE SET enrolled = o.enrolled + EXCLUDED.enrolled, completed = o.completed + EXCLUDED.completed;

  INSERT INTO app.monthly_completion_times_all_courses AS o (tenant_id, month, days_to_complete, completions)
    SELECT c.tenant_id, date_trunc('month', c.day::timestamp)::date, c.days_to_complete, sum(c.enrollments)::integer
    FROM unnest(changes) c
    WHERE c.days_to_complete IS NOT NULL
    GROUP BY 1, 2, 3
    HAVING sum(c.enrollments) <> 0
    ORDER BY 1, 2, 3
  ON CONFLICT (tenant_id, month, days_to_complete)
    DO UPDATE SET completions = o.completions + EXCLUDED.completions;

  IF TG_OP = 'INSERT' THEN
    RETURN NULL;
  END IF;

  DELETE FROM app.monthly_course_outcomes o
    USING (SELECT DISTINCT c.tenant_id, date_trunc('month', c.day::timestamp)::date AS month, c.course_id, c.cohort, c.region
           FROM unnest(changes) c) k
    WHERE o.tenant_id = k.tenant_id AND o.month = k.month AND o.course_id = k.course_id AND o.cohort = k.cohort
      AND o.region IS NOT DISTINCT FROM k.region AND o.enrolled = 0;
  DELETE FROM app.monthly_completion_times o
    USING (SELECT DISTINCT c.tenant_id, date_trunc('month', c.day::timestamp)::date AS month, c.course_id, c.region, c.days_to_complete
           FROM unnest(changes) c WHERE c.days_to_complete IS NOT NULL) k
    WHERE o.tenant_id = k.tenant_id AND o.month = k.month AND o.course_id = k.course_id
      AND o.region IS NOT DISTINCT FROM k.region AND o.days_to_complete = k.days_to_complete AND o.completions = 0;
  DELETE FROM app.monthly_course_outcomes_all_regions o
    USING (SELECT DISTINCT c.tenant_id, date_trunc('month', c.day::timestamp)::date AS month, c.course_id, c.cohort
           FROM unnest(changes) c) k
    WHERE o.tenant_id = k.tenant_id AND o.month = k.month AND o.course_id = k.course_id AND o.cohort = k.cohort
      AND o.enrolled = 0;
  DELETE FROM app.monthly_completion_times_all_regions o
    USING (SELECT DISTINCT c.tenant_id, date_trunc('month', c.day::timestamp)::date AS month, c.course_id, c.days_to_complete
           FROM unnest(changes) c WHERE c.days_to_complete IS NOT NULL) k
    WHERE o.tenant_id = k.tenant_id AND o.month = k.month AND o.course_id = k.course_id
      AND o.days_to_complete = k.days_to_complete AND o.completions = 0;
  DELETE FROM app.monthly_cohort_outcomes_all_courses o
    USING (SELECT DISTINCT c.tenant_id, date_trunc('month', c.day::timestamp)::date AS month, c.cohort
           FROM unnest(changes) c) k
    WHERE o.tenant_id = k.tenant_id AND o.month = k.month AND o.cohort = k.cohort AND o.enrolled = 0;
  DELETE FROM app.monthly_completion_times_all_courses o
    USING (SELECT DISTINCT c.tenant_id, date_trunc('month', c.day::timestamp)::date AS month, c.days_to_complete
           FROM unnest(changes) c WHERE c.days_to_complete IS NOT NULL) k
    WHERE o.tenant_id = k.tenant_id AND o.month = k.month AND o.days_to_complete = k.days_to_complete
      AND o.completions = 0;
  RETURN NULL;
END
$$;

CREATE FUNCTION app.tenant_cluster(p_tenant uuid) RETURNS text
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$ SELECT t.cluster FROM app.tenants t WHERE t.id = p_tenant $$;

CREATE FUNCTION app.tenant_directory() RETURNS TABLE(id uuid, slug text, name text, tier text, region text, created_at timestamp with time zone, cluster text)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$ SELECT t.id, t.slug, t.name, t.tier, t.region, t.created_at, t.cluster FROM app.tenants t ORDER BY t.slug $$;

CREATE FUNCTION app.tenant_limits() RETURNS TABLE(tenant_id uuid, tier text, concurrency integer, connection_budget integer, api_rate double precision, api_burst integer, ingest_rate double precision, ingest_burst integer)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
  SELECT t.id, t.tier, coalesce(o.concurrency, s.concurrency), s.connection_budget,
         CASE WHEN o.api_rate IS NOT NULL THEN o.api_rate ELSE s.api_rate END,
         CASE WHEN o.api_rate IS NOT NULL THEN o.api_burst ELSE s.api_burst END,
         CASE WHEN o.ingest_rate IS NOT NULL THEN o.ingest_rate ELSE s.ingest_rate END,
         CASE WHEN o.ingest_rate IS NOT NULL THEN o.ingest_burst ELSE s.ingest_burst END
  FROM app.tenants t
  JOIN app_private.tenant_tiers s ON s.name = t.tier
  LEFT JOIN app_private.tenant_limit_overrides o ON o.tenant_id = t.id
$$;

CREATE FUNCTION app.tenant_login_password() RETURNS text
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$ SELECT s.value FROM app_private.settings s WHERE s.key = 'tenant_login_password' $$;

CREATE FUNCTION app.token_revoked(p_jti text) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$ SELECT EXISTS (SELECT 1 FROM app_private.revoked_tokens WHERE jti = p_jti) $$;

CREATE FUNCTION app.touch_rollup_watermark() RETURNS void
    LANGUAGE sql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$ UPDATE app.rollup_state SET refreshed_at = clock_timestamp() $$;

CREATE FUNCTION app.void_missed_targets(overlap interval) RETURNS integer
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
  RETURN app.void_statements(ARRAY(
    SELECT v.voids FROM app.statements v
    WHERE v.voids IS NOT NULL
      AND v.stored > coalesce((SELECT r.stored_through FROM app.rollup_state r) - overlap, '-infinity')));
END
$$;

CREATE FUNCTION app.void_statements(targets uuid[]) RETURNS integer
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
  voided_count integer;
BEGIN
  IF coalesce(cardinality(targets), 0) = 0 THEN
    RETURN 0;
  END IF;
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
  SELECT count(*)::integer INTO voided_count FROM voided;
  RETURN voided_count;
END
$$;

CREATE FUNCTION app.xapi_document_delete(kind text, activity_id text, agent_key text, registration text, document_id text, if_match text[], if_none_match text[]) RETURNS text
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
  stored_etag text;
  outcome text;
BEGIN
  SELECT d.etag INTO stored_etag FROM app.xapi_documents d
  WHERE d.kind = xapi_document_delete.kind AND d.activity_id = xapi_document_delete.activity_id
    AND d.agent_key = xapi_document_delete.agent_key AND d.registration = xapi_document_delete.registration
    AND d.document_id = xapi_document_delete.document_id
  FOR UPDATE;
  outcome := app.xapi_document_precondition(stored_etag, if_match, if_none_match);
  IF outcome = 'ok' THEN
    DELETE FROM app.xapi_documents d
    WHERE d.kind = xapi_document_delete.kind AND d.activity_id = xapi_document_delete.activity_id
      AND d.agent_key = xapi_document_delete.agent_key AND d.registration = xapi_document_delete.registration
      AND d.document_id = xapi_document_delete.document_id;
  END IF;
  RETURN outcome;
END
$$;

CREATE FUNCTION app.xapi_document_etag(content bytea) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT SECURITY DEFINER PARALLEL SAFE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$ SELECT encode(app_private.digest(content, 'sha1'), 'hex') $$;

CREATE FUNCTION app.xapi_document_is_json_object(content bytea) RETURNS boolean
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
DECLARE
  document jsonb;
BEGIN
  document := convert_from(content, 'UTF8')::jsonb;
  RETURN jsonb_typeof(document) = 'object'
    AND NOT jsonb_path_exists(document, 'strict $.**{512 to last} ? (@.type() == "object" || @.type() == "array")')
    AND NOT jsonb_path_exists(document, 'strict $.** ? (@.type() == "number" && (@ >= $limit || @ <= -$limit))',
                              jsonb_build_object('limit', 2::numeric ^ 1024 - 2::numeric ^ 970));
EXCEPTION WHEN data_exception OR program_limit_exceeded THEN
  -- Not UTF-8, not JSON, a \u0000, a number numeric cannot hold, or nesting deeper than the stack.
  RETURN false;
END
$_$;

CREATE FUNCTION app.xapi_document_precondition(stored_etag text, if_match text[], if_none_match text[]) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE WHEN ((if_match IS NOT NULL) AND (stored_etag IS NULL)) THEN 'if_match_absent'::text WHEN ((if_match IS NOT NULL) AND (NOT ((stored_etag = ANY (if_match)) OR ('*'::text = ANY (if_match))))) THEN 'if_match_changed'::text WHEN ((if_none_match IS NOT NULL) AND (stored_etag IS NOT NULL) AND ((stored_etag = ANY (if_none_match)) OR ('*'::text = ANY (if_none_match)))) THEN 'if_none_match'::text ELSE 'ok'::text END;

CREATE FUNCTION app.xapi_document_write(kind text, activity_id text, agent_key text, registration text, document_id text, content bytea, content_type text, etag text, if_match text[], if_none_match text[], merge boolean, content_is_json boolean, needs_precondition boolean, overwrite boolean, OUT outcome text, OUT written integer) RETURNS record
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
  stored_content bytea;
  stored_type text;
  stored_etag text;
BEGIN
  -- Twice at most: a first attempt that found no document and lost the insert to a concurrent one (the
  -- conflict waited for it to commit, and the row is now locked) looks again, and merges into it or refuses.
  FOR attempt IN 1..2 LOOP
    written := 0;
    SELECT d.content, d.content_type, d.etag INTO stored_content, stored_type, stored_etag
    FROM app.xapi_documents d
    WHERE d.kind = xapi_document_write.kind AND d.activity_id = xapi_document_write.activity_id
      AND d.agent_key = xapi_document_write.agent_key AND d.registration = xapi_document_write.registration
      AND d.document_id = xapi_document_write.document_id
    FOR UPDATE;
    outcome := app.xapi_document_precondition(stored_etag, if_match, if_none_match);
    IF outcome <> 'ok' THEN
      RETURN;
    ELSIF needs_precondition THEN
      outcome := CASE WHEN stored_etag IS NULL THEN 'precondition_required' ELSE 'exists' END;
      RETURN;
    ELSIF merge AND stored_etag IS NOT NULL THEN
      IF NOT (content_is_json AND app.xapi_is_json_media_type(stored_type)) THEN
        outcome := 'not_json';
        RETURN;
      ELSIF NOT app.xapi_document_is_json_object(stored_content) THEN
        outcome := 'stored_not_object';
        RETURN;
      END IF;
      SELECT convert_to('{' || coalesce(string_agg(to_json(m.key)::text || ':' || m.value::text, ',' ORDER BY m.key COLLATE "C"), '')
                        || '}', 'UTF8')
      INTO content
      FROM (SELECT DISTINCT ON (c.key) c.key, c.value
            FROM (SELECT s.key, s.value, 0 AS source, s.position
                  FROM json_each(convert_from(stored_content, 'UTF8')::json) WITH ORDINALITY AS s (key, value, position)
                  UNION ALL
                  SELECT p.key, p.value, 1, p.position
                  FROM json_each(convert_from(xapi_document_write.content, 'UTF8')::json) WITH ORDINALITY AS p (key, value, position)
                 ) AS c
            ORDER BY c.key, c.source DESC, c.position DESC) AS m;
      content_type := 'application/json';
      etag := app.xapi_document_etag(content);
    END IF;

    IF stored_etag IS NOT NULL THEN
      UPDATE app.xapi_documents d
      SET content = xapi_document_write.content, content_type = xapi_document_write.content_type,
          etag = xapi_document_write.etag, updated = clock_timestamp()
      WHERE d.kind = xapi_document_write.kind AND d.activity_id = xapi_document_write.activity_id
        AND d.agent_key = xapi_document_write.agent_key AND d.registration = xapi_document_write.registration
        AND d.document_id = xapi_document_write.document_id;
    ELSE
      INSERT INTO app.xapi_documents AS d (kind, activity_id, agent_key, registration, document_id, content, content_type, etag)
      VALUES (kind, activity_id, agent_key, registration, document_id, content, content_type, etag)
      ON CONFLICT ON CONSTRAINT xapi_documents_pkey DO UPDATE
        SET content = EXCLUDED.content, content_type = EXCLUDED.content_type, etag = EXCLUDED.etag, updated = clock_timestamp()
        WHERE overwrite;
    END IF;
    GET DIAGNOSTICS written = ROW_COUNT;
    EXIT WHEN written > 0 OR stored_etag IS NOT NULL OR overwrite;
  END LOOP;
END
$$;

CREATE FUNCTION app.xapi_is_json_media_type(content_type text) RETURNS boolean
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN (translate(btrim(split_part(ltrim(content_type, ';'::text), ';'::text, 1), '	              ​  　'::text), 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'::text, 'abcdefghijklmnopqrstuvwxyz'::text) = 'application/json'::text);

CREATE FUNCTION app_private.audit_row_hash(previous_hash text, seq bigint, occurred_at timestamp with time zone, actor text, actor_kind text, scope_tenant_id uuid, action text, report text, parameters jsonb, row_count bigint, outcome text) RETURNS text
    LANGUAGE sql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
  SELECT encode(sha256(convert_to(previous_hash || jsonb_build_array(
    seq, (extract(epoch FROM occurred_at) * 1000000)::bigint, actor, actor_kind, scope_tenant_id,
    action, report, parameters, row_count, outcome)::text, 'UTF8')), 'hex')
$$;

CREATE FUNCTION app_private.check_cluster_residency() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
  IF NEW.region IS NOT NULL AND EXISTS (SELECT 1 FROM app.tenants t WHERE t.cluster = NEW.name AND t.region <> NEW.region) THEN
    RAISE EXCEPTION 'residency: the cluster % holds tenants of regions other than %', NEW.name, NEW.region
      USING ERRCODE = '23514';
  END IF;
  RETURN NEW;
END
$$;

CREATE FUNCTION app_private.check_tenant_residency() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
  cluster_region text;
BEGIN
  SELECT c.region INTO cluster_region FROM app_private.clusters c WHERE c.name = NEW.cluster;
  IF cluster_region IS NOT NULL AND cluster_region <> NEW.region THEN
    RAISE EXCEPTION 'residency: the cluster % is in the region %, the tenant in %', NEW.cluster, cluster_region, NEW.region
      USING ERRCODE = '23514';
  END IF;
  RETURN NEW;
END
$$;

CREATE FUNCTION app_private.create_learner_key_secret() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
  INSERT INTO app_private.learner_key_secrets (tenant_id) VALUES (NEW.id);
  RETURN NEW;
END
$$;

CREATE FUNCTION app_private.index_shared_link() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
  INSERT INTO app_private.shared_link_tenants (link_id, tenant_id) VALUES (NEW.id, NEW.tenant_id);
  RETURN NEW;
END
$$;

CREATE PROCEDURE app_private.protect_tenant_table(IN target regclass)
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
  EXECUTE format('ALTER TABLE %s ALTER COLUMN tenant_id SET DEFAULT app.context_tenant()', target);
  EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', target);
  EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', target);
  EXECUTE format(
    'CREATE POLICY tenant_isolation ON %s USING (tenant_id = (SELECT app.current_tenant())) '
    'WITH CHECK (tenant_id = (SELECT app.current_tenant()))', target);
  EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %s TO tenantscope_tenant', target);
END
$$;

CREATE FUNCTION app_private.refuse_audit_change() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only';
END
$$;

CREATE FUNCTION app_private.set_learner_key() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
  NEW.learner_key := app.learner_key(NEW.actor_key);
  RETURN NEW;
END
$$;

CREATE FUNCTION gate.tenant_gate(p_context text, p_write boolean) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    SET plan_cache_mode TO 'force_generic_plan'
    AS $$
DECLARE
  tenant uuid := app.current_tenant();
  here text;
BEGIN
  IF p_context IS DISTINCT FROM current_setting('app.tenant_ctx', true) THEN
    RAISE EXCEPTION 'the gate is asked about a context other than the transaction''s' USING ERRCODE = '22023';
  END IF;
  IF tenant IS NULL THEN
    RETURN true;  -- no valid context: row-level security shows nothing and refuses every write
  END IF;
  -- A move's hold first: a write a move refuses must not wait for the tenant's row, which a move off this
  -- cluster deletes with everything else in one long transaction.
  IF p_write AND NOT pg_try_advisory_xact_lock_shared(hashtextextended('tenantscope.move.' || tenant::text, 0)) THEN
    RAISE EXCEPTION 'the tenant is being moved to another cluster' USING ERRCODE = 'TSM02';
  END IF;
  IF p_write THEN
    SELECT t.cluster INTO here FROM app.tenants t WHERE t.id = tenant FOR KEY SHARE;
  ELSE
    SELECT t.cluster INTO here FROM app.tenants t WHERE t.id = tenant;
  END IF;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'the tenant does not exist on this cluster' USING ERRCODE = 'TSM03';
  END IF;
  IF here <> 'pool' OR EXISTS (SELECT 1 FROM app_private.departed_tenants d WHERE d.tenant_id = tenant) THEN
    RAISE EXCEPTION 'the tenant''s data is not on this cluster' USING ERRCODE = 'TSM01';
  END IF;
  RETURN true;
END
$$;

CREATE FUNCTION semantic.answer_row_fits(row_bytes integer, maximum integer) RETURNS boolean
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
  IF row_bytes > maximum THEN
    RAISE EXCEPTION 'a row of the answer takes % bytes, more than the % bytes a row may take; select fewer or shorter values',
      row_bytes, maximum USING ERRCODE = '54000';
  END IF;
  RETURN true;
END
$$;

CREATE TABLE app.audit_log (
    seq bigint NOT NULL,
    occurred_at timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    actor text NOT NULL,
    actor_kind text NOT NULL,
    scope_tenant_id uuid,
    action text NOT NULL,
    report text,
    parameters jsonb DEFAULT '{}'::jsonb NOT NULL,
    row_count bigint,
    outcome text NOT NULL,
    previous_hash text NOT NULL,
    hash text NOT NULL
);

ALTER TABLE ONLY app.audit_log FORCE ROW LEVEL SECURITY;

ALTER TABLE app.audit_log ALTER COLUMN seq ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME app.audit_log_seq_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE app.courses (
    tenant_id uuid DEFAULT app.context_tenant() NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    course_iri text NOT NULL,
    title text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    title_at timestamp with time zone,
    title_from uuid,
    CONSTRAINT courses_title_provenance CHECK ((((title_at IS NULL) = (title_from IS NULL)) AND ((title_at IS NULL) OR (title IS NOT NULL))))
);

ALTER TABLE ONLY app.courses FORCE ROW LEVEL SECURITY;

CREATE TABLE app.custom_reports (
    tenant_id uuid DEFAULT app.context_tenant() NOT NULL,
    name text NOT NULL,
    title text NOT NULL,
    sql text NOT NULL,
    sql_sha256 text NOT NULL,
    state text DEFAULT 'draft'::text NOT NULL,
    created_by text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    previewed_by text,
    previewed_at timestamp with time zone,
    previewed_sha256 text,
    approved_by text,
    approved_at timestamp with time zone,
    dashboard_panel boolean DEFAULT false NOT NULL,
    CONSTRAINT custom_reports_check CHECK (((state = 'draft'::text) OR (previewed_sha256 = sql_sha256))),
    CONSTRAINT custom_reports_check1 CHECK (((state <> 'approved'::text) OR (approved_at IS NOT NULL))),
    CONSTRAINT custom_reports_name_check CHECK ((name ~ '^[a-z][a-z0-9_]{0,62}$'::text)),
    CONSTRAINT custom_reports_sql_check CHECK (((length(sql) >= 1) AND (length(sql) <= 20000))),
    CONSTRAINT custom_reports_sql_sha256_check CHECK ((sql_sha256 ~ '^[0-9a-f]{64}$'::text)),
    CONSTRAINT custom_reports_state_check CHECK ((state = ANY (ARRAY['draft'::text, 'previewed'::text, 'approved'::text]))),
    CONSTRAINT custom_reports_title_check CHECK (((length(title) >= 1) AND (length(title) <= 200)))
);

ALTER TABLE ONLY app.custom_reports FORCE ROW LEVEL SECURITY;

CREATE TABLE app.daily_active_learners (
    tenant_id uuid DEFAULT app.context_tenant() NOT NULL,
    day date NOT NULL,
    learners integer NOT NULL,
    statements bigint DEFAULT 0 NOT NULL,
    CONSTRAINT daily_active_learners_learners_check CHECK ((learners > 0)),
    CONSTRAINT daily_active_learners_statements_check CHECK ((statements >= 0))
);

ALTER TABLE ONLY app.daily_active_learners FORCE ROW LEVEL SECURITY;

CREATE TABLE app.daily_enrollment_outcomes (
    tenant_id uuid DEFAULT app.context_tenant() NOT NULL,
    day date NOT NULL,
    course_id uuid NOT NULL,
    cohort text NOT NULL,
    region text,
    days_to_complete integer,
    enrollments integer NOT NULL,
    CONSTRAINT daily_enrollment_outcomes_days_to_complete_check CHECK ((days_to_complete >= 0)),
    CONSTRAINT daily_enrollment_outcomes_enrollments_check CHECK ((enrollments > 0))
);

ALTER TABLE ONLY app.daily_enrollment_outcomes FORCE ROW LEVEL SECURITY;

CREATE TABLE app.daily_feature_usage (
    tenant_id uuid DEFAULT app.context_tenant() NOT NULL,
    day date NOT NULL,
    feature_key text NOT NULL,
    events integer NOT NULL,
    actors integer NOT NULL,
    CONSTRAINT daily_feature_usage_actors_check CHECK ((actors > 0)),
    CONSTRAINT daily_feature_usage_events_check CHECK ((events > 0))
);

ALTER TABLE ONLY app.daily_feature_usage FORCE ROW LEVEL SECURITY;

CREATE TABLE app.daily_learner_activity (
    tenant_id uuid DEFAULT app.context_tenant() NOT NULL,
    day date NOT NULL,
    learner_hash text NOT NULL,
    statements integer NOT NULL,
    CONSTRAINT daily_learner_activity_statements_check CHECK ((statements > 0))
);

ALTER TABLE ONLY app.daily_learner_activity FORCE ROW LEVEL SECURITY;

CREATE TABLE app.enrollments (
    tenant_id uuid DEFAULT app.context_tenant() NOT NULL,
    learner_id uuid NOT NULL,
    course_id uuid NOT NULL,
    enrolled_at timestamp with time zone NOT NULL,
    completed_at timestamp with time zone,
    cohort text NOT NULL,
    registration uuid,
    cohort_at timestamp with time zone,
    cohort_from uuid,
    registration_at timestamp with time zone,
    registration_from uuid,
    CONSTRAINT enrollments_check CHECK (((completed_at IS NULL) OR (completed_at >= enrolled_at)))
);

ALTER TABLE ONLY app.enrollments FORCE ROW LEVEL SECURITY;

CREATE TABLE app.export_jobs (
    tenant_id uuid DEFAULT app.context_tenant() NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    source text NOT NULL,
    report text,
    parameters jsonb DEFAULT '{}'::jsonb NOT NULL,
    subject_actor_key text,
    format text NOT NULL,
    compressed boolean DEFAULT false NOT NULL,
    state text DEFAULT 'queued'::text NOT NULL,
    requested_by text NOT NULL,
    requested_kind text NOT NULL,
    requested_role text NOT NULL,
    attributes jsonb DEFAULT '{}'::jsonb NOT NULL,
    schedule_id uuid,
    slot timestamp with time zone,
    attempts integer DEFAULT 0 NOT NULL,
    rows_written bigint DEFAULT 0 NOT NULL,
    size_bytes bigint,
    error text,
    lease_owner text,
    lease_until timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    started_at timestamp with time zone,
    finished_at timestamp with time zone,
    expires_at timestamp with time zone,
    CONSTRAINT export_jobs_attributes_check CHECK ((jsonb_typeof(attributes) = 'object'::text)),
    CONSTRAINT export_jobs_check CHECK (((source = ANY (ARRAY['report'::text, 'custom_report'::text])) = (report IS NOT NULL))),
    CONSTRAINT export_jobs_check1 CHECK (((source = 'learner'::text) = (subject_actor_key IS NOT NULL))),
    CONSTRAINT export_jobs_custom_report_check CHECK (((source <> 'custom_report'::text) OR ((parameters ->> 'sql_sha256'::text) ~ '^[0-9a-f]{64}$'::text))),
    CONSTRAINT export_jobs_error_check CHECK ((length(error) <= 1000)),
    CONSTRAINT export_jobs_format_check CHECK ((format = ANY (ARRAY['csv'::text, 'json'::text, 'ndjson'::text]))),
    CONSTRAINT export_jobs_parameters_check CHECK (((jsonb_typeof(parameters) = 'object'::text) AND (octet_length((parameters)::text) <= 4000))),
    CONSTRAINT export_jobs_report_check CHECK ((report ~ '^[a-z][a-z0-9_]{0,62}$'::text)),
    CONSTRAINT export_jobs_requested_by_check CHECK (((length(requested_by) >= 1) AND (length(requested_by) <= 300))),
    CONSTRAINT export_jobs_requested_kind_check CHECK ((requested_kind = ANY (ARRAY['tenant_user'::text, 'platform_admin'::text, 'schedule'::text, 'operator'::text]))),
    CONSTRAINT export_jobs_requested_role_check CHECK ((requested_role = ANY (ARRAY['viewer'::text, 'analyst'::text, 'admin'::text]))),
    CONSTRAINT export_jobs_source_check CHECK ((source = ANY (ARRAY['report'::text, 'statements'::text, 'learner'::text, 'custom_report'::text]))),
    CONSTRAINT export_jobs_state_check CHECK ((state = ANY (ARRAY['queued'::text, 'running'::text, 'done'::text, 'failed'::text, 'expired'::text, 'revoked'::text]))),
    CONSTRAINT export_jobs_subject_actor_key_check CHECK ((octet_length(subject_actor_key) <= 2600))
);

ALTER TABLE ONLY app.export_jobs FORCE ROW LEVEL SECURITY;

CREATE TABLE app.export_removals (
    tenant_id uuid DEFAULT app.context_tenant() NOT NULL,
    job_id uuid NOT NULL,
    file_extension text NOT NULL,
    queued_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT export_removals_file_extension_check CHECK ((file_extension ~ '^[a-z]{1,8}(\.[a-z]{1,8})?$'::text))
);

ALTER TABLE ONLY app.export_removals FORCE ROW LEVEL SECURITY;

CREATE TABLE app.export_schedules (
    tenant_id uuid DEFAULT app.context_tenant() NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    report text NOT NULL,
    parameters jsonb DEFAULT '{}'::jsonb NOT NULL,
    format text NOT NULL,
    compressed boolean DEFAULT false NOT NULL,
    cadence text NOT NULL,
    hour integer NOT NULL,
    weekday integer,
    created_by text NOT NULL,
    created_role text NOT NULL,
    attributes jsonb DEFAULT '{}'::jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    last_slot timestamp with time zone,
    CONSTRAINT export_schedules_attributes_check CHECK ((jsonb_typeof(attributes) = 'object'::text)),
    CONSTRAINT export_schedules_cadence_check CHECK ((cadence = ANY (ARRAY['daily'::text, 'weekly'::text]))),
    CONSTRAINT export_schedules_check CHECK (((cadence = 'weekly'::text) = (weekday IS NOT NULL))),
    CONSTRAINT export_schedules_created_by_check CHECK (((length(created_by) >= 1) AND (length(created_by) <= 300))),
    CONSTRAINT export_schedules_created_role_check CHECK ((created_role = ANY (ARRAY['viewer'::text, 'analyst'::text, 'admin'::text]))),
    CONSTRAINT export_schedules_format_check CHECK ((format = ANY (ARRAY['csv'::text, 'json'::text, 'ndjson'::text]))),
    CONSTRAINT export_schedules_hour_check CHECK (((hour >= 0) AND (hour <= 23))),
    CONSTRAINT export_schedules_parameters_check CHECK (((jsonb_typeof(parameters) = 'object'::text) AND (octet_length((parameters)::text) <= 4000))),
    CONSTRAINT export_schedules_report_check CHECK ((report ~ '^[a-z][a-z0-9_]{0,62}$'::text)),
    CONSTRAINT export_schedules_weekday_check CHECK (((weekday >= 1) AND (weekday <= 7)))
);

ALTER TABLE ONLY app.export_schedules FORCE ROW LEVEL SECURITY;

CREATE TABLE app.feature_events (
    tenant_id uuid DEFAULT app.context_tenant() NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    feature_key text NOT NULL,
    actor text NOT NULL,
    occurred_at timestamp with time zone NOT NULL,
    received_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT feature_events_feature_key_check CHECK ((feature_key ~ '^[a-z][a-z0-9_.-]{0,63}$'::text))
);

ALTER TABLE ONLY app.feature_events FORCE ROW LEVEL SECURITY;

CREATE TABLE app.learner_active_days (
    tenant_id uuid DEFAULT app.context_tenant() NOT NULL,
    learner_hash text NOT NULL,
    active datemultirange NOT NULL,
    last_day date GENERATED ALWAYS AS ((upper(active) - 1)) STORED NOT NULL,
    CONSTRAINT learner_active_days_active_check CHECK ((NOT isempty(active)))
);

ALTER TABLE ONLY app.learner_active_days FORCE ROW LEVEL SECURITY;

CREATE TABLE app.learners (
    tenant_id uuid DEFAULT app.context_tenant() NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    actor_key text NOT NULL,
    display_name text,
    region text,
    first_seen timestamp with time zone NOT NULL,
    last_seen timestamp with time zone NOT NULL,
    learner_key text NOT NULL,
    derived_through timestamp with time zone,
    name_at timestamp with time zone,
    name_from uuid,
    region_at timestamp with time zone,
    region_from uuid
);

ALTER TABLE ONLY app.learners FORCE ROW LEVEL SECURITY;

CREATE TABLE app.learners_by_last_day (
    tenant_id uuid DEFAULT app.context_tenant() NOT NULL,
    last_day date NOT NULL,
    learners integer NOT NULL
);

ALTER TABLE ONLY app.learners_by_last_day FORCE ROW LEVEL SECURITY;

CREATE TABLE app.learning_facts_queue (
    tenant_id uuid DEFAULT app.context_tenant() NOT NULL,
    seq bigint NOT NULL,
    actor_key text,
    queued_at timestamp with time zone DEFAULT now() NOT NULL,
    full_derivation boolean DEFAULT false NOT NULL,
    stored_from timestamp with time zone,
    actor_keys text[],
    stored_froms timestamp with time zone[],
    CONSTRAINT learning_facts_queue_one_form CHECK ((((actor_key IS NOT NULL) AND (actor_keys IS NULL) AND (stored_froms IS NULL)) OR ((actor_key IS NULL) AND (actor_keys IS NOT NULL) AND (stored_froms IS NOT NULL) AND (NOT full_derivation) AND (cardinality(actor_keys) > 0) AND (cardinality(stored_froms) = cardinality(actor_keys)) AND (array_position(actor_keys, NULL::text) IS NULL))))
);

ALTER TABLE ONLY app.learning_facts_queue FORCE ROW LEVEL SECURITY;

ALTER TABLE app.learning_facts_queue ALTER COLUMN seq ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME app.learning_facts_queue_seq_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE app.monthly_cohort_outcomes_all_courses (
    tenant_id uuid DEFAULT app.context_tenant() NOT NULL,
    month date NOT NULL,
    cohort text NOT NULL,
    enrolled integer NOT NULL,
    completed integer NOT NULL,
    CONSTRAINT monthly_cohort_outcomes_all_courses_month_check CHECK ((EXTRACT(day FROM month) = (1)::numeric))
);

ALTER TABLE ONLY app.monthly_cohort_outcomes_all_courses FORCE ROW LEVEL SECURITY;

CREATE TABLE app.monthly_completion_times (
    tenant_id uuid DEFAULT app.context_tenant() NOT NULL,
    month date NOT NULL,
    course_id uuid NOT NULL,
    region text,
    days_to_complete integer NOT NULL,
    completions integer NOT NULL,
    CONSTRAINT monthly_completion_times_month_check CHECK ((EXTRACT(day FROM month) = (1)::numeric))
);

ALTER TABLE ONLY app.monthly_completion_times FORCE ROW LEVEL SECURITY;

CREATE TABLE app.monthly_completion_times_all_courses (
    tenant_id uuid DEFAULT app.context_tenant() NOT NULL,
    month date NOT NULL,
    days_to_complete integer NOT NULL,
    completions integer NOT NULL,
    CONSTRAINT monthly_completion_times_all_courses_month_check CHECK ((EXTRACT(day FROM month) = (1)::numeric))
);

ALTER TABLE ONLY app.monthly_completion_times_all_courses FORCE ROW LEVEL SECURITY;

CREATE TABLE app.monthly_completion_times_all_regions (
    tenant_id uuid DEFAULT app.context_tenant() NOT NULL,
    month date NOT NULL,
    course_id uuid NOT NULL,
    days_to_complete integer NOT NULL,
    completions integer NOT NULL,
    CONSTRAINT monthly_completion_times_all_regions_month_check CHECK ((EXTRACT(day FROM month) = (1)::numeric))
);

ALTER TABLE ONLY app.monthly_completion_times_all_regions FORCE ROW LEVEL SECURITY;

CREATE TABLE app.monthly_course_outcomes (
    tenant_id uuid DEFAULT app.context_tenant() NOT NULL,
    month date NOT NULL,
    course_id uuid NOT NULL,
    cohort text NOT NULL,
    region text,
    enrolled integer NOT NULL,
    completed integer NOT NULL,
    CONSTRAINT monthly_course_outcomes_month_check CHECK ((EXTRACT(day FROM month) = (1)::numeric))
);

ALTER TABLE ONLY app.monthly_course_outcomes FORCE ROW LEVEL SECURITY;

CREATE TABLE app.monthly_course_outcomes_all_regions (
    tenant_id uuid DEFAULT app.context_tenant() NOT NULL,
    month date NOT NULL,
    course_id uuid NOT NULL,
    cohort text NOT NULL,
    enrolled integer NOT NULL,
    completed integer NOT NULL,
    CONSTRAINT monthly_course_outcomes_all_regions_month_check CHECK ((EXTRACT(day FROM month) = (1)::numeric))
);

ALTER TABLE ONLY app.monthly_course_outcomes_all_regions FORCE ROW LEVEL SECURITY;

CREATE TABLE app.rollup_queue (
    tenant_id uuid DEFAULT app.context_tenant() NOT NULL,
    seq bigint NOT NULL,
    day date NOT NULL,
    queued_at timestamp with time zone DEFAULT now() NOT NULL,
    actor_key text,
    statements integer,
    actor_keys text[],
    statement_counts integer[],
    CONSTRAINT rollup_queue_batch_check CHECK ((((actor_keys IS NULL) AND (statement_counts IS NULL)) OR ((actor_keys IS NOT NULL) AND (statement_counts IS NOT NULL) AND (actor_key IS NULL) AND (statements IS NULL) AND (cardinality(actor_keys) > 0) AND (cardinality(statement_counts) = cardinality(actor_keys)) AND (array_position(actor_keys, NULL::text) IS NULL) AND (array_position(statement_counts, NULL::integer) IS NULL) AND (array_position(statement_counts, 0) IS NULL)))),
    CONSTRAINT rollup_queue_delta_check CHECK ((((actor_key IS NULL) AND (statements IS NULL)) OR ((actor_key IS NOT NULL) AND (statements IS NOT NULL) AND (statements <> 0))))
);

ALTER TABLE ONLY app.rollup_queue FORCE ROW LEVEL SECURITY;

ALTER TABLE app.rollup_queue ALTER COLUMN seq ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME app.rollup_queue_seq_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE app.rollup_state (
    tenant_id uuid DEFAULT app.context_tenant() NOT NULL,
    stored_through timestamp with time zone NOT NULL,
    refreshed_at timestamp with time zone DEFAULT now() NOT NULL
);

ALTER TABLE ONLY app.rollup_state FORCE ROW LEVEL SECURITY;

CREATE TABLE app.saved_views (
    tenant_id uuid DEFAULT app.context_tenant() NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    name text NOT NULL,
    days integer NOT NULL,
    course text,
    created_by text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT saved_views_course_check CHECK ((length(course) <= 500)),
    CONSTRAINT saved_views_days_check CHECK (((days >= 1) AND (days <= 365))),
    CONSTRAINT saved_views_name_check CHECK (((length(name) >= 1) AND (length(name) <= 100)))
);

ALTER TABLE ONLY app.saved_views FORCE ROW LEVEL SECURITY;

CREATE TABLE app.shared_links (
    tenant_id uuid DEFAULT app.context_tenant() NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    view_id uuid NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    revoked_at timestamp with time zone,
    created_by text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);

ALTER TABLE ONLY app.shared_links FORCE ROW LEVEL SECURITY;

CREATE TABLE app.statements (
    tenant_id uuid DEFAULT app.context_tenant() NOT NULL,
    id uuid NOT NULL,
    statement jsonb NOT NULL,
    actor_key text NOT NULL,
    verb_id text NOT NULL,
    object_id text NOT NULL,
    object_type text,
    course_iri text,
    registration uuid,
    "timestamp" timestamp with time zone NOT NULL,
    stored timestamp with time zone DEFAULT now() NOT NULL,
    voided boolean DEFAULT false NOT NULL,
    actor_name text,
    course_title text,
    completes_course boolean DEFAULT false NOT NULL,
    cohort text,
    learner_region text,
    voids uuid
);

ALTER TABLE ONLY app.statements FORCE ROW LEVEL SECURITY;

CREATE TABLE app.tenants (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    slug text NOT NULL,
    name text NOT NULL,
    tier text DEFAULT 'standard'::text NOT NULL,
    region text DEFAULT 'default'::text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    cluster text DEFAULT 'pool'::text NOT NULL,
    CONSTRAINT tenants_name_check CHECK (((length(name) >= 1) AND (length(name) <= 200))),
    CONSTRAINT tenants_slug_check CHECK ((slug ~ '^[a-z][a-z0-9-]{0,61}[a-z0-9]$'::text))
);

ALTER TABLE ONLY app.tenants FORCE ROW LEVEL SECURITY;

CREATE TABLE app.xapi_attachments (
    tenant_id uuid DEFAULT app.context_tenant() NOT NULL,
    sha2 text NOT NULL,
    content bytea NOT NULL,
    content_type text NOT NULL,
    stored timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    CONSTRAINT xapi_attachments_content_type_check CHECK (((length(content_type) >= 1) AND (length(content_type) <= 255))),
    CONSTRAINT xapi_attachments_sha2_check CHECK ((sha2 ~ '^([0-9a-f]{64}|[0-9a-f]{96}|[0-9a-f]{128})$'::text))
);

ALTER TABLE ONLY app.xapi_attachments FORCE ROW LEVEL SECURITY;

CREATE TABLE app.xapi_documents (
    tenant_id uuid DEFAULT app.context_tenant() NOT NULL,
    kind text NOT NULL,
    activity_id text NOT NULL,
    agent_key text NOT NULL,
    registration text NOT NULL,
    document_id text NOT NULL,
    content bytea NOT NULL,
    content_type text NOT NULL,
    etag text NOT NULL,
    updated timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    CONSTRAINT xapi_documents_activity_id_check CHECK ((octet_length(activity_id) <= 1000)),
    CONSTRAINT xapi_documents_agent_key_check CHECK ((octet_length(agent_key) <= 1000)),
    CONSTRAINT xapi_documents_content_type_check CHECK (((length(content_type) >= 1) AND (length(content_type) <= 255))),
    CONSTRAINT xapi_documents_document_id_check CHECK (((octet_length(document_id) >= 1) AND (octet_length(document_id) <= 500))),
    CONSTRAINT xapi_documents_etag_check CHECK ((etag ~ '^[0-9a-f]{40}$'::text)),
    CONSTRAINT xapi_documents_kind_check CHECK ((kind = ANY (ARRAY['state'::text, 'activity_profile'::text, 'agent_profile'::text]))),
    CONSTRAINT xapi_documents_registration_check CHECK (((registration = ''::text) OR (registration ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'::text)))
);

ALTER TABLE ONLY app.xapi_documents FORCE ROW LEVEL SECURITY;

CREATE TABLE app_private.clusters (
    name text NOT NULL,
    region text,
    host text,
    port integer,
    database text,
    tls text,
    app_password text,
    owner_user text,
    owner_password text,
    added_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT clusters_check CHECK (((name = 'pool'::text) = (host IS NULL))),
    CONSTRAINT clusters_check1 CHECK ((((host IS NULL) = (port IS NULL)) AND ((host IS NULL) = (database IS NULL)) AND ((host IS NULL) = (tls IS NULL)) AND ((host IS NULL) = (app_password IS NULL)) AND ((host IS NULL) = (owner_user IS NULL)))),
    CONSTRAINT clusters_database_check CHECK (((length(database) >= 1) AND (length(database) <= 63))),
    CONSTRAINT clusters_host_check CHECK (((length(host) >= 1) AND (length(host) <= 255))),
    CONSTRAINT clusters_name_check CHECK ((name ~ '^[a-z][a-z0-9-]{0,30}[a-z0-9]$'::text)),
    CONSTRAINT clusters_port_check CHECK (((port >= 1) AND (port <= 65535))),
    CONSTRAINT clusters_region_check CHECK (((region IS NULL) OR ((length(region) >= 1) AND (length(region) <= 64)))),
    CONSTRAINT clusters_tls_check CHECK ((tls = ANY (ARRAY['disable'::text, 'prefer'::text, 'require'::text])))
);

CREATE TABLE app_private.departed_tenants (
    tenant_id uuid NOT NULL,
    moved_to text NOT NULL,
    moved_at timestamp with time zone DEFAULT now() NOT NULL
);

CREATE TABLE app_private.learner_key_secrets (
    tenant_id uuid NOT NULL,
    secret bytea DEFAULT app_private.gen_random_bytes(32) NOT NULL
);

CREATE TABLE app_private.lrs_credentials (
    key text NOT NULL,
    tenant_id uuid NOT NULL,
    secret_sha256 text NOT NULL,
    label text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    revoked_at timestamp with time zone,
    CONSTRAINT lrs_credentials_key_check CHECK ((key ~ '^lrs_[0-9a-f]{20}$'::text)),
    CONSTRAINT lrs_credentials_secret_sha256_check CHECK ((secret_sha256 ~ '^[0-9a-f]{64}$'::text))
);

CREATE TABLE app_private.revoked_sessions (
    id bigint NOT NULL,
    tenant_id uuid NOT NULL,
    subject text,
    revoked_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT revoked_sessions_subject_check CHECK (((length(subject) >= 1) AND (length(subject) <= 200)))
);

ALTER TABLE app_private.revoked_sessions ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME app_private.revoked_sessions_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE app_private.revoked_tokens (
    jti text NOT NULL,
    revoked_at timestamp with time zone DEFAULT now() NOT NULL,
    reason text,
    CONSTRAINT revoked_tokens_jti_check CHECK (((length(jti) >= 1) AND (length(jti) <= 200)))
);

CREATE TABLE app_private.schema_migrations (
    version integer NOT NULL,
    name text NOT NULL,
    checksum text NOT NULL,
    applied_at timestamp with time zone DEFAULT now() NOT NULL
);

CREATE TABLE app_private.settings (
    key text NOT NULL,
    value text NOT NULL
);

CREATE TABLE app_private.shared_link_tenants (
    link_id uuid NOT NULL,
    tenant_id uuid NOT NULL
);

CREATE TABLE app_private.tenant_limit_overrides (
    tenant_id uuid NOT NULL,
    concurrency integer,
    api_rate double precision,
    api_burst integer,
    ingest_rate double precision,
    ingest_burst integer,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT tenant_limit_overrides_api_burst_check CHECK (((api_burst >= 1) AND (api_burst <= 1000000))),
    CONSTRAINT tenant_limit_overrides_api_rate_check CHECK (((api_rate > (0)::double precision) AND (api_rate <= (1000000)::double precision))),
    CONSTRAINT tenant_limit_overrides_check CHECK (((api_rate IS NULL) = (api_burst IS NULL))),
    CONSTRAINT tenant_limit_overrides_check1 CHECK (((ingest_rate IS NULL) = (ingest_burst IS NULL))),
    CONSTRAINT tenant_limit_overrides_concurrency_check CHECK (((concurrency >= 1) AND (concurrency <= 10000))),
    CONSTRAINT tenant_limit_overrides_ingest_burst_check CHECK (((ingest_burst >= 1) AND (ingest_burst <= 1000000))),
    CONSTRAINT tenant_limit_overrides_ingest_rate_check CHECK (((ingest_rate > (0)::double precision) AND (ingest_rate <= (1000000)::double precision)))
);

CREATE TABLE app_private.tenant_tiers (
    name text NOT NULL,
    concurrency integer,
    connection_budget integer,
    api_rate double precision,
    api_burst integer,
    ingest_rate double precision,
    ingest_burst integer,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT tenant_tiers_api_burst_check CHECK (((api_burst >= 1) AND (api_burst <= 1000000))),
    CONSTRAINT tenant_tiers_api_rate_check CHECK (((api_rate > (0)::double precision) AND (api_rate <= (1000000)::double precision))),
    CONSTRAINT tenant_tiers_check CHECK (((api_rate IS NULL) = (api_burst IS NULL))),
    CONSTRAINT tenant_tiers_check1 CHECK (((ingest_rate IS NULL) = (ingest_burst IS NULL))),
    CONSTRAINT tenant_tiers_concurrency_check CHECK (((concurrency >= 1) AND (concurrency <= 10000))),
    CONSTRAINT tenant_tiers_connection_budget_check CHECK (((connection_budget >= 1) AND (connection_budget <= 10000))),
    CONSTRAINT tenant_tiers_ingest_burst_check CHECK (((ingest_burst >= 1) AND (ingest_burst <= 1000000))),
    CONSTRAINT tenant_tiers_ingest_rate_check CHECK (((ingest_rate > (0)::double precision) AND (ingest_rate <= (1000000)::double precision))),
    CONSTRAINT tenant_tiers_name_check CHECK (((length(name) >= 1) AND (length(name) <= 64)))
);

CREATE VIEW semantic.courses WITH (security_invoker='true') AS
 SELECT c.id AS course_id,
    c.course_iri,
    c.title,
    c.created_at
   FROM app.courses c;

COMMENT ON VIEW semantic.courses IS 'Courses of this tenant, derived from statements.';

COMMENT ON COLUMN semantic.courses.course_id IS 'The course''s id.';

COMMENT ON COLUMN semantic.courses.course_iri IS 'The course''s activity IRI.';

COMMENT ON COLUMN semantic.courses.title IS 'The course''s display name.';

COMMENT ON COLUMN semantic.courses.created_at IS 'When TenantScope first saw the course.';

CREATE VIEW semantic.daily_active_learners WITH (security_invoker='true') AS
 SELECT d.day,
    d.learners
   FROM app.daily_active_learners d;

COMMENT ON VIEW semantic.daily_active_learners IS 'Roll-up: distinct active learners per UTC day.';

COMMENT ON COLUMN semantic.daily_active_learners.day IS 'The UTC day.';

COMMENT ON COLUMN semantic.daily_active_learners.learners IS 'Distinct learners with at least one statement that day.';

CREATE VIEW semantic.daily_enrollment_outcomes WITH (security_invoker='true') AS
 SELECT o.day,
    o.course_id,
    o.cohort,
    o.region,
    o.days_to_complete,
    o.enrollments
   FROM app.daily_enrollment_outcomes o;

COMMENT ON VIEW semantic.daily_enrollment_outcomes IS 'Roll-up: enrollments per UTC enrollment day, course, cohort, region and days to complete.';

COMMENT ON COLUMN semantic.daily_enrollment_outcomes.day IS 'The UTC day of enrollment.';

COMMENT ON COLUMN semantic.daily_enrollment_outcomes.course_id IS 'The course (semantic.courses).';

COMMENT ON COLUMN semantic.daily_enrollment_outcomes.cohort IS 'The enrollments'' cohort.';

COMMENT ON COLUMN semantic.daily_enrollment_outcomes.region IS 'The learners'' region, if known.';

COMMENT ON COLUMN semantic.daily_enrollment_outcomes.days_to_complete IS 'Whole days from enrollment to completion; null while not completed.';

COMMENT ON COLUMN semantic.daily_enrollment_outcomes.enrollments IS 'Enrollments in this group.';

CREATE VIEW semantic.daily_feature_usage WITH (security_invoker='true') AS
 SELECT f.day,
    f.feature_key,
    f.events,
    f.actors
   FROM app.daily_feature_usage f;

COMMENT ON VIEW semantic.daily_feature_usage IS 'Roll-up: product feature use per UTC day.';

COMMENT ON COLUMN semantic.daily_feature_usage.day IS 'The UTC day.';

COMMENT ON COLUMN semantic.daily_feature_usage.feature_key IS 'The product feature, e.g. reports.export.';

COMMENT ON COLUMN semantic.daily_feature_usage.events IS 'Events of the feature that day.';

COMMENT ON COLUMN semantic.daily_feature_usage.actors IS 'Distinct users of the feature that day.';

CREATE VIEW semantic.daily_learner_activity WITH (security_invoker='true') AS
 SELECT a.day,
    l.id AS learner_id,
    a.statements
   FROM (app.daily_learner_activity a
     LEFT JOIN app.learners l ON (((l.tenant_id = a.tenant_id) AND (l.learner_key = a.learner_hash))));

COMMENT ON VIEW semantic.daily_learner_activity IS 'Roll-up: statements per learner and UTC day (voided statements excluded).';

COMMENT ON COLUMN semantic.daily_learner_activity.day IS 'The UTC day.';

COMMENT ON COLUMN semantic.daily_learner_activity.learner_id IS 'The learner (semantic.learners).';

COMMENT ON COLUMN semantic.daily_learner_activity.statements IS 'Statements the learner made that day.';

CREATE VIEW semantic.enrollments WITH (security_invoker='true') AS
 SELECT e.learner_id,
    e.course_id,
    e.enrolled_at,
    e.completed_at,
    e.cohort,
    e.registration
   FROM app.enrollments e;

COMMENT ON VIEW semantic.enrollments IS 'One row per learner and course: when the learner enrolled and completed.';

COMMENT ON COLUMN semantic.enrollments.learner_id IS 'The learner (semantic.learners).';

COMMENT ON COLUMN semantic.enrollments.course_id IS 'The course (semantic.courses).';

COMMENT ON COLUMN semantic.enrollments.enrolled_at IS 'Registration or first activity in the course.';

COMMENT ON COLUMN semantic.enrollments.completed_at IS 'First completion of the course; null while not completed.';

COMMENT ON COLUMN semantic.enrollments.cohort IS 'The cohort: a context extension''s, else the enrollment month (YYYY-MM).';

COMMENT ON COLUMN semantic.enrollments.registration IS 'The xAPI registration of the enrollment, when given.';

CREATE VIEW semantic.feature_events WITH (security_invoker='true') AS
 SELECT f.id AS event_id,
    f.feature_key,
    f.occurred_at,
    f.received_at
   FROM app.feature_events f;

COMMENT ON VIEW semantic.feature_events IS 'Product events: which feature was used when (the acting user is not exposed).';

COMMENT ON COLUMN semantic.feature_events.event_id IS 'The event''s id.';

COMMENT ON COLUMN semantic.feature_events.feature_key IS 'The product feature.';

COMMENT ON COLUMN semantic.feature_events.occurred_at IS 'When the feature was used.';

COMMENT ON COLUMN semantic.feature_events.received_at IS 'When TenantScope received the event.';

CREATE VIEW semantic.learners WITH (security_invoker='true') AS
 SELECT l.id AS learner_id,
    l.display_name,
    l.region,
    l.first_seen,
    l.last_seen
   FROM app.learners l;

COMMENT ON VIEW semantic.learners IS 'Learners of this tenant, derived from statements.';

COMMENT ON COLUMN semantic.learners.learner_id IS 'The learner''s random id in this tenant.';

COMMENT ON COLUMN semantic.learners.display_name IS 'The learner''s name as statements gave it.';

COMMENT ON COLUMN semantic.learners.region IS 'The learner''s region, if statements named one.';

COMMENT ON COLUMN semantic.learners.first_seen IS 'The learner''s first statement.';

COMMENT ON COLUMN semantic.learners.last_seen IS 'The learner''s latest statement.';

CREATE VIEW semantic.monthly_completion_times WITH (security_invoker='true') AS
 SELECT m.month,
    m.course_id,
    m.region,
    m.days_to_complete,
    m.completions
   FROM app.monthly_completion_times m;

COMMENT ON VIEW semantic.monthly_completion_times IS 'Roll-up: completed enrollments per UTC enrollment month, course, region and days to complete (semantic.daily_enrollment_outcomes summed by month).';

COMMENT ON COLUMN semantic.monthly_completion_times.month IS 'The first day of the UTC month of enrollment; the current month holds the days rolled up so far.';

COMMENT ON COLUMN semantic.monthly_completion_times.course_id IS 'The course (semantic.courses).';

COMMENT ON COLUMN semantic.monthly_completion_times.region IS 'The learners'' region, if known.';

COMMENT ON COLUMN semantic.monthly_completion_times.days_to_complete IS 'Whole days from enrollment to completion.';

COMMENT ON COLUMN semantic.monthly_completion_times.completions IS 'Completed enrollments in this group.';

CREATE VIEW semantic.monthly_course_outcomes WITH (security_invoker='true') AS
 SELECT m.month,
    m.course_id,
    m.cohort,
    m.region,
    m.enrolled,
    m.completed
   FROM app.monthly_course_outcomes m;

COMMENT ON VIEW semantic.monthly_course_outcomes IS 'Roll-up: enrollments and completions per UTC enrollment month, course, cohort and region (semantic.daily_enrollment_outcomes summed by month).';

COMMENT ON COLUMN semantic.monthly_course_outcomes.month IS 'The first day of the UTC month of enrollment; the current month holds the days rolled up so far.';

COMMENT ON COLUMN semantic.monthly_course_outcomes.course_id IS 'The course (semantic.courses).';

COMMENT ON COLUMN semantic.monthly_course_outcomes.cohort IS 'The enrollments'' cohort.';

COMMENT ON COLUMN semantic.monthly_course_outcomes.region IS 'The learners'' region, if known.';

COMMENT ON COLUMN semantic.monthly_course_outcomes.enrolled IS 'Enrollments in this group.';

COMMENT ON COLUMN semantic.monthly_course_outcomes.completed IS 'Of them, the ones completed.';

CREATE VIEW semantic.statements WITH (security_invoker='true') AS
 SELECT s.id AS statement_id,
    l.id AS learner_id,
    s.verb_id,
    s.object_id,
    s.object_type,
    s.course_iri,
    s.course_title,
    s.registration,
    s."timestamp" AS occurred_at,
    s.stored AS stored_at,
    s.voided,
    s.voids AS voids_statement_id,
    s.completes_course,
    s.cohort,
    s.learner_region AS region
   FROM (app.statements s
     LEFT JOIN app.learners l ON (((l.tenant_id = s.tenant_id) AND (l.actor_key = s.actor_key))));

COMMENT ON VIEW semantic.statements IS 'xAPI statements received by this tenant''s learning record store, one row per statement.';

COMMENT ON COLUMN semantic.statements.statement_id IS 'The statement''s xAPI id.';

COMMENT ON COLUMN semantic.statements.learner_id IS 'The learner who made it (semantic.learners); null until the learner is derived.';

COMMENT ON COLUMN semantic.statements.verb_id IS 'The xAPI verb IRI, e.g. http://adlnet.gov/expapi/verbs/completed.';

COMMENT ON COLUMN semantic.statements.object_id IS 'The IRI of the activity the statement is about.';

COMMENT ON COLUMN semantic.statements.object_type IS 'The activity type IRI, when the statement gave one.';

COMMENT ON COLUMN semantic.statements.course_iri IS 'The course the activity belongs to (the object or its parent/grouping course).';

COMMENT ON COLUMN semantic.statements.course_title IS 'The course''s display name as the statement gave it.';

COMMENT ON COLUMN semantic.statements.registration IS 'The xAPI registration (one attempt at a course), when given.';

COMMENT ON COLUMN semantic.statements.occurred_at IS 'When the experience happened (xAPI timestamp).';

COMMENT ON COLUMN semantic.statements.stored_at IS 'When TenantScope stored the statement.';

COMMENT ON COLUMN semantic.statements.voided IS 'True once a later statement voided this one; most analyses exclude voided rows.';

COMMENT ON COLUMN semantic.statements.voids_statement_id IS 'For a voiding statement: the id of the statement it voids; null otherwise.';

COMMENT ON COLUMN semantic.statements.completes_course IS 'True when the statement completes its course (completed/passed on the course).';

COMMENT ON COLUMN semantic.statements.cohort IS 'The cohort a context extension named, if any.';

COMMENT ON COLUMN semantic.statements.region IS 'The learner''s region a context extension named, if any.';

ALTER TABLE ONLY app.audit_log
    ADD CONSTRAINT audit_log_pkey PRIMARY KEY (seq);

ALTER TABLE ONLY app.courses
    ADD CONSTRAINT courses_pkey PRIMARY KEY (tenant_id, id);

ALTER TABLE ONLY app.courses
    ADD CONSTRAINT courses_tenant_id_course_iri_key UNIQUE (tenant_id, course_iri);

ALTER TABLE ONLY app.custom_reports
    ADD CONSTRAINT custom_reports_pkey PRIMARY KEY (tenant_id, name);

ALTER TABLE ONLY app.daily_active_learners
    ADD CONSTRAINT daily_active_learners_pkey PRIMARY KEY (tenant_id, day);

ALTER TABLE ONLY app.daily_enrollment_outcomes
    ADD CONSTRAINT daily_enrollment_outcomes_tenant_id_day_course_id_cohort_re_key UNIQUE NULLS NOT DISTINCT (tenant_id, day, course_id, cohort, region, days_to_complete);

ALTER TABLE ONLY app.daily_feature_usage
    ADD CONSTRAINT daily_feature_usage_pkey PRIMARY KEY (tenant_id, day, feature_key);

ALTER TABLE ONLY app.daily_learner_activity
    ADD CONSTRAINT daily_learner_activity_pkey PRIMARY KEY (tenant_id, day, learner_hash);

ALTER TABLE ONLY app.enrollments
    ADD CONSTRAINT enrollments_pkey PRIMARY KEY (tenant_id, learner_id, course_id);

ALTER TABLE ONLY app.export_jobs
    ADD CONSTRAINT export_jobs_pkey PRIMARY KEY (tenant_id, id);

ALTER TABLE ONLY app.export_jobs
    ADD CONSTRAINT export_jobs_tenant_id_schedule_id_slot_key UNIQUE (tenant_id, schedule_id, slot);

ALTER TABLE ONLY app.export_removals
    ADD CONSTRAINT export_removals_pkey PRIMARY KEY (tenant_id, job_id);

ALTER TABLE ONLY app.export_schedules
    ADD CONSTRAINT export_schedules_pkey PRIMARY KEY (tenant_id, id);

ALTER TABLE ONLY app.feature_events
    ADD CONSTRAINT feature_events_pkey PRIMARY KEY (tenant_id, id);

ALTER TABLE ONLY app.learner_active_days
    ADD CONSTRAINT learner_active_days_pkey PRIMARY KEY (tenant_id, learner_hash);

ALTER TABLE ONLY app.learners_by_last_day
    ADD CONSTRAINT learners_by_last_day_pkey PRIMARY KEY (tenant_id, last_day);

ALTER TABLE ONLY app.learners
    ADD CONSTRAINT learners_pkey PRIMARY KEY (tenant_id, id);

ALTER TABLE ONLY app.learners
    ADD CONSTRAINT learners_tenant_id_actor_key_key UNIQUE (tenant_id, actor_key);

ALTER TABLE ONLY app.learning_facts_queue
    ADD CONSTRAINT learning_facts_queue_pkey PRIMARY KEY (tenant_id, seq);

ALTER TABLE ONLY app.monthly_cohort_outcomes_all_courses
    ADD CONSTRAINT monthly_cohort_outcomes_all_courses_pkey PRIMARY KEY (tenant_id, month, cohort) INCLUDE (enrolled, completed);

ALTER TABLE ONLY app.monthly_completion_times_all_courses
    ADD CONSTRAINT monthly_completion_times_all_courses_pkey PRIMARY KEY (tenant_id, month, days_to_complete) INCLUDE (completions);

ALTER TABLE ONLY app.monthly_completion_times_all_regions
    ADD CONSTRAINT monthly_completion_times_all_regions_pkey PRIMARY KEY (tenant_id, month, course_id, days_to_complete) INCLUDE (completions);

ALTER TABLE ONLY app.monthly_completion_times
    ADD CONSTRAINT monthly_completion_times_tenant_id_month_course_id_region_d_key UNIQUE NULLS NOT DISTINCT (tenant_id, month, course_id, region, days_to_complete);

ALTER TABLE ONLY app.monthly_course_outcomes_all_regions
    ADD CONSTRAINT monthly_course_outcomes_all_regions_pkey PRIMARY KEY (tenant_id, month, course_id, cohort) INCLUDE (enrolled, completed);

ALTER TABLE ONLY app.monthly_course_outcomes
    ADD CONSTRAINT monthly_course_outcomes_tenant_id_month_course_id_cohort_re_key UNIQUE NULLS NOT DISTINCT (tenant_id, month, course_id, cohort, region);

ALTER TABLE ONLY app.rollup_queue
    ADD CONSTRAINT rollup_queue_pkey PRIMARY KEY (tenant_id, seq);

ALTER TABLE ONLY app.rollup_state
    ADD CONSTRAINT rollup_state_pkey PRIMARY KEY (tenant_id);

ALTER TABLE ONLY app.saved_views
    ADD CONSTRAINT saved_views_pkey PRIMARY KEY (tenant_id, id);

ALTER TABLE ONLY app.saved_views
    ADD CONSTRAINT saved_views_tenant_id_name_key UNIQUE (tenant_id, name);

ALTER TABLE ONLY app.shared_links
    ADD CONSTRAINT shared_links_pkey PRIMARY KEY (tenant_id, id);

ALTER TABLE ONLY app.statements
    ADD CONSTRAINT statements_pkey PRIMARY KEY (tenant_id, id);

ALTER TABLE ONLY app.tenants
    ADD CONSTRAINT tenants_pkey PRIMARY KEY (id);

ALTER TABLE ONLY app.tenants
    ADD CONSTRAINT tenants_slug_key UNIQUE (slug);

ALTER TABLE ONLY app.xapi_attachments
    ADD CONSTRAINT xapi_attachments_pkey PRIMARY KEY (tenant_id, sha2);

ALTER TABLE ONLY app.xapi_documents
    ADD CONSTRAINT xapi_documents_pkey PRIMARY KEY (tenant_id, kind, activity_id, agent_key, registration, document_id);

ALTER TABLE ONLY app_private.clusters
    ADD CONSTRAINT clusters_pkey PRIMARY KEY (name);

ALTER TABLE ONLY app_private.departed_tenants
    ADD CONSTRAINT departed_tenants_pkey PRIMARY KEY (tenant_id);

ALTER TABLE ONLY app_private.learner_key_secrets
    ADD CONSTRAINT learner_key_secrets_pkey PRIMARY KEY (tenant_id);

ALTER TABLE ONLY app_private.lrs_credentials
    ADD CONSTRAINT lrs_credentials_pkey PRIMARY KEY (key);

ALTER TABLE ONLY app_private.revoked_sessions
    ADD CONSTRAINT revoked_sessions_pkey PRIMARY KEY (id);

ALTER TABLE ONLY app_private.revoked_tokens
    ADD CONSTRAINT revoked_tokens_pkey PRIMARY KEY (jti);

ALTER TABLE ONLY app_private.schema_migrations
    ADD CONSTRAINT schema_migrations_pkey PRIMARY KEY (version);

ALTER TABLE ONLY app_private.settings
    ADD CONSTRAINT settings_pkey PRIMARY KEY (key);

ALTER TABLE ONLY app_private.shared_link_tenants
    ADD CONSTRAINT shared_link_tenants_pkey PRIMARY KEY (link_id);

ALTER TABLE ONLY app_private.tenant_limit_overrides
    ADD CONSTRAINT tenant_limit_overrides_pkey PRIMARY KEY (tenant_id);

ALTER TABLE ONLY app_private.tenant_tiers
    ADD CONSTRAINT tenant_tiers_pkey PRIMARY KEY (name);

CREATE INDEX audit_log_scope_tenant ON app.audit_log USING btree (scope_tenant_id, seq);

CREATE INDEX daily_learner_activity_tenant_learner ON app.daily_learner_activity USING btree (tenant_id, learner_hash);

CREATE INDEX enrollments_tenant_cohort ON app.enrollments USING btree (tenant_id, cohort);

CREATE INDEX enrollments_tenant_course ON app.enrollments USING btree (tenant_id, course_id);

CREATE INDEX enrollments_tenant_enrolled_at ON app.enrollments USING btree (tenant_id, enrolled_at);

CREATE INDEX export_jobs_open ON app.export_jobs USING btree (tenant_id, created_at) WHERE (state = ANY (ARRAY['queued'::text, 'running'::text]));

CREATE INDEX export_jobs_tenant_created ON app.export_jobs USING btree (tenant_id, created_at DESC);

CREATE INDEX feature_events_tenant_occurred ON app.feature_events USING btree (tenant_id, occurred_at);

CREATE INDEX learner_active_days_tenant_last_day ON app.learner_active_days USING btree (tenant_id, last_day);

CREATE INDEX learners_tenant_learner_key ON app.learners USING btree (tenant_id, learner_key);

CREATE INDEX shared_links_tenant_view ON app.shared_links USING btree (tenant_id, view_id);

CREATE INDEX statements_tenant_actor_stored ON app.statements USING btree (tenant_id, actor_key, stored);

CREATE INDEX statements_tenant_course ON app.statements USING btree (tenant_id, course_iri, "timestamp", id) WHERE (course_iri IS NOT NULL);

CREATE INDEX statements_tenant_object ON app.statements USING btree (tenant_id, object_id);

CREATE INDEX statements_tenant_registration ON app.statements USING btree (tenant_id, registration) WHERE (registration IS NOT NULL);

CREATE INDEX statements_tenant_stored ON app.statements USING btree (tenant_id, stored);

CREATE INDEX statements_tenant_timestamp ON app.statements USING btree (tenant_id, "timestamp");

CREATE INDEX statements_tenant_verb ON app.statements USING btree (tenant_id, verb_id, stored);

CREATE INDEX statements_tenant_voiding_stored ON app.statements USING btree (tenant_id, stored) WHERE (voids IS NOT NULL);

CREATE INDEX statements_tenant_voids ON app.statements USING btree (tenant_id, voids) WHERE (voids IS NOT NULL);

CREATE INDEX lrs_credentials_tenant ON app_private.lrs_credentials USING btree (tenant_id);

CREATE INDEX revoked_sessions_revoked_at ON app_private.revoked_sessions USING btree (revoked_at);

CREATE INDEX revoked_tokens_revoked_at ON app_private.revoked_tokens USING btree (revoked_at);

CREATE TRIGGER audit_log_append_only BEFORE DELETE OR UPDATE ON app.audit_log FOR EACH ROW EXECUTE FUNCTION app_private.refuse_audit_change();

CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON app.audit_log FOR EACH STATEMENT EXECUTE FUNCTION app_private.refuse_audit_change();

CREATE TRIGGER learners_by_last_day_after_delete AFTER DELETE ON app.learner_active_days REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION app.count_learners_by_last_day();

CREATE TRIGGER learners_by_last_day_after_insert AFTER INSERT ON app.learner_active_days REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION app.count_learners_by_last_day();

CREATE TRIGGER learners_by_last_day_after_update AFTER UPDATE ON app.learner_active_days REFERENCING OLD TABLE AS removed NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION app.count_learners_by_last_day();

CREATE TRIGGER learners_learner_key BEFORE INSERT OR UPDATE OF actor_key ON app.learners FOR EACH ROW EXECUTE FUNCTION app_private.set_learner_key();

CREATE TRIGGER monthly_sums_after_delete AFTER DELETE ON app.daily_enrollment_outcomes REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION app.sum_enrollment_outcomes_by_month();

CREATE TRIGGER monthly_sums_after_insert AFTER INSERT ON app.daily_enrollment_outcomes REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION app.sum_enrollment_outcomes_by_month();

CREATE TRIGGER monthly_sums_after_update AFTER UPDATE ON app.daily_enrollment_outcomes REFERENCING OLD TABLE AS removed NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION app.sum_enrollment_outcomes_by_month();

CREATE TRIGGER shared_links_index AFTER INSERT ON app.shared_links FOR EACH ROW EXECUTE FUNCTION app_private.index_shared_link();

CREATE TRIGGER tenants_learner_key_secret AFTER INSERT ON app.tenants FOR EACH ROW EXECUTE FUNCTION app_private.create_learner_key_secret();

CREATE TRIGGER tenants_residency BEFORE INSERT OR UPDATE OF cluster, region ON app.tenants FOR EACH ROW EXECUTE FUNCTION app_private.check_tenant_residency();

CREATE TRIGGER clusters_residency BEFORE UPDATE OF region ON app_private.clusters FOR EACH ROW EXECUTE FUNCTION app_private.check_cluster_residency();

ALTER TABLE ONLY app.courses
    ADD CONSTRAINT courses_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES app.tenants(id) ON DELETE CASCADE;

ALTER TABLE ONLY app.custom_reports
    ADD CONSTRAINT custom_reports_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES app.tenants(id) ON DELETE CASCADE;

ALTER TABLE ONLY app.daily_active_learners
    ADD CONSTRAINT daily_active_learners_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES app.tenants(id) ON DELETE CASCADE;

ALTER TABLE ONLY app.daily_enrollment_outcomes
    ADD CONSTRAINT daily_enrollment_outcomes_tenant_id_course_id_fkey FOREIGN KEY (tenant_id, course_id) REFERENCES app.courses(tenant_id, id) ON DELETE CASCADE;

ALTER TABLE ONLY app.daily_enrollment_outcomes
    ADD CONSTRAINT daily_enrollment_outcomes_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES app.tenants(id) ON DELETE CASCADE;

ALTER TABLE ONLY app.daily_feature_usage
    ADD CONSTRAINT daily_feature_usage_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES app.tenants(id) ON DELETE CASCADE;

ALTER TABLE ONLY app.daily_learner_activity
    ADD CONSTRAINT daily_learner_activity_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES app.tenants(id) ON DELETE CASCADE;

ALTER TABLE ONLY app.enrollments
    ADD CONSTRAINT enrollments_tenant_id_course_id_fkey FOREIGN KEY (tenant_id, course_id) REFERENCES app.courses(tenant_id, id) ON DELETE CASCADE;

ALTER TABLE ONLY app.enrollments
    ADD CONSTRAINT enrollments_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES app.tenants(id) ON DELETE CASCADE;

ALTER TABLE ONLY app.enrollments
    ADD CONSTRAINT enrollments_tenant_id_learner_id_fkey FOREIGN KEY (tenant_id, learner_id) REFERENCES app.learners(tenant_id, id) ON DELETE CASCADE;

ALTER TABLE ONLY app.export_jobs
    ADD CONSTRAINT export_jobs_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES app.tenants(id) ON DELETE CASCADE;

ALTER TABLE ONLY app.export_removals
    ADD CONSTRAINT export_removals_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES app.tenants(id) ON DELETE CASCADE;

ALTER TABLE ONLY app.export_schedules
    ADD CONSTRAINT export_schedules_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES app.tenants(id) ON DELETE CASCADE;

ALTER TABLE ONLY app.feature_events
    ADD CONSTRAINT feature_events_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES app.tenants(id) ON DELETE CASCADE;

ALTER TABLE ONLY app.learner_active_days
    ADD CONSTRAINT learner_active_days_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES app.tenants(id) ON DELETE CASCADE;

ALTER TABLE ONLY app.learners_by_last_day
    ADD CONSTRAINT learners_by_last_day_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES app.tenants(id) ON DELETE CASCADE;

ALTER TABLE ONLY app.learners
    ADD CONSTRAINT learners_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES app.tenants(id) ON DELETE CASCADE;

ALTER TABLE ONLY app.learning_facts_queue
    ADD CONSTRAINT learning_facts_queue_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES app.tenants(id) ON DELETE CASCADE;

ALTER TABLE ONLY app.monthly_cohort_outcomes_all_courses
    ADD CONSTRAINT monthly_cohort_outcomes_all_courses_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES app.tenants(id) ON DELETE CASCADE;

ALTER TABLE ONLY app.monthly_completion_times_all_courses
    ADD CONSTRAINT monthly_completion_times_all_courses_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES app.tenants(id) ON DELETE CASCADE;

ALTER TABLE ONLY app.monthly_completion_times_all_regions
    ADD CONSTRAINT monthly_completion_times_all_regions_tenant_id_course_id_fkey FOREIGN KEY (tenant_id, course_id) REFERENCES app.courses(tenant_id, id) ON DELETE CASCADE;

ALTER TABLE ONLY app.monthly_completion_times_all_regions
    ADD CONSTRAINT monthly_completion_times_all_regions_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES app.tenants(id) ON DELETE CASCADE;

ALTER TABLE ONLY app.monthly_completion_times
    ADD CONSTRAINT monthly_completion_times_tenant_id_course_id_fkey FOREIGN KEY (tenant_id, course_id) REFERENCES app.courses(tenant_id, id) ON DELETE CASCADE;

ALTER TABLE ONLY app.monthly_completion_times
    ADD CONSTRAINT monthly_completion_times_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES app.tenants(id) ON DELETE CASCADE;

ALTER TABLE ONLY app.monthly_course_outcomes_all_regions
    ADD CONSTRAINT monthly_course_outcomes_all_regions_tenant_id_course_id_fkey FOREIGN KEY (tenant_id, course_id) REFERENCES app.courses(tenant_id, id) ON DELETE CASCADE;

ALTER TABLE ONLY app.monthly_course_outcomes_all_regions
    ADD CONSTRAINT monthly_course_outcomes_all_regions_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES app.tenants(id) ON DELETE CASCADE;

ALTER TABLE ONLY app.monthly_course_outcomes
    ADD CONSTRAINT monthly_course_outcomes_tenant_id_course_id_fkey FOREIGN KEY (tenant_id, course_id) REFERENCES app.courses(tenant_id, id) ON DELETE CASCADE;

ALTER TABLE ONLY app.monthly_course_outcomes
    ADD CONSTRAINT monthly_course_outcomes_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES app.tenants(id) ON DELETE CASCADE;

ALTER TABLE ONLY app.rollup_queue
    ADD CONSTRAINT rollup_queue_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES app.tenants(id) ON DELETE CASCADE;

ALTER TABLE ONLY app.rollup_state
    ADD CONSTRAINT rollup_state_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES app.tenants(id) ON DELETE CASCADE;

ALTER TABLE ONLY app.saved_views
    ADD CONSTRAINT saved_views_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES app.tenants(id) ON DELETE CASCADE;

ALTER TABLE ONLY app.shared_links
    ADD CONSTRAINT shared_links_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES app.tenants(id) ON DELETE CASCADE;

ALTER TABLE ONLY app.shared_links
    ADD CONSTRAINT shared_links_tenant_id_view_id_fkey FOREIGN KEY (tenant_id, view_id) REFERENCES app.saved_views(tenant_id, id) ON DELETE CASCADE;

ALTER TABLE ONLY app.statements
    ADD CONSTRAINT statements_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES app.tenants(id) ON DELETE CASCADE;

ALTER TABLE ONLY app.tenants
    ADD CONSTRAINT tenants_cluster_fkey FOREIGN KEY (cluster) REFERENCES app_private.clusters(name);

ALTER TABLE ONLY app.tenants
    ADD CONSTRAINT tenants_tier_fkey FOREIGN KEY (tier) REFERENCES app_private.tenant_tiers(name) ON UPDATE CASCADE;

ALTER TABLE ONLY app.xapi_attachments
    ADD CONSTRAINT xapi_attachments_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES app.tenants(id) ON DELETE CASCADE;

ALTER TABLE ONLY app.xapi_documents
    ADD CONSTRAINT xapi_documents_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES app.tenants(id) ON DELETE CASCADE;

ALTER TABLE ONLY app_private.learner_key_secrets
    ADD CONSTRAINT learner_key_secrets_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES app.tenants(id) ON DELETE CASCADE;

ALTER TABLE ONLY app_private.lrs_credentials
    ADD CONSTRAINT lrs_credentials_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES app.tenants(id) ON DELETE CASCADE;

ALTER TABLE ONLY app_private.revoked_sessions
    ADD CONSTRAINT revoked_sessions_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES app.tenants(id) ON DELETE CASCADE;

ALTER TABLE ONLY app_private.shared_link_tenants
    ADD CONSTRAINT shared_link_tenants_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES app.tenants(id) ON DELETE CASCADE;

ALTER TABLE ONLY app_private.tenant_limit_overrides
    ADD CONSTRAINT tenant_limit_overrides_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES app.tenants(id) ON DELETE CASCADE;

CREATE POLICY aggregates_read ON app.daily_learner_activity FOR SELECT TO tenantscope_aggregates USING (true);

CREATE POLICY aggregates_read ON app.export_jobs FOR SELECT TO tenantscope_aggregates USING (true);

CREATE POLICY aggregates_read ON app.export_removals FOR SELECT TO tenantscope_aggregates USING (true);

CREATE POLICY aggregates_read ON app.export_schedules FOR SELECT TO tenantscope_aggregates USING (true);

CREATE POLICY aggregates_read ON app.learner_active_days FOR SELECT TO tenantscope_aggregates USING (true);

CREATE POLICY aggregates_read ON app.learning_facts_queue FOR SELECT TO tenantscope_aggregates USING (true);

CREATE POLICY aggregates_read ON app.rollup_queue FOR SELECT TO tenantscope_aggregates USING (true);

CREATE POLICY aggregates_read ON app.rollup_state FOR SELECT TO tenantscope_aggregates USING (true);

ALTER TABLE app.audit_log ENABLE ROW LEVEL SECURITY;

ALTER TABLE app.courses ENABLE ROW LEVEL SECURITY;

ALTER TABLE app.custom_reports ENABLE ROW LEVEL SECURITY;

ALTER TABLE app.daily_active_learners ENABLE ROW LEVEL SECURITY;

ALTER TABLE app.daily_enrollment_outcomes ENABLE ROW LEVEL SECURITY;

ALTER TABLE app.daily_feature_usage ENABLE ROW LEVEL SECURITY;

ALTER TABLE app.daily_learner_activity ENABLE ROW LEVEL SECURITY;

ALTER TABLE app.enrollments ENABLE ROW LEVEL SECURITY;

ALTER TABLE app.export_jobs ENABLE ROW LEVEL SECURITY;

ALTER TABLE app.export_removals ENABLE ROW LEVEL SECURITY;

ALTER TABLE app.export_schedules ENABLE ROW LEVEL SECURITY;

ALTER TABLE app.feature_events ENABLE ROW LEVEL SECURITY;

ALTER TABLE app.learner_active_days ENABLE ROW LEVEL SECURITY;

ALTER TABLE app.learners ENABLE ROW LEVEL SECURITY;

ALTER TABLE app.learners_by_last_day ENABLE ROW LEVEL SECURITY;

ALTER TABLE app.learning_facts_queue ENABLE ROW LEVEL SECURITY;

ALTER TABLE app.monthly_cohort_outcomes_all_courses ENABLE ROW LEVEL SECURITY;

ALTER TABLE app.monthly_completion_times ENABLE ROW LEVEL SECURITY;

ALTER TABLE app.monthly_completion_times_all_courses ENABLE ROW LEVEL SECURITY;

ALTER TABLE app.monthly_completion_times_all_regions ENABLE ROW LEVEL SECURITY;

ALTER TABLE app.monthly_course_outcomes ENABLE ROW LEVEL SECURITY;

ALTER TABLE app.monthly_course_outcomes_all_regions ENABLE ROW LEVEL SECURITY;

CREATE POLICY owner_audit ON app.audit_log TO tenantscope USING (true) WITH CHECK (true);

CREATE POLICY owner_directory ON app.tenants TO tenantscope USING (true) WITH CHECK (true);

CREATE POLICY platform_directory ON app.tenants FOR SELECT TO tenantscope_platform USING (true);

CREATE POLICY platform_read ON app.daily_active_learners FOR SELECT TO tenantscope_platform USING (true);

CREATE POLICY platform_read ON app.daily_feature_usage FOR SELECT TO tenantscope_platform USING (true);

ALTER TABLE app.rollup_queue ENABLE ROW LEVEL SECURITY;

ALTER TABLE app.rollup_state ENABLE ROW LEVEL SECURITY;

ALTER TABLE app.saved_views ENABLE ROW LEVEL SECURITY;

ALTER TABLE app.shared_links ENABLE ROW LEVEL SECURITY;

ALTER TABLE app.statements ENABLE ROW LEVEL SECURITY;

CREATE POLICY tenant_isolation ON app.courses USING ((tenant_id = ( SELECT app.current_tenant() AS current_tenant))) WITH CHECK ((tenant_id = ( SELECT app.current_tenant() AS current_tenant)));

CREATE POLICY tenant_isolation ON app.custom_reports USING ((tenant_id = ( SELECT app.current_tenant() AS current_tenant))) WITH CHECK ((tenant_id = ( SELECT app.current_tenant() AS current_tenant)));

CREATE POLICY tenant_isolation ON app.daily_active_learners USING ((tenant_id = ( SELECT app.current_tenant() AS current_tenant))) WITH CHECK ((tenant_id = ( SELECT app.current_tenant() AS current_tenant)));

CREATE POLICY tenant_isolation ON app.daily_enrollment_outcomes USING ((tenant_id = ( SELECT app.current_tenant() AS current_tenant))) WITH CHECK ((tenant_id = ( SELECT app.current_tenant() AS current_tenant)));

CREATE POLICY tenant_isolation ON app.daily_feature_usage USING ((tenant_id = ( SELECT app.current_tenant() AS current_tenant))) WITH CHECK ((tenant_id = ( SELECT app.current_tenant() AS current_tenant)));

CREATE POLICY tenant_isolation ON app.daily_learner_activity USING ((tenant_id = ( SELECT app.current_tenant() AS current_tenant))) WITH CHECK ((tenant_id = ( SELECT app.current_tenant() AS current_tenant)));

CREATE POLICY tenant_isolation ON app.enrollments USING ((tenant_id = ( SELECT app.current_tenant() AS current_tenant))) WITH CHECK ((tenant_id = ( SELECT app.current_tenant() AS current_tenant)));

CREATE POLICY tenant_isolation ON app.export_jobs USING ((tenant_id = ( SELECT app.current_tenant() AS current_tenant))) WITH CHECK ((tenant_id = ( SELECT app.current_tenant() AS current_tenant)));

CREATE POLICY tenant_isolation ON app.export_removals USING ((tenant_id = ( SELECT app.current_tenant() AS current_tenant))) WITH CHECK ((tenant_id = ( SELECT app.current_tenant() AS current_tenant)));

CREATE POLICY tenant_isolation ON app.export_schedules USING ((tenant_id = ( SELECT app.current_tenant() AS current_tenant))) WITH CHECK ((tenant_id = ( SELECT app.current_tenant() AS current_tenant)));

CREATE POLICY tenant_isolation ON app.feature_events USING ((tenant_id = ( SELECT app.current_tenant() AS current_tenant))) WITH CHECK ((tenant_id = ( SELECT app.current_tenant() AS current_tenant)));

CREATE POLICY tenant_isolation ON app.learner_active_days USING ((tenant_id = ( SELECT app.current_tenant() AS current_tenant))) WITH CHECK ((tenant_id = ( SELECT app.current_tenant() AS current_tenant)));

CREATE POLICY tenant_isolation ON app.learners USING ((tenant_id = ( SELECT app.current_tenant() AS current_tenant))) WITH CHECK ((tenant_id = ( SELECT app.current_tenant() AS current_tenant)));

CREATE POLICY tenant_isolation ON app.learners_by_last_day USING ((tenant_id = ( SELECT app.current_tenant() AS current_tenant))) WITH CHECK ((tenant_id = ( SELECT app.current_tenant() AS current_tenant)));

CREATE POLICY tenant_isolation ON app.learning_facts_queue USING ((tenant_id = ( SELECT app.current_tenant() AS current_tenant))) WITH CHECK ((tenant_id = ( SELECT app.current_tenant() AS current_tenant)));

CREATE POLICY tenant_isolation ON app.monthly_cohort_outcomes_all_courses USING ((tenant_id = ( SELECT app.current_tenant() AS current_tenant))) WITH CHECK ((tenant_id = ( SELECT app.current_tenant() AS current_tenant)));

CREATE POLICY tenant_isolation ON app.monthly_completion_times USING ((tenant_id = ( SELECT app.current_tenant() AS current_tenant))) WITH CHECK ((tenant_id = ( SELECT app.current_tenant() AS current_tenant)));

CREATE POLICY tenant_isolation ON app.monthly_completion_times_all_courses USING ((tenant_id = ( SELECT app.current_tenant() AS current_tenant))) WITH CHECK ((tenant_id = ( SELECT app.current_tenant() AS current_tenant)));

CREATE POLICY tenant_isolation ON app.monthly_completion_times_all_regions USING ((tenant_id = ( SELECT app.current_tenant() AS current_tenant))) WITH CHECK ((tenant_id = ( SELECT app.current_tenant() AS current_tenant)));

CREATE POLICY tenant_isolation ON app.monthly_course_outcomes USING ((tenant_id = ( SELECT app.current_tenant() AS current_tenant))) WITH CHECK ((tenant_id = ( SELECT app.current_tenant() AS current_tenant)));

CREATE POLICY tenant_isolation ON app.monthly_course_outcomes_all_regions USING ((tenant_id = ( SELECT app.current_tenant() AS current_tenant))) WITH CHECK ((tenant_id = ( SELECT app.current_tenant() AS current_tenant)));

CREATE POLICY tenant_isolation ON app.rollup_queue USING ((tenant_id = ( SELECT app.current_tenant() AS current_tenant))) WITH CHECK ((tenant_id = ( SELECT app.current_tenant() AS current_tenant)));

CREATE POLICY tenant_isolation ON app.rollup_state USING ((tenant_id = ( SELECT app.current_tenant() AS current_tenant))) WITH CHECK ((tenant_id = ( SELECT app.current_tenant() AS current_tenant)));

CREATE POLICY tenant_isolation ON app.saved_views USING ((tenant_id = ( SELECT app.current_tenant() AS current_tenant))) WITH CHECK ((tenant_id = ( SELECT app.current_tenant() AS current_tenant)));

CREATE POLICY tenant_isolation ON app.shared_links USING ((tenant_id = ( SELECT app.current_tenant() AS current_tenant))) WITH CHECK ((tenant_id = ( SELECT app.current_tenant() AS current_tenant)));

CREATE POLICY tenant_isolation ON app.statements USING ((tenant_id = ( SELECT app.current_tenant() AS current_tenant))) WITH CHECK ((tenant_id = ( SELECT app.current_tenant() AS current_tenant)));

CREATE POLICY tenant_isolation ON app.xapi_attachments USING ((tenant_id = ( SELECT app.current_tenant() AS current_tenant))) WITH CHECK ((tenant_id = ( SELECT app.current_tenant() AS current_tenant)));

CREATE POLICY tenant_isolation ON app.xapi_documents USING ((tenant_id = ( SELECT app.current_tenant() AS current_tenant))) WITH CHECK ((tenant_id = ( SELECT app.current_tenant() AS current_tenant)));

CREATE POLICY tenant_self ON app.tenants FOR SELECT USING ((id = ( SELECT app.current_tenant() AS current_tenant)));

ALTER TABLE app.tenants ENABLE ROW LEVEL SECURITY;

ALTER TABLE app.xapi_attachments ENABLE ROW LEVEL SECURITY;

ALTER TABLE app.xapi_documents ENABLE ROW LEVEL SECURITY;

GRANT USAGE ON SCHEMA app TO tenantscope_tenant;
GRANT USAGE ON SCHEMA app TO tenantscope_platform;
GRANT USAGE ON SCHEMA app TO tenantscope_app;
GRANT USAGE ON SCHEMA app TO tenantscope_aggregates;

GRANT USAGE ON SCHEMA gate TO tenantscope_tenant;
GRANT USAGE ON SCHEMA gate TO tenantscope_app_tenant;

GRANT USAGE ON SCHEMA semantic TO tenantscope_sandbox;

REVOKE ALL ON FUNCTION app.active_learner_totals(days integer) FROM PUBLIC;
GRANT ALL ON FUNCTION app.active_learner_totals(days integer) TO tenantscope_tenant;

REVOKE ALL ON FUNCTION app.active_learners_today(wanted_region text) FROM PUBLIC;
GRANT ALL ON FUNCTION app.active_learners_today(wanted_region text) TO tenantscope_tenant;

REVOKE ALL ON FUNCTION app.append_audit(p_actor text, p_actor_kind text, p_scope_tenant_id uuid, p_action text, p_report text, p_parameters jsonb, p_row_count bigint, p_outcome text) FROM PUBLIC;

REVOKE ALL ON FUNCTION app.append_signed_audit(p_principal text, p_scope_tenant_id uuid, p_action text, p_report text, p_parameters jsonb, p_row_count bigint, p_outcome text) FROM PUBLIC;
GRANT ALL ON FUNCTION app.append_signed_audit(p_principal text, p_scope_tenant_id uuid, p_action text, p_report text, p_parameters jsonb, p_row_count bigint, p_outcome text) TO tenantscope_app;

REVOKE ALL ON FUNCTION app.append_signed_audit_batch(p_principals text[], p_scope_tenant_ids text[], p_actions text[], p_reports text[], p_parameters text[], p_row_counts text[], p_outcomes text[]) FROM PUBLIC;
GRANT ALL ON FUNCTION app.append_signed_audit_batch(p_principals text[], p_scope_tenant_ids text[], p_actions text[], p_reports text[], p_parameters text[], p_row_counts text[], p_outcomes text[]) TO tenantscope_app;

REVOKE ALL ON FUNCTION app.apply_enrollment_outcome_changes(before app.enrollment_outcome[], after app.enrollment_outcome[]) FROM PUBLIC;
GRANT ALL ON FUNCTION app.apply_enrollment_outcome_changes(before app.enrollment_outcome[], after app.enrollment_outcome[]) TO tenantscope_tenant;

REVOKE ALL ON FUNCTION app.apply_enrollment_outcomes(keys text[], sign integer) FROM PUBLIC;
GRANT ALL ON FUNCTION app.apply_enrollment_outcomes(keys text[], sign integer) TO tenantscope_tenant;

REVOKE ALL ON FUNCTION app.apply_learner_day_deltas(deltas app.learner_day_delta[]) FROM PUBLIC;
GRANT ALL ON FUNCTION app.apply_learner_day_deltas(deltas app.learner_day_delta[]) TO tenantscope_tenant;

REVOKE ALL ON FUNCTION app.audit_head() FROM PUBLIC;
GRANT ALL ON FUNCTION app.audit_head() TO tenantscope_app;

REVOKE ALL ON FUNCTION app.catch_up_queued(max_rows integer, overlap interval, first_chunk boolean, last_chunk boolean, OUT derived integer, OUT days integer, OUT rollup_error text) FROM PUBLIC;
GRANT ALL ON FUNCTION app.catch_up_queued(max_rows integer, overlap interval, first_chunk boolean, last_chunk boolean, OUT derived integer, OUT days integer, OUT rollup_error text) TO tenantscope_tenant;

REVOKE ALL ON FUNCTION app.catch_up_rollups(overlap interval, full_rebuild boolean) FROM PUBLIC;
GRANT ALL ON FUNCTION app.catch_up_rollups(overlap interval, full_rebuild boolean) TO tenantscope_tenant;

REVOKE ALL ON FUNCTION app.context_tenant() FROM PUBLIC;
GRANT ALL ON FUNCTION app.context_tenant() TO tenantscope_tenant;
GRANT ALL ON FUNCTION app.context_tenant() TO tenantscope_app;
GRANT ALL ON FUNCTION app.context_tenant() TO tenantscope_platform;

REVOKE ALL ON FUNCTION app.count_learners_by_last_day() FROM PUBLIC;

REVOKE ALL ON FUNCTION app.course_titles_from_statements(actor_keys text[]) FROM PUBLIC;
GRANT ALL ON FUNCTION app.course_titles_from_statements(actor_keys text[]) TO tenantscope_tenant;

REVOKE ALL ON FUNCTION app.credential_state(horizon interval) FROM PUBLIC;
GRANT ALL ON FUNCTION app.credential_state(horizon interval) TO tenantscope_app;

REVOKE ALL ON FUNCTION app.current_tenant() FROM PUBLIC;
GRANT ALL ON FUNCTION app.current_tenant() TO tenantscope_tenant;
GRANT ALL ON FUNCTION app.current_tenant() TO tenantscope_platform;
GRANT ALL ON FUNCTION app.current_tenant() TO tenantscope_app;
GRANT ALL ON FUNCTION app.current_tenant() TO tenantscope_sandbox;

REVOKE ALL ON FUNCTION app.dedicated_clusters() FROM PUBLIC;
GRANT ALL ON FUNCTION app.dedicated_clusters() TO tenantscope_app;

REVOKE ALL ON FUNCTION app.delete_tenant(p_slug text) FROM PUBLIC;
GRANT ALL ON FUNCTION app.delete_tenant(p_slug text) TO tenantscope_app;

REVOKE ALL ON FUNCTION app.derive_queued_learning_facts(max_rows integer) FROM PUBLIC;
GRANT ALL ON FUNCTION app.derive_queued_learning_facts(max_rows integer) TO tenantscope_tenant;

REVOKE ALL ON FUNCTION app.enrollment_outcomes_of(keys text[]) FROM PUBLIC;
GRANT ALL ON FUNCTION app.enrollment_outcomes_of(keys text[]) TO tenantscope_tenant;

REVOKE ALL ON FUNCTION app.enrollments_from_statements(actor_keys text[]) FROM PUBLIC;
GRANT ALL ON FUNCTION app.enrollments_from_statements(actor_keys text[]) TO tenantscope_tenant;

GRANT ALL ON FUNCTION app.export_schedule_slot(cadence text, hour integer, weekday integer, at timestamp with time zone) TO tenantscope_tenant;
GRANT ALL ON FUNCTION app.export_schedule_slot(cadence text, hour integer, weekday integer, at timestamp with time zone) TO tenantscope_aggregates;

REVOKE ALL ON FUNCTION app.first_broken_audit_row() FROM PUBLIC;

REVOKE ALL ON FUNCTION app.learner_key(actor_key text) FROM PUBLIC;
GRANT ALL ON FUNCTION app.learner_key(actor_key text) TO tenantscope_tenant;

REVOKE ALL ON FUNCTION app.learners_from_statements(actor_keys text[]) FROM PUBLIC;
GRANT ALL ON FUNCTION app.learners_from_statements(actor_keys text[]) TO tenantscope_tenant;

REVOKE ALL ON FUNCTION app.learners_pending_today(OUT pending text[], OUT active text[]) FROM PUBLIC;
GRANT ALL ON FUNCTION app.learners_pending_today(OUT pending text[], OUT active text[]) TO tenantscope_tenant;

REVOKE ALL ON FUNCTION app.lock_export_claims() FROM PUBLIC;
GRANT ALL ON FUNCTION app.lock_export_claims() TO tenantscope_tenant;

REVOKE ALL ON FUNCTION app.lock_tenant_derivation() FROM PUBLIC;
GRANT ALL ON FUNCTION app.lock_tenant_derivation() TO tenantscope_tenant;

REVOKE ALL ON FUNCTION app.lock_voiding_ids(ids uuid[]) FROM PUBLIC;
GRANT ALL ON FUNCTION app.lock_voiding_ids(ids uuid[]) TO tenantscope_tenant;

REVOKE ALL ON FUNCTION app.lrs_credential_tenant(presented_key text, presented_secret_sha256 text) FROM PUBLIC;
GRANT ALL ON FUNCTION app.lrs_credential_tenant(presented_key text, presented_secret_sha256 text) TO tenantscope_app;

REVOKE ALL ON FUNCTION app.merge_course_titles(candidates app.course_title[], checked text[], whole boolean) FROM PUBLIC;
GRANT ALL ON FUNCTION app.merge_course_titles(candidates app.course_title[], checked text[], whole boolean) TO tenantscope_tenant;

REVOKE ALL ON FUNCTION app.merge_new_learning_facts(keys text[], since timestamp with time zone[], look_back boolean[], overlap interval) FROM PUBLIC;
GRANT ALL ON FUNCTION app.merge_new_learning_facts(keys text[], since timestamp with time zone[], look_back boolean[], overlap interval) TO tenantscope_tenant;

REVOKE ALL ON FUNCTION app.pending_export_work() FROM PUBLIC;
GRANT ALL ON FUNCTION app.pending_export_work() TO tenantscope_app;

REVOKE ALL ON FUNCTION app.pending_rollup_queues() FROM PUBLIC;
GRANT ALL ON FUNCTION app.pending_rollup_queues() TO tenantscope_app;

REVOKE ALL ON FUNCTION app.platform_learner_activity(window_days integer) FROM PUBLIC;
GRANT ALL ON FUNCTION app.platform_learner_activity(window_days integer) TO tenantscope_platform;

REVOKE ALL ON FUNCTION app.platform_window_learners(window_days integer) FROM PUBLIC;
GRANT ALL ON FUNCTION app.platform_window_learners(window_days integer) TO tenantscope_platform;

REVOKE ALL ON FUNCTION app.rebuild_learner_active_days(hashes text[]) FROM PUBLIC;
GRANT ALL ON FUNCTION app.rebuild_learner_active_days(hashes text[]) TO tenantscope_tenant;

REVOKE ALL ON FUNCTION app.rebuild_learner_activity_days(days date[]) FROM PUBLIC;
GRANT ALL ON FUNCTION app.rebuild_learner_activity_days(days date[]) TO tenantscope_tenant;

REVOKE ALL ON FUNCTION app.record_derivation_provenance(keys text[]) FROM PUBLIC;
GRANT ALL ON FUNCTION app.record_derivation_provenance(keys text[]) TO tenantscope_tenant;

REVOKE ALL ON FUNCTION app.refresh_daily_rollups_feature_usage() FROM PUBLIC;
GRANT ALL ON FUNCTION app.refresh_daily_rollups_feature_usage() TO tenantscope_tenant;

REVOKE ALL ON FUNCTION app.refresh_enrollment_outcomes() FROM PUBLIC;
GRANT ALL ON FUNCTION app.refresh_enrollment_outcomes() TO tenantscope_tenant;

REVOKE ALL ON FUNCTION app.refresh_feature_usage_for_days(days date[]) FROM PUBLIC;
GRANT ALL ON FUNCTION app.refresh_feature_usage_for_days(days date[]) TO tenantscope_tenant;

REVOKE ALL ON FUNCTION app.refresh_learner_activity_days(days date[]) FROM PUBLIC;
GRANT ALL ON FUNCTION app.refresh_learner_activity_days(days date[]) TO tenantscope_tenant;

REVOKE ALL ON FUNCTION app.refresh_learning_facts(actor_keys text[]) FROM PUBLIC;
GRANT ALL ON FUNCTION app.refresh_learning_facts(actor_keys text[]) TO tenantscope_tenant;

REVOKE ALL ON FUNCTION app.refresh_learning_facts_fully(actor_keys text[]) FROM PUBLIC;
GRANT ALL ON FUNCTION app.refresh_learning_facts_fully(actor_keys text[]) TO tenantscope_tenant;

REVOKE ALL ON FUNCTION app.rollup_watermarks() FROM PUBLIC;
GRANT ALL ON FUNCTION app.rollup_watermarks() TO tenantscope_app;

REVOKE ALL ON FUNCTION app.runtime_keys() FROM PUBLIC;
GRANT ALL ON FUNCTION app.runtime_keys() TO tenantscope_app;

REVOKE ALL ON FUNCTION app.schema_version() FROM PUBLIC;
GRANT ALL ON FUNCTION app.schema_version() TO tenantscope_app;

REVOKE ALL ON FUNCTION app.shared_link_tenant(link_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION app.shared_link_tenant(link_id uuid) TO tenantscope_app;

REVOKE ALL ON FUNCTION app.sum_enrollment_outcomes_by_month() FROM PUBLIC;

REVOKE ALL ON FUNCTION app.tenant_cluster(p_tenant uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION app.tenant_cluster(p_tenant uuid) TO tenantscope_app;

REVOKE ALL ON FUNCTION app.tenant_directory() FROM PUBLIC;
GRANT ALL ON FUNCTION app.tenant_directory() TO tenantscope_app;

REVOKE ALL ON FUNCTION app.tenant_limits() FROM PUBLIC;
GRANT ALL ON FUNCTION app.tenant_limits() TO tenantscope_app;

REVOKE ALL ON FUNCTION app.tenant_login_password() FROM PUBLIC;
GRANT ALL ON FUNCTION app.tenant_login_password() TO tenantscope_app;

REVOKE ALL ON FUNCTION app.token_revoked(p_jti text) FROM PUBLIC;
GRANT ALL ON FUNCTION app.token_revoked(p_jti text) TO tenantscope_app;

REVOKE ALL ON FUNCTION app.touch_rollup_watermark() FROM PUBLIC;
GRANT ALL ON FUNCTION app.touch_rollup_watermark() TO tenantscope_tenant;

REVOKE ALL ON FUNCTION app.void_missed_targets(overlap interval) FROM PUBLIC;
GRANT ALL ON FUNCTION app.void_missed_targets(overlap interval) TO tenantscope_tenant;

REVOKE ALL ON FUNCTION app.void_statements(targets uuid[]) FROM PUBLIC;
GRANT ALL ON FUNCTION app.void_statements(targets uuid[]) TO tenantscope_tenant;

REVOKE ALL ON FUNCTION app.xapi_document_delete(kind text, activity_id text, agent_key text, registration text, document_id text, if_match text[], if_none_match text[]) FROM PUBLIC;
GRANT ALL ON FUNCTION app.xapi_document_delete(kind text, activity_id text, agent_key text, registration text, document_id text, if_match text[], if_none_match text[]) TO tenantscope_tenant;

REVOKE ALL ON FUNCTION app.xapi_document_etag(content bytea) FROM PUBLIC;
GRANT ALL ON FUNCTION app.xapi_document_etag(content bytea) TO tenantscope_tenant;

REVOKE ALL ON FUNCTION app.xapi_document_is_json_object(content bytea) FROM PUBLIC;
GRANT ALL ON FUNCTION app.xapi_document_is_json_object(content bytea) TO tenantscope_tenant;

REVOKE ALL ON FUNCTION app.xapi_document_precondition(stored_etag text, if_match text[], if_none_match text[]) FROM PUBLIC;
GRANT ALL ON FUNCTION app.xapi_document_precondition(stored_etag text, if_match text[], if_none_match text[]) TO tenantscope_tenant;

REVOKE ALL ON FUNCTION app.xapi_document_write(kind text, activity_id text, agent_key text, registration text, document_id text, content bytea, content_type text, etag text, if_match text[], if_none_match text[], merge boolean, content_is_json boolean, needs_precondition boolean, overwrite boolean, OUT outcome text, OUT written integer) FROM PUBLIC;
GRANT ALL ON FUNCTION app.xapi_document_write(kind text, activity_id text, agent_key text, registration text, document_id text, content bytea, content_type text, etag text, if_match text[], if_none_match text[], merge boolean, content_is_json boolean, needs_precondition boolean, overwrite boolean, OUT outcome text, OUT written integer) TO tenantscope_tenant;

REVOKE ALL ON FUNCTION app.xapi_is_json_media_type(content_type text) FROM PUBLIC;
GRANT ALL ON FUNCTION app.xapi_is_json_media_type(content_type text) TO tenantscope_tenant;

REVOKE ALL ON FUNCTION app_private.check_cluster_residency() FROM PUBLIC;

REVOKE ALL ON FUNCTION app_private.check_tenant_residency() FROM PUBLIC;

REVOKE ALL ON FUNCTION app_private.create_learner_key_secret() FROM PUBLIC;

REVOKE ALL ON FUNCTION app_private.index_shared_link() FROM PUBLIC;

REVOKE ALL ON FUNCTION app_private.set_learner_key() FROM PUBLIC;

REVOKE ALL ON FUNCTION gate.tenant_gate(p_context text, p_write boolean) FROM PUBLIC;
GRANT ALL ON FUNCTION gate.tenant_gate(p_context text, p_write boolean) TO tenantscope_tenant;
GRANT ALL ON FUNCTION gate.tenant_gate(p_context text, p_write boolean) TO tenantscope_app_tenant;

REVOKE ALL ON FUNCTION semantic.answer_row_fits(row_bytes integer, maximum integer) FROM PUBLIC;
GRANT ALL ON FUNCTION semantic.answer_row_fits(row_bytes integer, maximum integer) TO tenantscope_sandbox;

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE app.courses TO tenantscope_tenant;

GRANT SELECT(tenant_id) ON TABLE app.courses TO tenantscope_sandbox;

GRANT SELECT(id) ON TABLE app.courses TO tenantscope_sandbox;

GRANT SELECT(course_iri) ON TABLE app.courses TO tenantscope_sandbox;

GRANT SELECT(title) ON TABLE app.courses TO tenantscope_sandbox;

GRANT SELECT(created_at) ON TABLE app.courses TO tenantscope_sandbox;

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE app.custom_reports TO tenantscope_tenant;

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE app.daily_active_learners TO tenantscope_tenant;
GRANT SELECT ON TABLE app.daily_active_learners TO tenantscope_platform;

GRANT SELECT(tenant_id) ON TABLE app.daily_active_learners TO tenantscope_sandbox;

GRANT SELECT(day) ON TABLE app.daily_active_learners TO tenantscope_sandbox;

GRANT SELECT(learners) ON TABLE app.daily_active_learners TO tenantscope_sandbox;

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE app.daily_enrollment_outcomes TO tenantscope_tenant;

GRANT SELECT(tenant_id) ON TABLE app.daily_enrollment_outcomes TO tenantscope_sandbox;

GRANT SELECT(day) ON TABLE app.daily_enrollment_outcomes TO tenantscope_sandbox;

GRANT SELECT(course_id) ON TABLE app.daily_enrollment_outcomes TO tenantscope_sandbox;

GRANT SELECT(cohort) ON TABLE app.daily_enrollment_outcomes TO tenantscope_sandbox;

GRANT SELECT(region) ON TABLE app.daily_enrollment_outcomes TO tenantscope_sandbox;

GRANT SELECT(days_to_complete) ON TABLE app.daily_enrollment_outcomes TO tenantscope_sandbox;

GRANT SELECT(enrollments) ON TABLE app.daily_enrollment_outcomes TO tenantscope_sandbox;

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE app.daily_feature_usage TO tenantscope_tenant;
GRANT SELECT ON TABLE app.daily_feature_usage TO tenantscope_platform;

GRANT SELECT(tenant_id) ON TABLE app.daily_feature_usage TO tenantscope_sandbox;

GRANT SELECT(day) ON TABLE app.daily_feature_usage TO tenantscope_sandbox;

GRANT SELECT(feature_key) ON TABLE app.daily_feature_usage TO tenantscope_sandbox;

GRANT SELECT(events) ON TABLE app.daily_feature_usage TO tenantscope_sandbox;

GRANT SELECT(actors) ON TABLE app.daily_feature_usage TO tenantscope_sandbox;

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE app.daily_learner_activity TO tenantscope_tenant;
GRANT SELECT ON TABLE app.daily_learner_activity TO tenantscope_aggregates;

GRANT SELECT(tenant_id) ON TABLE app.daily_learner_activity TO tenantscope_sandbox;

GRANT SELECT(day) ON TABLE app.daily_learner_activity TO tenantscope_sandbox;

GRANT SELECT(learner_hash) ON TABLE app.daily_learner_activity TO tenantscope_sandbox;

GRANT SELECT(statements) ON TABLE app.daily_learner_activity TO tenantscope_sandbox;

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE app.enrollments TO tenantscope_tenant;

GRANT SELECT(tenant_id) ON TABLE app.enrollments TO tenantscope_sandbox;

GRANT SELECT(learner_id) ON TABLE app.enrollments TO tenantscope_sandbox;

GRANT SELECT(course_id) ON TABLE app.enrollments TO tenantscope_sandbox;

GRANT SELECT(enrolled_at) ON TABLE app.enrollments TO tenantscope_sandbox;

GRANT SELECT(completed_at) ON TABLE app.enrollments TO tenantscope_sandbox;

GRANT SELECT(cohort) ON TABLE app.enrollments TO tenantscope_sandbox;

GRANT SELECT(registration) ON TABLE app.enrollments TO tenantscope_sandbox;

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE app.export_jobs TO tenantscope_tenant;
GRANT SELECT ON TABLE app.export_jobs TO tenantscope_aggregates;

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE app.export_removals TO tenantscope_tenant;
GRANT SELECT ON TABLE app.export_removals TO tenantscope_aggregates;

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE app.export_schedules TO tenantscope_tenant;
GRANT SELECT ON TABLE app.export_schedules TO tenantscope_aggregates;

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE app.feature_events TO tenantscope_tenant;

GRANT SELECT(tenant_id) ON TABLE app.feature_events TO tenantscope_sandbox;

GRANT SELECT(id) ON TABLE app.feature_events TO tenantscope_sandbox;

GRANT SELECT(feature_key) ON TABLE app.feature_events TO tenantscope_sandbox;

GRANT SELECT(occurred_at) ON TABLE app.feature_events TO tenantscope_sandbox;

GRANT SELECT(received_at) ON TABLE app.feature_events TO tenantscope_sandbox;

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE app.learner_active_days TO tenantscope_tenant;
GRANT SELECT ON TABLE app.learner_active_days TO tenantscope_aggregates;

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE app.learners TO tenantscope_tenant;

GRANT SELECT(tenant_id) ON TABLE app.learners TO tenantscope_sandbox;

GRANT SELECT(id) ON TABLE app.learners TO tenantscope_sandbox;

GRANT SELECT(actor_key) ON TABLE app.learners TO tenantscope_sandbox;

GRANT SELECT(display_name) ON TABLE app.learners TO tenantscope_sandbox;

GRANT SELECT(region) ON TABLE app.learners TO tenantscope_sandbox;

GRANT SELECT(first_seen) ON TABLE app.learners TO tenantscope_sandbox;

GRANT SELECT(last_seen) ON TABLE app.learners TO tenantscope_sandbox;

GRANT SELECT(learner_key) ON TABLE app.learners TO tenantscope_sandbox;

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE app.learners_by_last_day TO tenantscope_tenant;

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE app.learning_facts_queue TO tenantscope_tenant;
GRANT SELECT ON TABLE app.learning_facts_queue TO tenantscope_aggregates;

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE app.monthly_cohort_outcomes_all_courses TO tenantscope_tenant;

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE app.monthly_completion_times TO tenantscope_tenant;

GRANT SELECT(tenant_id) ON TABLE app.monthly_completion_times TO tenantscope_sandbox;

GRANT SELECT(month) ON TABLE app.monthly_completion_times TO tenantscope_sandbox;

GRANT SELECT(course_id) ON TABLE app.monthly_completion_times TO tenantscope_sandbox;

GRANT SELECT(region) ON TABLE app.monthly_completion_times TO tenantscope_sandbox;

GRANT SELECT(days_to_complete) ON TABLE app.monthly_completion_times TO tenantscope_sandbox;

GRANT SELECT(completions) ON TABLE app.monthly_completion_times TO tenantscope_sandbox;

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE app.monthly_completion_times_all_courses TO tenantscope_tenant;

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE app.monthly_completion_times_all_regions TO tenantscope_tenant;

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE app.monthly_course_outcomes TO tenantscope_tenant;

GRANT SELECT(tenant_id) ON TABLE app.monthly_course_outcomes TO tenantscope_sandbox;

GRANT SELECT(month) ON TABLE app.monthly_course_outcomes TO tenantscope_sandbox;

GRANT SELECT(course_id) ON TABLE app.monthly_course_outcomes TO tenantscope_sandbox;

GRANT SELECT(cohort) ON TABLE app.monthly_course_outcomes TO tenantscope_sandbox;

GRANT SELECT(region) ON TABLE app.monthly_course_outcomes TO tenantscope_sandbox;

GRANT SELECT(enrolled) ON TABLE app.monthly_course_outcomes TO tenantscope_sandbox;

GRANT SELECT(completed) ON TABLE app.monthly_course_outcomes TO tenantscope_sandbox;

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE app.monthly_course_outcomes_all_regions TO tenantscope_tenant;

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE app.rollup_queue TO tenantscope_tenant;
GRANT SELECT ON TABLE app.rollup_queue TO tenantscope_aggregates;

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE app.rollup_state TO tenantscope_tenant;
GRANT SELECT ON TABLE app.rollup_state TO tenantscope_aggregates;

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE app.saved_views TO tenantscope_tenant;

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE app.shared_links TO tenantscope_tenant;

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE app.statements TO tenantscope_tenant;

GRANT SELECT(tenant_id) ON TABLE app.statements TO tenantscope_sandbox;

GRANT SELECT(id) ON TABLE app.statements TO tenantscope_sandbox;

GRANT SELECT(actor_key) ON TABLE app.statements TO tenantscope_sandbox;

GRANT SELECT(verb_id) ON TABLE app.statements TO tenantscope_sandbox;

GRANT SELECT(object_id) ON TABLE app.statements TO tenantscope_sandbox;

GRANT SELECT(object_type) ON TABLE app.statements TO tenantscope_sandbox;

GRANT SELECT(course_iri) ON TABLE app.statements TO tenantscope_sandbox;

GRANT SELECT(registration) ON TABLE app.statements TO tenantscope_sandbox;

GRANT SELECT("timestamp") ON TABLE app.statements TO tenantscope_sandbox;

GRANT SELECT(stored) ON TABLE app.statements TO tenantscope_sandbox;

GRANT SELECT(voided) ON TABLE app.statements TO tenantscope_sandbox;

GRANT SELECT(course_title) ON TABLE app.statements TO tenantscope_sandbox;

GRANT SELECT(completes_course) ON TABLE app.statements TO tenantscope_sandbox;

GRANT SELECT(cohort) ON TABLE app.statements TO tenantscope_sandbox;

GRANT SELECT(learner_region) ON TABLE app.statements TO tenantscope_sandbox;

GRANT SELECT(voids) ON TABLE app.statements TO tenantscope_sandbox;

GRANT SELECT ON TABLE app.tenants TO tenantscope_tenant;
GRANT SELECT ON TABLE app.tenants TO tenantscope_platform;

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE app.xapi_attachments TO tenantscope_tenant;

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE app.xapi_documents TO tenantscope_tenant;

GRANT SELECT ON TABLE semantic.courses TO tenantscope_sandbox;

GRANT SELECT ON TABLE semantic.daily_active_learners TO tenantscope_sandbox;

GRANT SELECT ON TABLE semantic.daily_enrollment_outcomes TO tenantscope_sandbox;

GRANT SELECT ON TABLE semantic.daily_feature_usage TO tenantscope_sandbox;

GRANT SELECT ON TABLE semantic.daily_learner_activity TO tenantscope_sandbox;

GRANT SELECT ON TABLE semantic.enrollments TO tenantscope_sandbox;

GRANT SELECT ON TABLE semantic.feature_events TO tenantscope_sandbox;

GRANT SELECT ON TABLE semantic.learners TO tenantscope_sandbox;

GRANT SELECT ON TABLE semantic.monthly_completion_times TO tenantscope_sandbox;

GRANT SELECT ON TABLE semantic.monthly_course_outcomes TO tenantscope_sandbox;

GRANT SELECT ON TABLE semantic.statements TO tenantscope_sandbox;
