-- bench/query: re-reads a 1 % sample of the generated statements' JSON with the rules of StatementFacts
-- (docs/xapi-mapping.md) and prints how many rows disagree with their facts columns (0 expected).
-- Covers what the generator emits: mbox actors, course objects or a course as the first parent activity.
SET TimeZone = 'UTC';
WITH sample AS (
  SELECT s.*, s.statement AS j,
         s.statement -> 'object' -> 'definition' ->> 'type' AS json_object_type,
         (SELECT p FROM jsonb_array_elements(coalesce(s.statement -> 'context' -> 'contextActivities' -> 'parent', '[]')) p
          WHERE p -> 'definition' ->> 'type' = 'http://adlnet.gov/expapi/activities/course' LIMIT 1) AS parent_course
  FROM app.statements s TABLESAMPLE BERNOULLI (1) REPEATABLE (42)
), read AS (
  SELECT sample.*,
         CASE WHEN json_object_type = 'http://adlnet.gov/expapi/activities/course' THEN j -> 'object' ->> 'id'
              ELSE parent_course ->> 'id' END AS json_course_iri,
         CASE WHEN json_object_type = 'http://adlnet.gov/expapi/activities/course' THEN j -> 'object' -> 'definition' -> 'name' ->> 'en-US'
              ELSE parent_course -> 'definition' -> 'name' ->> 'en-US' END AS json_course_title
  FROM sample
)
SELECT count(*) FILTER (WHERE
         id IS DISTINCT FROM (j ->> 'id')::uuid
      OR actor_key IS DISTINCT FROM 'mbox:' || lower(j -> 'actor' ->> 'mbox')
      OR actor_name IS DISTINCT FROM j -> 'actor' ->> 'name'
      OR verb_id IS DISTINCT FROM j -> 'verb' ->> 'id'
      OR object_id IS DISTINCT FROM j -> 'object' ->> 'id'
      OR object_type IS DISTINCT FROM json_object_type
      OR course_iri IS DISTINCT FROM json_course_iri
      OR course_title IS DISTINCT FROM json_course_title
      OR registration IS DISTINCT FROM (j -> 'context' ->> 'registration')::uuid
      OR "timestamp" IS DISTINCT FROM (j ->> 'timestamp')::timestamptz
      OR completes_course IS DISTINCT FROM (json_object_type = 'http://adlnet.gov/expapi/activities/course'
                                            AND j -> 'verb' ->> 'id' IN ('http://adlnet.gov/expapi/verbs/completed',
                                                                         'http://adlnet.gov/expapi/verbs/passed'))
      OR cohort IS DISTINCT FROM j -> 'context' -> 'extensions' ->> 'https://tenantscope.dev/xapi/extensions/cohort'
      OR learner_region IS DISTINCT FROM j -> 'context' -> 'extensions' ->> 'https://tenantscope.dev/xapi/extensions/learner-region'
      OR voids IS NOT NULL OR voided
      OR stored < "timestamp" OR "timestamp" > now()
    ) || ' of ' || count(*) AS mismatches
FROM read;
