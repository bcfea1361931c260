-- bench/query: the large synthetic dataset, generated set-based as the superuser (bypasses RLS).
--
-- psql variables: statements (total xAPI statements), seed (any integer). The tenants must exist already
-- (slugs 'qb-t001' ... created by run.sh as the owner role); tenant 1 is the biggest. Only app.statements
-- and app.feature_events are written: learners, courses, enrollments and every roll-up are derived
-- afterwards by `tenantscope rollups rebuild`, through the product's own SQL.
--
-- Shape (all deterministic from the seed):
--   * tenant sizes follow Zipf (weight 1/rank): with 50 tenants the biggest holds ~22 % of all statements,
--     the median ~0.9 %, the smallest ~0.45 %;
--   * one learner per ~60 statements of the tenant (a few thousand in the biggest tenant at 1 M),
--     8-12 courses per tenant, popular courses and active learners skewed;
--   * statements come in enrollments (learner x course, ~20 statements each on average) and, within
--     one, in sessions of 4-12 statements a few minutes apart (as an LMS sends them): `registered`
--     on the course, then module activity (parent: the course), occasional LMS page views that name no
--     course, and for a course-dependent 35-85 % share a `completed`/`passed` on the course 1-41 days
--     later (only when that lies in the past); enrollment days spread over the last 120 days, weighted
--     towards recent days;
--   * 70 % of learners carry a cohort extension (cohort-a ... cohort-e), 80 % a learner-region extension;
--   * feature events (for the platform reports): one per 20 statements, 2-8 features per tenant.
-- Every facts column is what StatementFacts would read from the stored JSON (docs/xapi-mapping.md).

\set ON_ERROR_STOP on
SET client_min_messages = warning;
SET TimeZone = 'UTC';
SET work_mem = '256MB';
SET maintenance_work_mem = '1GB';
SET synchronous_commit = off;
SET jit = off;                      -- compiling these wide expressions costs more than it saves

-- Uniform [0, 1) from a 64-bit key and a stream number: reproducible, parallel-safe, no random().
-- (The seed is spliced into the body so the function stays inlinable.)
SELECT set_config('qbench.seed', (:'seed')::bigint::text, false) AS qbench_seed \gset
DO $$
BEGIN
  EXECUTE format($f$
    CREATE FUNCTION pg_temp.u(k bigint, stream int) RETURNS float8
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS 'SELECT (hashint8extended(k, stream + %s) & 4503599627370495)::float8 / 4503599627370496.0'
  $f$, 7919 * current_setting('qbench.seed')::bigint);
END $$;

-- A version-4-shaped UUID (RFC 4122 variant) from a name, as xAPI asks of statement ids and registrations.
CREATE FUNCTION pg_temp.uuid4(name text) RETURNS uuid
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT overlay(overlay(md5(name) placing '4' from 13) placing '8' from 17)::uuid $$;

-- Tenants: rank, Zipf share of the statements (the rounding remainder goes to the biggest), size knobs.
-- No temp table has a tenant_id column, so the product's schema audit never trips over one.
CREATE TEMP TABLE qb_tenant AS
WITH ranked AS (
  -- Ranked by the slug's number: qb-t1000 comes after qb-t999 (slugs have three digits or more).
  SELECT id AS tid, slug, row_number() OVER (ORDER BY substring(slug FROM 5)::int) AS rank FROM app.tenants WHERE slug ~ '^qb-t[0-9]+$'
), shares AS (
  SELECT tid, slug, rank, floor(:statements::bigint * (1.0 / rank) / sum(1.0 / rank) OVER ())::bigint AS share FROM ranked
)
SELECT tid, slug, rank,
       (share + CASE WHEN rank = 1 THEN :statements::bigint - sum(share) OVER () ELSE 0 END)::bigint AS n,
       greatest(20, (share / 60))::int AS learners,
       (8 + rank % 5)::int AS courses
FROM shares;

