extension Migration {
    /// The monthly outcome sums once more without the region, so the served course, cohort and time-to-complete
    /// reports of a principal without a region filter read the sums they need, not one row per region (issue 16,
    /// architecture decision 76).
    ///
    /// Migration 30 keys its sums by region because a principal's region attribute filters these reports. Every
    /// other request sums the regions away at query time: at 10M statements the biggest tenant's year read 5,915
    /// completion-time rows and 1,080 course rows to group into a few hundred.
    /// `app.monthly_course_outcomes_all_regions` and `app.monthly_completion_times_all_regions` (270 and 2,041 rows
    /// there) hold those sums with the region summed, kept by the same trigger on `app.daily_enrollment_outcomes` as
    /// migration 30's tables, so every writer of the daily table (derivation's merge, a full rebuild, learner
    /// erasure, a tenant move) keeps them right without knowing they exist.
    static let monthlySumsOverAllRegions = Migration(version: 44, name: "monthly sums over all regions", statements: [
        """
        CREATE TABLE app.monthly_course_outcomes_all_regions (
          tenant_id uuid NOT NULL REFERENCES app.tenants (id) ON DELETE CASCADE,
          month date NOT NULL CHECK (extract(day FROM month) = 1),
          course_id uuid NOT NULL,
          cohort text NOT NULL,
          enrolled integer NOT NULL,
          completed integer NOT NULL,
          FOREIGN KEY (tenant_id, course_id) REFERENCES app.courses (tenant_id, id) ON DELETE CASCADE,
          PRIMARY KEY (tenant_id, month, course_id, cohort) INCLUDE (enrolled, completed)
        )
        """,
        "CALL app_private.protect_tenant_table('app.monthly_course_outcomes_all_regions')",
        """
        CREATE TABLE app.monthly_completion_times_all_regions (
          tenant_id uuid NOT NULL REFERENCES app.tenants (id) ON DELETE CASCADE,
          month date NOT NULL CHECK (extract(day FROM month) = 1),
          course_id uuid NOT NULL,
          days_to_complete integer NOT NULL,
          completions integer NOT NULL,
          FOREIGN KEY (tenant_id, course_id) REFERENCES app.courses (tenant_id, id) ON DELETE CASCADE,
          PRIMARY KEY (tenant_id, month, course_id, days_to_complete) INCLUDE (completions)
        )
        """,
        "CALL app_private.protect_tenant_table('app.monthly_completion_times_all_regions')",
        // As in migration 30, no CHECK on the counts: a change is one upsert adding a signed difference, and
        // PostgreSQL checks a row before it finds the conflict. A count that reaches zero is deleted.
        //
        // The keys include the counts, so a report reads its months from the index alone: a tenant's rows are
        // written month by month among every other tenant's, one heap page each (2,058 buffer reads for the
        // biggest tenant's 2,041 completion-time rows at 10M statements). An update of a count is then never HOT;
        // with the two more sums, derivation's catch-ups measured 1.03–1.14× as long (decision 76).

        // Migration 30's trigger function with the same two sums over all regions after its own. A change that
        // moves an enrollment between regions (an update of its learner's region) cancels out here, and the HAVING
        // drops it.
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

          INSERT INTO app.monthly_course_outcomes_all_regions AS o (tenant_id, month, course_id, cohort, enrolled, completed)
            SELECT c.tenant_id, date_trunc('month', c.day::timestamp)::date, c.course_id, c.cohort, sum(c.enrollments)::integer,
                   coalesce(sum(c.enrollments) FILTER (WHERE c.days_to_complete IS NOT NULL), 0)::integer
            FROM unnest(changes) c
            GROUP BY 1, 2, 3, 4
            HAVING sum(c.enrollments) <> 0 OR coalesce(sum(c.enrollments) FILTER (WHERE c.days_to_complete IS NOT NULL), 0) <> 0
            ORDER BY 1, 2, 3, 4
          ON CONFLICT (tenant_id, month, course_id, cohort)
            DO UPDATE SET enrolled = o.enrolled + EXCLUDED.enrolled, completed = o.completed + EXCLUDED.completed;
          DELETE FROM app.monthly_course_outcomes_all_regions o
            USING (SELECT DISTINCT c.tenant_id, date_trunc('month', c.day::timestamp)::date AS month, c.course_id, c.cohort
                   FROM unnest(changes) c) k
            WHERE o.tenant_id = k.tenant_id AND o.month = k.month AND o.course_id = k.course_id AND o.cohort = k.cohort
              AND o.enrolled = 0;

          INSERT INTO app.monthly_completion_times_all_regions AS o (tenant_id, month, course_id, days_to_complete, completions)
            SELECT c.tenant_id, date_trunc('month', c.day::timestamp)::date, c.course_id, c.days_to_complete, sum(c.enrollments)::integer
            FROM unnest(changes) c
            WHERE c.days_to_complete IS NOT NULL
            GROUP BY 1, 2, 3, 4
            HAVING sum(c.enrollments) <> 0
            ORDER BY 1, 2, 3, 4
          ON CONFLICT (tenant_id, month, course_id, days_to_complete)
            DO UPDATE SET completions = o.completions + EXCLUDED.completions;
          DELETE FROM app.monthly_completion_times_all_regions o
            USING (SELECT DISTINCT c.tenant_id, date_trunc('month', c.day::timestamp)::date AS month, c.course_id, c.days_to_complete
                   FROM unnest(changes) c WHERE c.days_to_complete IS NOT NULL) k
            WHERE o.tenant_id = k.tenant_id AND o.month = k.month AND o.course_id = k.course_id
              AND o.days_to_complete = k.days_to_complete AND o.completions = 0;
          RETURN NULL;
        END
        $$
        """,

        // What the region-keyed sums hold now, summed over their regions by the owner (exempt from the policies while
        // they are not forced; the schema audit checks they are forced again).
        "ALTER TABLE app.monthly_course_outcomes NO FORCE ROW LEVEL SECURITY",
        "ALTER TABLE app.monthly_completion_times NO FORCE ROW LEVEL SECURITY",
        "ALTER TABLE app.monthly_course_outcomes_all_regions NO FORCE ROW LEVEL SECURITY",
        "ALTER TABLE app.monthly_completion_times_all_regions NO FORCE ROW LEVEL SECURITY",
        """
        INSERT INTO app.monthly_course_outcomes_all_regions (tenant_id, month, course_id, cohort, enrolled, completed)
          SELECT m.tenant_id, m.month, m.course_id, m.cohort, sum(m.enrolled)::integer, sum(m.completed)::integer
          FROM app.monthly_course_outcomes m
          GROUP BY 1, 2, 3, 4
          HAVING sum(m.enrolled) <> 0 OR sum(m.completed) <> 0
        """,
        """
        INSERT INTO app.monthly_completion_times_all_regions (tenant_id, month, course_id, days_to_complete, completions)
          SELECT m.tenant_id, m.month, m.course_id, m.days_to_complete, sum(m.completions)::integer
          FROM app.monthly_completion_times m
          GROUP BY 1, 2, 3, 4
          HAVING sum(m.completions) <> 0
        """,
        "ALTER TABLE app.monthly_course_outcomes FORCE ROW LEVEL SECURITY",
        "ALTER TABLE app.monthly_completion_times FORCE ROW LEVEL SECURITY",
        "ALTER TABLE app.monthly_course_outcomes_all_regions FORCE ROW LEVEL SECURITY",
        "ALTER TABLE app.monthly_completion_times_all_regions FORCE ROW LEVEL SECURITY",
    ])
}
