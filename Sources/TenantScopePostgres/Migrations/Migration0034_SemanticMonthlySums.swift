extension Migration {
    /// The monthly outcome sums (migration 30) in the semantic layer, for tenant SQL and AI agents.
    ///
    /// A question over a year of enrollments read `semantic.daily_enrollment_outcomes`, about one row per
    /// enrollment for a large tenant, while the served reports read a few rows per month and course from the
    /// monthly sums. Two views expose those sums the way the layer exposes everything else: `security_invoker`,
    /// so the tables' row-level security applies to the sandbox, and readable column by column (architecture
    /// decision 38). Their documentation is `SemanticLayer`'s, which a test compares with these comments.
    static let semanticMonthlySums = Migration(version: 34, name: "semantic monthly sums", statements: [
        """
        CREATE VIEW semantic.monthly_course_outcomes WITH (security_invoker = true) AS
        SELECT m.month, m.course_id, m.cohort, m.region, m.enrolled, m.completed FROM app.monthly_course_outcomes m
        """,
        """
        CREATE VIEW semantic.monthly_completion_times WITH (security_invoker = true) AS
        SELECT m.month, m.course_id, m.region, m.days_to_complete, m.completions FROM app.monthly_completion_times m
        """,
        "GRANT SELECT ON semantic.monthly_course_outcomes, semantic.monthly_completion_times TO tenantscope_sandbox",
        """
        GRANT SELECT (tenant_id, month, course_id, cohort, region, enrolled, completed)
        ON app.monthly_course_outcomes TO tenantscope_sandbox
        """,
        """
        GRANT SELECT (tenant_id, month, course_id, region, days_to_complete, completions)
        ON app.monthly_completion_times TO tenantscope_sandbox
        """,

        "COMMENT ON VIEW semantic.monthly_course_outcomes IS 'Roll-up: enrollments and completions per UTC enrollment month, course, cohort and region (semantic.daily_enrollment_outcomes summed by month).'",
        "COMMENT ON COLUMN semantic.monthly_course_outcomes.month IS 'The first day of the UTC month of enrollment; the current month holds the days rolled up so far.'",
        "COMMENT ON COLUMN semantic.monthly_course_outcomes.course_id IS 'The course (semantic.courses).'",
        "COMMENT ON COLUMN semantic.monthly_course_outcomes.cohort IS 'The enrollments'' cohort.'",
        "COMMENT ON COLUMN semantic.monthly_course_outcomes.region IS 'The learners'' region, if known.'",
        "COMMENT ON COLUMN semantic.monthly_course_outcomes.enrolled IS 'Enrollments in this group.'",
        "COMMENT ON COLUMN semantic.monthly_course_outcomes.completed IS 'Of them, the ones completed.'",

        "COMMENT ON VIEW semantic.monthly_completion_times IS 'Roll-up: completed enrollments per UTC enrollment month, course, region and days to complete (semantic.daily_enrollment_outcomes summed by month).'",
        "COMMENT ON COLUMN semantic.monthly_completion_times.month IS 'The first day of the UTC month of enrollment; the current month holds the days rolled up so far.'",
        "COMMENT ON COLUMN semantic.monthly_completion_times.course_id IS 'The course (semantic.courses).'",
        "COMMENT ON COLUMN semantic.monthly_completion_times.region IS 'The learners'' region, if known.'",
        "COMMENT ON COLUMN semantic.monthly_completion_times.days_to_complete IS 'Whole days from enrollment to completion.'",
        "COMMENT ON COLUMN semantic.monthly_completion_times.completions IS 'Completed enrollments in this group.'",
    ])
}