-- Enrollment slots: twice as many as needed on average, cut by the running statement count below.
CREATE TEMP TABLE qb_enrollment AS
WITH slots AS (
  SELECT t.tid, t.slug, t.rank, t.n, t.learners, t.courses, j,
         t.rank * 100000000 + j AS k
  FROM qb_tenant t, generate_series(0, greatest(10, ceil(2.0 * t.n / 20)::bigint)) j
), drawn AS (
  SELECT s.*,
         floor(s.learners * pg_temp.u(s.k, 1) ^ 1.3)::int AS learner,
         floor(s.courses * pg_temp.u(s.k, 2) ^ 1.6)::int AS course,
         date_trunc('second', now() - interval '120 days' * pg_temp.u(s.k, 3) ^ 1.25) AS enrolled_at,
         1 + floor(38 * pg_temp.u(s.k, 4))::int AS m,                     -- 1..39 statements, mean 20
         pg_temp.u(s.k, 6) AS completion_draw,
         pg_temp.u(s.k, 7) AS duration_draw
  FROM slots s
), placed AS (
  SELECT d.*, sum(d.m) OVER (PARTITION BY d.tid ORDER BY d.j) - d.m AS first_statement
  FROM drawn d
)
SELECT p.tid, p.slug, p.rank, p.j, p.k, p.learner, p.course, p.enrolled_at, p.first_statement,
       least(p.m, p.n - p.first_statement)::int AS m,
       4 + floor(9 * pg_temp.u(p.k, 8))::int AS session,                   -- statements per session, 4..12
       -- learner attributes (stable per learner)
       CASE WHEN pg_temp.u(p.rank * 10000000 + p.learner, 9) < 0.7
            THEN 'cohort-' || chr(97 + (p.learner % 5)) END AS cohort,
       CASE WHEN pg_temp.u(p.rank * 10000000 + p.learner, 10) < 0.8
            THEN (ARRAY['emea', 'amer', 'apac'])[1 + p.learner % 3] END AS region,
       -- completion: course-dependent rate, cohort-dependent nudge; needs >= 2 statements and a past date
       (p.completion_draw < 0.35 + 0.5 * pg_temp.u(p.rank * 1000 + p.course, 5)
                            + 0.04 * ((p.learner % 5) - 2)) AS wants_completion,
       CASE WHEN p.completion_draw < 0.35 + 0.5 * pg_temp.u(p.rank * 1000 + p.course, 5) + 0.04 * ((p.learner % 5) - 2)
            THEN interval '1 day' * (1 + 40 * p.duration_draw ^ 2)          -- most finish within two weeks
            ELSE interval '1 day' * (60 * p.duration_draw) END AS span,
       pg_temp.uuid4('qb-registration/' || p.k) AS registration
FROM placed p
WHERE p.first_statement < p.n;

CREATE TEMP TABLE qb_check AS
SELECT t.rank, t.n, coalesce(sum(e.m), 0) AS placed FROM qb_tenant t LEFT JOIN qb_enrollment e ON e.tid = t.tid GROUP BY 1, 2;
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM qb_check WHERE placed <> n) THEN
    RAISE EXCEPTION 'generator: enrollment slots did not cover every tenant''s statements';
  END IF;
END $$;

-- Bulk load: build app.statements' indexes (primary key included) after the insert instead of row by row,
-- and skip the per-row foreign-key trigger (every tenant_id comes from app.tenants above). The whole file
-- runs in one transaction (psql -1), so a failure leaves the table as it was.
CREATE TEMP TABLE qb_index AS
SELECT c.relname AS name, pg_get_indexdef(i.indexrelid) AS definition, con.conname AS constraint_name,
       pg_get_constraintdef(con.oid) AS constraint_definition
FROM pg_index i
JOIN pg_class c ON c.oid = i.indexrelid
LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.conrelid = i.indrelid
WHERE i.indrelid = 'app.statements'::regclass;
DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT * FROM qb_index LOOP
    IF r.constraint_name IS NOT NULL THEN
      EXECUTE format('ALTER TABLE app.statements DROP CONSTRAINT %I', r.constraint_name);
    ELSE
      EXECUTE format('DROP INDEX app.%I', r.name);
    END IF;
  END LOOP;
END $$;
SET session_replication_role = replica;

-- The statements: position 0 registers, the last one of a completing enrollment completes (or passes).
INSERT INTO app.statements (tenant_id, id, statement, actor_key, verb_id, object_id, object_type, course_iri,
                            registration, "timestamp", stored, voided, actor_name, course_title,
                            completes_course, cohort, learner_region, voids)
