extension Migration {
    /// The semantic layer and the sandbox role for ad-hoc SQL (architecture decisions 38 and 39; numbers 13–19
    /// are kept for the performance work, the migrator accepts gaps).
    ///
    /// `semantic` holds `security_invoker` views over one tenant's statements, learners, courses,
    /// enrollments, roll-ups and product events, described column by column (`SemanticLayer` in Core is
    /// the same contract; a test compares them). No view exposes the xAPI actor, the raw statement or a
    /// keyed learner hash.
    ///
    /// `tenantscope_sandbox` runs the tenant's own SQL. It has no login and is a member of nothing; the
    /// tenant login may `SET ROLE` to it inside a tenant transaction (PostgreSQL checks membership against
    /// the session user). It may use schema `semantic` and select from its views, and nothing else by name:
    /// no `app`, no `app_private`, no `set_config`. Because the views are `security_invoker`, it holds
    /// column-level SELECT on exactly the table columns the views read, which it cannot name itself
    /// (no USAGE on `app`), and EXECUTE on `app.current_tenant()`, which the row-level security policies call.
    static let semanticLayer = Migration(version: 20, name: "semantic layer", statements: [
        """
        DO $$
        BEGIN
          IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'tenantscope_sandbox') THEN
            CREATE ROLE tenantscope_sandbox NOLOGIN NOINHERIT;
          END IF;
        END $$
        """,
        "GRANT tenantscope_sandbox TO tenantscope_app_tenant",
        // A scoped transaction sets the sandbox's temp-file limit before it switches role (SUSET: needs the grant;
        // the cluster hardening gives the owner this parameter with grant option).
        "GRANT SET ON PARAMETER temp_file_limit TO tenantscope_tenant",
        "CREATE SCHEMA semantic",
        "COMMENT ON SCHEMA semantic IS 'TenantScope semantic layer: one tenant''s learning data for ad-hoc SQL and AI agents'",
        "REVOKE ALL ON SCHEMA semantic FROM PUBLIC",
        "GRANT USAGE ON SCHEMA semantic TO tenantscope_sandbox",

        """
        CREATE VIEW semantic.statements WITH (security_invoker = true) AS
        SELECT s.id AS statement_id, l.id AS learner_id, s.verb_id, s.object_id, s.object_type, s.course_iri, s.course_title,
               s.registration, s."timestamp" AS occurred_at, s.stored AS stored_at, s.voided, s.voids AS voids_statement_id,
               s.completes_course, s.cohort, s.learner_region AS region
        FROM app.statements s
        LEFT JOIN app.learners l ON l.tenant_id = s.tenant_id AND l.actor_key = s.actor_key
        """,
        """
        CREATE VIEW semantic.learners WITH (security_invoker = true) AS
        SELECT l.id AS learner_id, l.display_name, l.region, l.first_seen, l.last_seen FROM app.learners l
        """,
        """
        CREATE VIEW semantic.courses WITH (security_invoker = true) AS
        SELECT c.id AS course_id, c.course_iri, c.title, c.created_at FROM app.courses c
        """,
        """
        CREATE VIEW semantic.enrollments WITH (security_invoker = true) AS
        SELECT e.learner_id, e.course_id, e.enrolled_at, e.completed_at, e.cohort, e.registration FROM app.enrollments e
        """,
        """
        CREATE VIEW semantic.daily_learner_activity WITH (security_invoker = true) AS
        SELECT a.day, l.id AS learner_id, a.statements
        FROM app.daily_learner_activity a
        LEFT JOIN app.learners l ON l.tenant_id = a.tenant_id AND l.learner_key = a.learner_hash
        """,
        """
        CREATE VIEW semantic.daily_active_learners WITH (security_invoker = true) AS
        SELECT d.day, d.learners FROM app.daily_active_learners d
        """,
        """
        CREATE VIEW semantic.daily_enrollment_outcomes WITH (security_invoker = true) AS
        SELECT o.day, o.course_id, o.cohort, o.region, o.days_to_complete, o.enrollments FROM app.daily_enrollment_outcomes o
        """,
        """
        CREATE VIEW semantic.daily_feature_usage WITH (security_invoker = true) AS
        SELECT f.day, f.feature_key, f.events, f.actors FROM app.daily_feature_usage f
        """,
        """
        CREATE VIEW semantic.feature_events WITH (security_invoker = true) AS
        SELECT f.id AS event_id, f.feature_key, f.occurred_at, f.received_at FROM app.feature_events f
        """,
        "GRANT SELECT ON ALL TABLES IN SCHEMA semantic TO tenantscope_sandbox",

        // What the views read, column by column; unreachable by name without USAGE on schema app.
        """
        GRANT SELECT (tenant_id, id, actor_key, verb_id, object_id, object_type, course_iri, course_title, registration,
                      "timestamp", stored, voided, voids, completes_course, cohort, learner_region)
        ON app.statements TO tenantscope_sandbox
        """,
        """
        GRANT SELECT (tenant_id, id, actor_key, learner_key, display_name, region, first_seen, last_seen)
        ON app.learners TO tenantscope_sandbox
        """,
        "GRANT SELECT (tenant_id, id, course_iri, title, created_at) ON app.courses TO tenantscope_sandbox",
        """
        GRANT SELECT (tenant_id, learner_id, course_id, enrolled_at, completed_at, cohort, registration)
        ON app.enrollments TO tenantscope_sandbox
        """,
        "GRANT SELECT (tenant_id, day, learner_hash, statements) ON app.daily_learner_activity TO tenantscope_sandbox",
        "GRANT SELECT (tenant_id, day, learners) ON app.daily_active_learners TO tenantscope_sandbox",
        """
        GRANT SELECT (tenant_id, day, course_id, cohort, region, days_to_complete, enrollments)
        ON app.daily_enrollment_outcomes TO tenantscope_sandbox
        """,
        "GRANT SELECT (tenant_id, day, feature_key, events, actors) ON app.daily_feature_usage TO tenantscope_sandbox",
        "GRANT SELECT (tenant_id, id, feature_key, occurred_at, received_at) ON app.feature_events TO tenantscope_sandbox",
        // The tenant-isolation policies call it: it returns the signed context's tenant, or NULL.
        "GRANT EXECUTE ON FUNCTION app.current_tenant() TO tenantscope_sandbox",

        // The documentation of every view and column (the same text as `SemanticLayer`; a test compares them).
        "COMMENT ON VIEW semantic.statements IS 'xAPI statements received by this tenant''s learning record store, one row per statement.'",
        "COMMENT ON COLUMN semantic.statements.statement_id IS 'The statement''s xAPI id.'",
        "COMMENT ON COLUMN semantic.statements.learner_id IS 'The learner who made it (semantic.learners); null until the learner is derived.'",
        "COMMENT ON COLUMN semantic.statements.verb_id IS 'The xAPI verb IRI, e.g. http://adlnet.gov/expapi/verbs/completed.'",
        "COMMENT ON COLUMN semantic.statements.object_id IS 'The IRI of the activity the statement is about.'",
        "COMMENT ON COLUMN semantic.statements.object_type IS 'The activity type IRI, when the statement gave one.'",
        "COMMENT ON COLUMN semantic.statements.course_iri IS 'The course the activity belongs to (the object or its parent/grouping course).'",
        "COMMENT ON COLUMN semantic.statements.course_title IS 'The course''s display name as the statement gave it.'",
        "COMMENT ON COLUMN semantic.statements.registration IS 'The xAPI registration (one attempt at a course), when given.'",
        "COMMENT ON COLUMN semantic.statements.occurred_at IS 'When the experience happened (xAPI timestamp).'",
        "COMMENT ON COLUMN semantic.statements.stored_at IS 'When TenantScope stored the statement.'",
        "COMMENT ON COLUMN semantic.statements.voided IS 'True once a later statement voided this one; most analyses exclude voided rows.'",
        "COMMENT ON COLUMN semantic.statements.voids_statement_id IS 'For a voiding statement: the id of the statement it voids; null otherwise.'",
        "COMMENT ON COLUMN semantic.statements.completes_course IS 'True when the statement completes its course (completed/passed on the course).'",
        "COMMENT ON COLUMN semantic.statements.cohort IS 'The cohort a context extension named, if any.'",
        "COMMENT ON COLUMN semantic.statements.region IS 'The learner''s region a context extension named, if any.'",
        "COMMENT ON VIEW semantic.learners IS 'Learners of this tenant, derived from statements.'",
        "COMMENT ON COLUMN semantic.learners.learner_id IS 'The learner''s random id in this tenant.'",
        "COMMENT ON COLUMN semantic.learners.display_name IS 'The learner''s name as statements gave it.'",
        "COMMENT ON COLUMN semantic.learners.region IS 'The learner''s region, if statements named one.'",
        "COMMENT ON COLUMN semantic.learners.first_seen IS 'The learner''s first statement.'",
        "COMMENT ON COLUMN semantic.learners.last_seen IS 'The learner''s latest statement.'",
        "COMMENT ON VIEW semantic.courses IS 'Courses of this tenant, derived from statements.'",
        "COMMENT ON COLUMN semantic.courses.course_id IS 'The course''s id.'",
        "COMMENT ON COLUMN semantic.courses.course_iri IS 'The course''s activity IRI.'",
        "COMMENT ON COLUMN semantic.courses.title IS 'The course''s display name.'",
        "COMMENT ON COLUMN semantic.courses.created_at IS 'When TenantScope first saw the course.'",
        "COMMENT ON VIEW semantic.enrollments IS 'One row per learner and course: when the learner enrolled and completed.'",
        "COMMENT ON COLUMN semantic.enrollments.learner_id IS 'The learner (semantic.learners).'",
        "COMMENT ON COLUMN semantic.enrollments.course_id IS 'The course (semantic.courses).'",
        "COMMENT ON COLUMN semantic.enrollments.enrolled_at IS 'Registration or first activity in the course.'",
        "COMMENT ON COLUMN semantic.enrollments.completed_at IS 'First completion of the course; null while not completed.'",
        "COMMENT ON COLUMN semantic.enrollments.cohort IS 'The cohort: a context extension''s, else the enrollment month (YYYY-MM).'",
        "COMMENT ON COLUMN semantic.enrollments.registration IS 'The xAPI registration of the enrollment, when given.'",
        "COMMENT ON VIEW semantic.daily_learner_activity IS 'Roll-up: statements per learner and UTC day (voided statements excluded).'",
        "COMMENT ON COLUMN semantic.daily_learner_activity.day IS 'The UTC day.'",
        "COMMENT ON COLUMN semantic.daily_learner_activity.learner_id IS 'The learner (semantic.learners).'",
        "COMMENT ON COLUMN semantic.daily_learner_activity.statements IS 'Statements the learner made that day.'",
        "COMMENT ON VIEW semantic.daily_active_learners IS 'Roll-up: distinct active learners per UTC day.'",
        "COMMENT ON COLUMN semantic.daily_active_learners.day IS 'The UTC day.'",
        "COMMENT ON COLUMN semantic.daily_active_learners.learners IS 'Distinct learners with at least one statement that day.'",
        "COMMENT ON VIEW semantic.daily_enrollment_outcomes IS 'Roll-up: enrollments per UTC enrollment day, course, cohort, region and days to complete.'",
        "COMMENT ON COLUMN semantic.daily_enrollment_outcomes.day IS 'The UTC day of enrollment.'",
        "COMMENT ON COLUMN semantic.daily_enrollment_outcomes.course_id IS 'The course (semantic.courses).'",
        "COMMENT ON COLUMN semantic.daily_enrollment_outcomes.cohort IS 'The enrollments'' cohort.'",
        "COMMENT ON COLUMN semantic.daily_enrollment_outcomes.region IS 'The learners'' region, if known.'",
        "COMMENT ON COLUMN semantic.daily_enrollment_outcomes.days_to_complete IS 'Whole days from enrollment to completion; null while not completed.'",
        "COMMENT ON COLUMN semantic.daily_enrollment_outcomes.enrollments IS 'Enrollments in this group.'",
        "COMMENT ON VIEW semantic.daily_feature_usage IS 'Roll-up: product feature use per UTC day.'",
        "COMMENT ON COLUMN semantic.daily_feature_usage.day IS 'The UTC day.'",
        "COMMENT ON COLUMN semantic.daily_feature_usage.feature_key IS 'The product feature, e.g. reports.export.'",
        "COMMENT ON COLUMN semantic.daily_feature_usage.events IS 'Events of the feature that day.'",
        "COMMENT ON COLUMN semantic.daily_feature_usage.actors IS 'Distinct users of the feature that day.'",
        "COMMENT ON VIEW semantic.feature_events IS 'Product events: which feature was used when (the acting user is not exposed).'",
        "COMMENT ON COLUMN semantic.feature_events.event_id IS 'The event''s id.'",
        "COMMENT ON COLUMN semantic.feature_events.feature_key IS 'The product feature.'",
        "COMMENT ON COLUMN semantic.feature_events.occurred_at IS 'When the feature was used.'",
        "COMMENT ON COLUMN semantic.feature_events.received_at IS 'When TenantScope received the event.'",
    ])
}
