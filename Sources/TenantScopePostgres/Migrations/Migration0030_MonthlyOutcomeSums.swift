extension Migration {
    /// Enrollment outcomes pre-summed per month, so the served course and cohort reports read a number of rows
    /// that does not grow with the tenant's learners (issue 16, architecture decision 53).
    ///
    /// `app.daily_enrollment_outcomes` keys a count by enrollment day, course, cohort, region and days to
    /// complete: at 10M statements its biggest tenant holds about one row per enrollment, so a report over a
    /// year read ~60,000 rows. The two tables here drop what each report does not need and sum whole months:
    ///
    /// - `app.monthly_course_outcomes`: enrolled and completed per month, course, cohort and region (the
    ///   completion-rate and cohort reports);
    /// - `app.monthly_completion_times`: completions per month, course, region and days to complete (the
    ///   time-to-complete report).
    ///
    /// Served SQL reads whole months from these and the days of a partial first month and of the current month
    /// from the daily table, so answers stay exact for any `since`. The sums are kept by statement-level
    /// triggers on the daily table: every writer of it (derivation's merge, a full rebuild, learner erasure, a
    /// tenant move) keeps them right without knowing they exist.
    static let monthlyOutcomeSums = Migration(version: 30, name: "monthly outcome sums", statements: [
        """
        CREATE TABLE app.monthly_course_outcomes (
          tenant_id uuid NOT NULL REFERENCES app.tenants (id) ON DELETE CASCADE,
          month date NOT NULL CHECK (extract(day FROM month) = 1),
          course_id uuid NOT NULL,
          cohort text NOT NULL,
          region text,
          enrolled integer NOT NULL,
          completed integer NOT NULL,
          FOREIGN KEY (tenant_id, course_id) REFERENCES app.courses (tenant_id, id) ON DELETE CASCADE,
          UNIQUE NULLS NOT DISTINCT (tenant_id, month, course_id, cohort, region)
        )
        """,
        "CALL app_private.protect_tenant_table('app.monthly_course_outcomes')",
        """
        CREATE TABLE app.monthly_completion_times (
          tenant_id uuid NOT NULL REFERENCES app.tenants (id) ON DELETE CASCADE,
          month date NOT NULL CHECK (extract(day FROM month) = 1),
          course_id uuid NOT NULL,
          region text,
          days_to_complete integer NOT NULL,
          completions integer NOT NULL,
          FOREIGN KEY (tenant_id, course_id) REFERENCES app.courses (tenant_id, id) ON DELETE CASCADE,
          UNIQUE NULLS NOT DISTINCT (tenant_id, month, course_id, region, days_to_complete)
        )
        """,
        "CALL app_private.protect_tenant_table('app.monthly_completion_times')",
        // The counts carry no CHECK: a change is applied by one upsert that adds a signed difference, and
        // PostgreSQL checks a row's constraints before it finds the conflict, so a negative difference would be
        // refused even where it only lowers a stored count. A count that reaches zero is deleted by the trigger.

        // Served reports read today's enrollments from the derived table: without this index that read went
        // through every enrollment of the tenant, the one part of the course and cohort reports that still
        // grew with learners.
        "CREATE INDEX enrollments_tenant_enrolled_at ON app.enrollments (tenant_id, enrolled_at)",

        // One changed row of the daily table, signed: the trigger's working set.
        """
        CREATE TYPE app.enrollment_outcome_change AS (
          tenant_id uuid, day date, course_id uuid, cohort text, region text, days_to_complete integer, enrollments integer
        )
        """,
        """
        CREATE FUNCTION app.sum_enrollment_outcomes_by_month() RETURNS trigger
        LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, pg_temp
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
          DELETE FROM app.monthly_course_outcomes o
            USING (SELECT DISTINCT c.tenant_id, date_trunc('month', c.day::timestamp)::date AS month, c.course_id, c.cohort, c.region
                   FROM unnest(changes) c) k
            WHERE o.tenant_id = k.tenant_id AND o.month = k.month AND o.course_id = k.course_id AND o.cohort = k.cohort
              AND o.region IS NOT DISTINCT FROM k.region AND o.enrolled = 0;

          INSERT INTO app.monthly_completion_times AS o (tenant_id, month, course_id, region, days_to_complete, completions)
            SELECT c.tenant_id, date_trunc('month', c.day::timestamp)::date, c.course_id, c.region, c.days_to_complete, sum(c.enrollments)::integer
            FROM unnest(changes) c
            WHERE c.days_to_complete IS NOT NULL
            GROUP BY 1, 2, 3, 4, 5
            HAVING sum(c.enrollments) <> 0
            ORDER BY 1, 2, 3, 4, 5
          ON CONFLICT (tenant_id, month, course_id, region, days_to_complete)
            DO UPDATE SET completions = o.completions + EXCLUDED.completions;
          DELETE FROM app.monthly_completion_times o
            USING (SELECT DISTINCT c.tenant_id, date_trunc('month', c.day::timestamp)::date AS month, c.course_id, c.region, c.days_to_complete
                   FROM unnest(changes) c WHERE c.days_to_complete IS NOT NULL) k
            WHERE o.tenant_id = k.tenant_id AND o.month = k.month AND o.course_id = k.course_id
              AND o.region IS NOT DISTINCT FROM k.region AND o.days_to_complete = k.days_to_complete AND o.completions = 0;
          RETURN NULL;
        END
        $$
        """,
        "REVOKE ALL ON FUNCTION app.sum_enrollment_outcomes_by_month() FROM PUBLIC",

        // What the daily table holds now, summed by the owner (exempt from the policies while they are not forced;
        // the schema audit checks they are forced again).
        "ALTER TABLE app.daily_enrollment_outcomes NO FORCE ROW LEVEL SECURITY",
        "ALTER TABLE app.monthly_course_outcomes NO FORCE ROW LEVEL SECURITY",
        "ALTER TABLE app.monthly_completion_times NO FORCE ROW LEVEL SECURITY",
        """
        INSERT INTO app.monthly_course_outcomes (tenant_id, month, course_id, cohort, region, enrolled, completed)
          SELECT o.tenant_id, date_trunc('month', o.day::timestamp)::date, o.course_id, o.cohort, o.region, sum(o.enrollments)::integer,
                 coalesce(sum(o.enrollments) FILTER (WHERE o.days_to_complete IS NOT NULL), 0)::integer
          FROM app.daily_enrollment_outcomes o
          GROUP BY 1, 2, 3, 4, 5
        """,
        """
        INSERT INTO app.monthly_completion_times (tenant_id, month, course_id, region, days_to_complete, completions)
          SELECT o.tenant_id, date_trunc('month', o.day::timestamp)::date, o.course_id, o.region, o.days_to_complete, sum(o.enrollments)::integer
          FROM app.daily_enrollment_outcomes o
          WHERE o.days_to_complete IS NOT NULL
          GROUP BY 1, 2, 3, 4, 5
        """,
        "ALTER TABLE app.daily_enrollment_outcomes FORCE ROW LEVEL SECURITY",
        "ALTER TABLE app.monthly_course_outcomes FORCE ROW LEVEL SECURITY",
        "ALTER TABLE app.monthly_completion_times FORCE ROW LEVEL SECURITY",

        // One trigger per event: a trigger with transition tables serves a single event.
        """
        CREATE TRIGGER monthly_sums_after_insert AFTER INSERT ON app.daily_enrollment_outcomes
          REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION app.sum_enrollment_outcomes_by_month()
        """,
        """
        CREATE TRIGGER monthly_sums_after_update AFTER UPDATE ON app.daily_enrollment_outcomes
          REFERENCING OLD TABLE AS removed NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION app.sum_enrollment_outcomes_by_month()
        """,
        """
        CREATE TRIGGER monthly_sums_after_delete AFTER DELETE ON app.daily_enrollment_outcomes
          REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION app.sum_enrollment_outcomes_by_month()
        """,
    ])
}