SELECT tid, id,
       -- JSON text cast to jsonb: twice as fast as nested jsonb_build_object. Every spliced value is generated
       -- from [A-Za-z0-9 :/.@-] (slugs, numbers, fixed IRIs, UUIDs), so none needs escaping; the cast checks it.
       ('{' || concat_ws(',',
          '"id":"' || id || '"',
          '"actor":{"objectType":"Agent","name":"' || actor_name || '","mbox":"' || mbox || '"}',
          '"verb":{"id":"' || verb_id || '","display":{"en-US":"' || verb_word || '"}}',
          '"object":{"objectType":"Activity","id":"' || object_id || '"'
            || CASE WHEN object_type IS NOT NULL
                    THEN ',"definition":{"type":"' || object_type || '","name":{"en-US":"' || object_name || '"}}' ELSE '' END || '}',
          '"timestamp":"' || to_char(ts, 'YYYY-MM-DD"T"HH24:MI:SS"Z"') || '"',
          CASE WHEN registration IS NOT NULL OR in_module OR cohort IS NOT NULL OR region IS NOT NULL THEN
            '"context":{' || concat_ws(',',
              '"registration":"' || registration || '"',
              CASE WHEN in_module THEN '"contextActivities":{"parent":[{"id":"' || course_iri
                   || '","objectType":"Activity","definition":{"type":"http://adlnet.gov/expapi/activities/course","name":{"en-US":"'
                   || course_title || '"}}}]}' END,
              CASE WHEN cohort IS NOT NULL OR region IS NOT NULL THEN '"extensions":{' || concat_ws(',',
                '"https://tenantscope.dev/xapi/extensions/cohort":"' || cohort || '"',
                '"https://tenantscope.dev/xapi/extensions/learner-region":"' || region || '"') || '}' END
            ) || '}' END
        ) || '}')::jsonb,
       actor_key, verb_id, object_id, object_type, course_iri, registration, ts,
       least(now(), ts + interval '1 second' * floor(300 * pg_temp.u(g, 13))), false, actor_name, course_title,
       completes_course, cohort, region, NULL::uuid
