extension Migration {
    /// The monthly outcome sums once more without the course (and the region), for the served cohort and
    /// time-to-complete reports of a principal without a region filter asking about every course: the reports' common
    /// case, the dashboard's included (issue 16, architecture decision 78).
    ///
    /// Those two reports show cohorts and days to complete, not courses, yet read migration 44's sums per course and
    /// sum the courses away at query time: at 10M statements the biggest tenant's sums are 2,041 completion-time rows,
    /// 317 once the courses are summed, and 270 course rows, 30 once summed (six cohorts in each of five months).
    /// `app.monthly_cohort_outcomes_all_courses` (enrolled and completed per month and cohort) and
    /// `app.monthly_completion_times_all_courses` (completions per month and whole days to complete) hold those sums,
    /// kept by the same trigger on `app.daily_enrollment_outcomes` as migrations 30 and 44, so every writer of the daily
    /// table keeps them right without knowing they exist. A course filter (and a region filter) still reads the sums per
    /// course.
    static let monthlySumsOverAllCourses = Migration(version: 45, name: "monthly sums over all courses", statements: [
        """
        CREATE TABLE app.monthly_cohort_outcomes_all_courses (
          tenant_id uuid NOT NULL REFERENCES app.tenants (id) ON DELETE CASCADE,
          month date NOT NULL CHECK (extract(day FROM month) = 1),
          cohort text NOT NULL,
          enrolled integer NOT NULL,
          completed integer NOT NULL,
          PRIMARY KEY (tenant_id, month, cohort) INCLUDE (enrolled, completed)
        )
        """,
        "CALL app_private.protect_tenant_table('app.monthly_cohort_outcomes_all_courses')",
        """
        CREATE TABLE app.monthly_completion_times_all_courses (
          tenant_id uuid NOT NULL REFERENCES app.tenants (id) ON DELETE CASCADE,
          month date NOT NULL CHECK (extract(day FROM month) = 1),
          days_to_complete integer NOT NULL,
          completions integer NOT NULL,
          PRIMARY KEY (tenant_id, month, days_to_complete) INCLUDE (completions)
        )
        """,
        "CALL app_private.protect_tenant_table('app.monthly_completion_times_all_courses')",
        // As in migrations 30 and 44: no CHECK on the counts (a change is one upsert adding a signed difference), a count
        // that reaches zero is deleted, and the keys include the counts so that reports read them from the index alone.
        // They name no course, so no foreign key to one: a course's deletion cascades to its daily rows, and the trigger
        // takes those out of these sums as out of the others.

        // Migration 44's trigger function with the two sums over all courses after its own. An insert into the daily
        // table only adds (its rows' enrollments are positive, by its CHECK), so no sum can reach zero and the deletes
        // of zeroed sums run only for updates and deletes: an insert is spared the four deletes it ran until now and the
        // two more this migration would add.
        """
        CREATE OR REPLACE FUNCTION app.sum_enrollment_outcomes_by_month() RETURNS trigger
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
        $$
        """,

        // What the sums over all regions hold now, summed over their courses by the owner (exempt from the policies while
        // they are not forced; the schema audit checks they are forced again).
        "ALTER TABLE app.monthly_course_outcomes_all_regions NO FORCE ROW LEVEL SECURITY",
        "ALTER TABLE app.monthly_completion_times_all_regions NO FORCE ROW LEVEL SECURITY",
        "ALTER TABLE app.monthly_cohort_outcomes_all_courses NO FORCE ROW LEVEL SECURITY",
        "ALTER TABLE app.monthly_completion_times_all_courses NO FORCE ROW LEVEL SECURITY",
        """
        INSERT INTO app.monthly_cohort_outcomes_all_courses (tenant_id, month, cohort, enrolled, completed)
          SELECT m.tenant_id, m.month, m.cohort, sum(m.enrolled)::integer, sum(m.completed)::integer
          FROM app.monthly_course_outcomes_all_regions m
          GROUP BY 1, 2, 3
          HAVING sum(m.enrolled) <> 0 OR sum(m.completed) <> 0
        """,
        """
        INSERT INTO app.monthly_completion_times_all_courses (tenant_id, month, days_to_complete, completions)
          SELECT m.tenant_id, m.month, m.days_to_complete, sum(m.completions)::integer
          FROM app.monthly_completion_times_all_regions m
          GROUP BY 1, 2, 3
          HAVING sum(m.completions) <> 0
        """,
        "ALTER TABLE app.monthly_course_outcomes_all_regions FORCE ROW LEVEL SECURITY",
        "ALTER TABLE app.monthly_completion_times_all_regions FORCE ROW LEVEL SECURITY",
        "ALTER TABLE app.monthly_cohort_outcomes_all_courses FORCE ROW LEVEL SECURITY",
        "ALTER TABLE app.monthly_completion_times_all_courses FORCE ROW LEVEL SECURITY",
    ])
}