FROM (
  SELECT x.*,
         CASE kind WHEN 'register' THEN 'http://adlnet.gov/expapi/verbs/registered'
                   WHEN 'complete' THEN CASE WHEN pg_temp.u(x.k, 14) < 0.7 THEN 'http://adlnet.gov/expapi/verbs/completed'
                                             ELSE 'http://adlnet.gov/expapi/verbs/passed' END
                   WHEN 'page' THEN 'http://id.tincanapi.com/verb/viewed'
                   WHEN 'module_done' THEN 'http://adlnet.gov/expapi/verbs/completed'
                   ELSE (ARRAY['http://adlnet.gov/expapi/verbs/experienced', 'http://adlnet.gov/expapi/verbs/attempted',
                               'http://adlnet.gov/expapi/verbs/answered', 'http://adlnet.gov/expapi/verbs/progressed'])
                        [1 + floor(4 * pg_temp.u(x.g, 15))::int] END AS verb_id,
         CASE kind WHEN 'register' THEN 'registered'
                   WHEN 'complete' THEN CASE WHEN pg_temp.u(x.k, 14) < 0.7 THEN 'completed' ELSE 'passed' END
                   WHEN 'page' THEN 'viewed'
                   WHEN 'module_done' THEN 'completed'
                   ELSE (ARRAY['experienced', 'attempted', 'answered', 'progressed'])[1 + floor(4 * pg_temp.u(x.g, 15))::int] END AS verb_word,
         CASE kind WHEN 'page' THEN 'https://lms.example/' || x.slug || '/dashboard'
                   WHEN 'register' THEN x.course_iri0 WHEN 'complete' THEN x.course_iri0
                   ELSE x.course_iri0 || '/module-' || (1 + floor(6 * pg_temp.u(x.g, 16))::int) END AS object_id,
         CASE kind WHEN 'page' THEN NULL
                   WHEN 'register' THEN 'http://adlnet.gov/expapi/activities/course'
                   WHEN 'complete' THEN 'http://adlnet.gov/expapi/activities/course'
                   ELSE 'http://adlnet.gov/expapi/activities/module' END AS object_type,
         CASE WHEN kind = 'page' THEN NULL ELSE x.course_iri0 END AS course_iri,
         CASE WHEN kind = 'page' THEN NULL ELSE x.course_title0 END AS course_title,
         CASE WHEN kind IN ('register', 'complete') THEN x.course_title0
              WHEN kind = 'page' THEN NULL ELSE 'Module' END AS object_name,
         kind IN ('module', 'module_done') AS in_module,
         kind = 'complete' AS completes_course,
         CASE WHEN kind = 'page' THEN NULL ELSE x.registration0 END AS registration
  FROM (
    SELECT e.tid, e.slug, e.k, e.cohort, e.region,
           e.rank::bigint * 1000000000 + e.first_statement + p AS g,
           pg_temp.uuid4('qb-statement/' || e.rank || '/' || (e.first_statement + p)) AS id,
           'mailto:learner' || e.learner || '@' || e.slug || '.example' AS mbox,
           'mbox:mailto:learner' || e.learner || '@' || e.slug || '.example' AS actor_key,
           'Learner ' || e.learner AS actor_name,
           'https://courses.example/' || e.slug || '/course-' || e.course AS course_iri0,
           initcap(replace(e.slug, '-', ' ')) || ' course ' || e.course AS course_title0,
           CASE WHEN p = 0 THEN 'register'
                WHEN p = e.m - 1 AND c.completes THEN 'complete'
                WHEN pg_temp.u(e.rank::bigint * 1000000000 + e.first_statement + p, 11) < 0.10 THEN 'page'
                WHEN pg_temp.u(e.rank::bigint * 1000000000 + e.first_statement + p, 11) < 0.15 THEN 'module_done'
                ELSE 'module' END AS kind,
           -- Sessions of e.session statements, 2-4 minutes apart; the sessions spread evenly from the
           -- enrollment to its end (the completion, when there is one), so the last statement is the latest.
           least(date_trunc('second', now()), date_trunc('second',
             e.enrolled_at
             + CASE WHEN c.sessions = 1 THEN interval '0'
                    ELSE (c.ends_at - e.enrolled_at) * ((p / e.session)::float8 / (c.sessions - 1)) END
             + interval '1 second' * ((p % e.session) * (120 + floor(120 * pg_temp.u(e.rank::bigint * 1000000000 + e.first_statement + p, 12)))))) AS ts,
           e.registration AS registration0
    FROM qb_enrollment e
    CROSS JOIN LATERAL (
      SELECT e.wants_completion AND e.m >= 2 AND e.enrolled_at + e.span <= now() - interval '1 hour' AS completes,
             -- an enrollment still under way had its latest session somewhere in the second half of the time so
             -- far (not all of them just now, which would pile statements up on today)
             CASE WHEN e.enrolled_at + e.span <= now() - interval '1 hour' THEN e.enrolled_at + e.span
                  ELSE e.enrolled_at + greatest(now() - interval '1 hour' - e.enrolled_at, interval '0')
                                       * (0.5 + 0.5 * pg_temp.u(e.k, 17)) END AS ends_at,
             (e.m + e.session - 1) / e.session AS sessions
    ) c
    CROSS JOIN LATERAL generate_series(0, e.m - 1) p
    OFFSET 0                          -- evaluate each column once (no flattening into the outer levels)
  ) x
  OFFSET 0
) y;

SET session_replication_role = DEFAULT;
DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT * FROM qb_index ORDER BY constraint_name IS NULL, name LOOP
    IF r.constraint_name IS NOT NULL THEN
      EXECUTE format('ALTER TABLE app.statements ADD CONSTRAINT %I %s', r.constraint_name, r.constraint_definition);
    ELSE
      EXECUTE r.definition;
    END IF;
  END LOOP;
END $$;

-- Product feature usage for the platform reports: one event per 20 statements, spread like the tenants.
INSERT INTO app.feature_events (tenant_id, id, feature_key, actor, occurred_at, received_at)
SELECT t.tid, md5('qb-event/' || t.rank || '/' || i)::uuid,
       (ARRAY['dashboards', 'report.export', 'cohort.compare', 'xapi.import', 'embed.share',
              'alerts', 'saved_views', 'api.tokens'])[1 + floor((2 + (t.rank * 3) % 7) * pg_temp.u(t.rank * 100000000 + i, 20) ^ 1.5)::int],
       'mbox:mailto:staff' || floor(12 * pg_temp.u(t.rank * 100000000 + i, 21))::int || '@' || t.slug || '.example',
       date_trunc('second', now() - interval '120 days' * pg_temp.u(t.rank * 100000000 + i, 22)),
       now()
FROM qb_tenant t, generate_series(1, greatest(1, t.n / 20)) i;

ANALYZE app.statements;
ANALYZE app.feature_events;
