/// The report catalog TenantScope ships (the seed's table of query patterns, plus a per-tenant
/// platform overview). Tenant SQL reads the tenant's own tables under row-level security; platform SQL
/// reads only per-tenant daily roll-ups and the tenant directory, aggregating at query time. Tenant
/// reports are served from roll-ups and carry a cold (raw statements) variant of the same answer.
public enum StandardReports {
    static let days = ReportParameter("days", .integer(min: 1, max: 365, default: 30), help: "Window length in days, ending today (UTC).")
    static let since = ReportParameter("since", .date(defaultDaysAgo: 365), help: "Only enrollments from this day on (YYYY-MM-DD).")
    static let course = ReportParameter("course", .text(maxLength: 500), help: "Only this course (its IRI or title).")

    // MARK: - Shared SQL
    //
    // Served (hot) SQL reads the daily roll-ups for complete days (before today, UTC) and the raw or derived
    // tables for today; cold SQL reads raw statements only. The roll-up service keeps complete days current
    // (RollupService); RollupPropertyTests holds hot and cold equal. Served SQL keeps one plan per connection
    // (QueryPlanning.oncePerConnection, decision 75), so it is written for a plan that cannot see its values: each
    // source a range read of a tenant-leading index, the groups fenced, optional filters uncorrelated.

    /// The window of `active_learners`: the last `:days` UTC days, today included.
    static let windowDays = """
        window_days AS (
          SELECT d::date AS day FROM generate_series(current_date - (:days::int - 1), current_date, interval '1 day') d
        )
        """

    /// The region filter (a signed user attribute) on a roll-up row and on a raw statement. The roll-up row's is
    /// uncorrelated, so that the plan served reports keep for every run (decision 75) looks the region's learners up once
    /// and hashes them: a correlated `EXISTS` under the `OR` was probed once per learner-day row, five times slower.
    static let regionOfHash = "(:attr_region::text IS NULL OR a.learner_hash IN (SELECT l.learner_key FROM app.learners l WHERE l.region = :attr_region::text))"
    static let regionOfActor = "(:attr_region::text IS NULL OR EXISTS (SELECT 1 FROM app.learners l WHERE l.actor_key = s.actor_key AND l.region = :attr_region::text))"

    // Every outcomes CTE has the columns course_id, cohort, days_to_complete (NULL: not completed, or not
    // known to a row that sums it away), n (enrollments) and completed (of them, completed). Served SQL reads
    // whole months from the monthly sums (migration 30), the current month's included, and a partial first month
    // from the daily roll-up (or as its sum less the days before it): rows read grow with months and courses, not
    // with learners (architecture decision 53), nor with the day of the month (decision 74), nor with the hour of
    // the day (decision 77).

    /// The first day of the first whole month from `:since` on, the first day of `:since`'s month, and the first
    /// day of the current month.
    static let firstWholeMonth = "(date_trunc('month', (:since::date - 1)::timestamp) + interval '1 month')::date"
    static let sinceMonth = "date_trunc('month', :since::date::timestamp)::date"
    static let currentMonth = "date_trunc('month', current_date::timestamp)::date"
    /// Whether the partial first month is read as its sum less the days before `:since` (fewer days than from
    /// `:since` to the month's end), not as the days from `:since` on. Only a month before the current one.
    static let headTakenOut = """
        (:since::date > \(sinceMonth) AND \(sinceMonth) < \(currentMonth) AND :since::date - \(sinceMonth) < \(firstWholeMonth) - :since::date)
        """
    /// The first month read from the monthly sums.
    static let firstSummedMonth = "CASE WHEN \(headTakenOut) THEN \(sinceMonth) ELSE \(firstWholeMonth) END"
    /// The last month a statement's timestamp can name (`ISO8601Timestamp` reads years 1 to 9999). Every month is
    /// before it; as the upper bound of the months read, it makes the bounds a range, which the plan kept for every run
    /// estimates as a few rows and reads from the index alone. A lower bound alone is estimated as a third of the
    /// tenant's rows, and the kept plan read the sums' heap (a bitmap or sequential scan).
    static let lastMonth = "'9999-12-01'::date"

    /// Whether a served report reads the sums over all courses (migration 45): no region filter and no course filter.
    static let allCoursesRead = "(:attr_region::text IS NULL AND :course::text IS NULL)"

    /// A served outcomes CTE from the monthly sums and the daily roll-up, each given its select list (and a filter where
    /// it needs one):
    /// - `monthly`: the monthly sums (alias `m`) for the months from the first summed one on, the current month and
    ///   any later one included, from the narrowest table the request's filters allow: with a region filter the table
    ///   keyed by region (`table`); without one, the table that sums all regions (`allRegions`, migration 44: for the
    ///   biggest tenant at 10M statements a third of the completion-time rows and a quarter of the course rows); without
    ///   a course filter either, for a report that shows no course, the table that sums all courses too (`allCourses`,
    ///   migration 45: for that tenant 317 completion-time rows instead of 2,041, 30 cohort rows instead of 270). Which
    ///   is read is decided at run time, in a plan kept for every run (decision 75);
    /// - `daily`: the daily roll-up (alias `o`), range reads of its (tenant, day) index, for a partial first month,
    ///   read from the side with fewer days: its days from `since` on, or, when the days before `since` are fewer, its
    ///   monthly sum less those days, read in the sums' shape (`asMonthly`: negated, grouped as the sums group them),
    ///   so each cancels a part of the sum it is in. When `since` falls in the current month, no month before the next
    ///   is summed: the month's days from `since` on are read and nothing is taken out. Both select lists name the
    ///   columns after the course; the course is the row's, or none where the sums over all courses are read, so that
    ///   a day taken out of a month cancels in the same group as the month's sum.
    ///
    /// Today needs no source of its own: derivation writes an enrollment and its outcome row in the same transaction,
    /// and so does every other writer of either (a full derivation, a rebuild, learner erasure, a tenant move), so the
    /// roll-up rows of today are the derived enrollments of today at every commit (decision 77; until then the reports
    /// took today's rows out of the sums and read today's enrollments instead, the same answer for up to a thousand
    /// rows more late in the day).
    static func servedOutcomes(monthly: (table: String, allRegions: String, columns: String),
                               allCourses: (table: String, columns: String)? = nil,
                               daily: (columns: String, asMonthly: String, filter: String)) -> String {
        let dailyFilter = "\(daily.filter) AND (:attr_region::text IS NULL OR o.region = :attr_region::text)"
        let months = "m.month >= \(firstSummedMonth) AND m.month <= \(lastMonth)"
        let dailyCourse = allCourses == nil ? "o.course_id" : "CASE WHEN \(allCoursesRead) THEN NULL::uuid ELSE o.course_id END"
        let overAllCourses = allCourses.map { sums in
            """
              SELECT \(sums.columns)
              FROM \(sums.table) m
              WHERE \(allCoursesRead) AND \(months)
              UNION ALL

            """
        } ?? ""
        let allRegionsRead = allCourses == nil ? ":attr_region::text IS NULL" : ":attr_region::text IS NULL AND :course::text IS NOT NULL"
        return """
            outcomes AS (
            \(overAllCourses)  SELECT \(monthly.columns)
              FROM \(monthly.allRegions) m
              WHERE \(allRegionsRead) AND \(months)
              UNION ALL
              SELECT \(monthly.columns)
              FROM \(monthly.table) m
              WHERE :attr_region::text IS NOT NULL AND \(months) AND m.region = :attr_region::text
              UNION ALL
              SELECT \(dailyCourse), \(daily.columns)
              FROM app.daily_enrollment_outcomes o
              WHERE NOT \(headTakenOut) AND o.day >= :since::date AND o.day < \(firstWholeMonth) AND \(dailyFilter)
              UNION ALL
              SELECT \(dailyCourse), \(daily.asMonthly)
              FROM app.daily_enrollment_outcomes o
              WHERE \(headTakenOut) AND o.day >= \(sinceMonth) AND o.day < :since::date AND \(dailyFilter)
            )
            """
    }

    /// The monthly sums per course and cohort (migrations 30 and 44), and a partial month's days read in their shape.
    static let courseOutcomeSums = (table: "app.monthly_course_outcomes", allRegions: "app.monthly_course_outcomes_all_regions",
                                    columns: "m.course_id, m.cohort, NULL::int AS days_to_complete, m.enrolled AS n, m.completed")
    static let dailyCourseOutcomes = (
        columns: "o.cohort, o.days_to_complete, o.enrollments, CASE WHEN o.days_to_complete IS NULL THEN 0 ELSE o.enrollments END",
        asMonthly: "o.cohort, NULL::int, -o.enrollments, CASE WHEN o.days_to_complete IS NULL THEN 0 ELSE -o.enrollments END",
        filter: "true")

    /// Served outcomes for the course report: enrolled and completed per course and cohort.
    static let servedCourseOutcomes = servedOutcomes(monthly: courseOutcomeSums, daily: dailyCourseOutcomes)

    /// Served outcomes for the cohort report: the same, from the sums over all courses unless a filter needs the courses.
    static let servedCohortOutcomes = servedOutcomes(
        monthly: courseOutcomeSums,
        allCourses: ("app.monthly_cohort_outcomes_all_courses",
                     "NULL::uuid AS course_id, m.cohort, NULL::int AS days_to_complete, m.enrolled AS n, m.completed"),
        daily: dailyCourseOutcomes)

    /// Served outcomes for the time-to-complete report: completions per course (or none, from the sums over all courses)
    /// and whole days to complete.
    static let servedCompletionTimes = servedOutcomes(
        monthly: ("app.monthly_completion_times", "app.monthly_completion_times_all_regions",
                  "m.course_id, NULL::text AS cohort, m.days_to_complete, m.completions AS n, m.completions AS completed"),
        allCourses: ("app.monthly_completion_times_all_courses",
                     "NULL::uuid AS course_id, NULL::text AS cohort, m.days_to_complete, m.completions AS n, m.completions AS completed"),
        daily: ("o.cohort, o.days_to_complete, o.enrollments, o.enrollments",
                "NULL::text, o.days_to_complete, -o.enrollments, -o.enrollments", "o.days_to_complete IS NOT NULL"))

    /// The same outcomes computed from raw statements (the xAPI-to-enrollment mapping, in SQL).
    static let coldOutcomes = """
        outcomes AS (
          SELECT c.id AS course_id, f.cohort, floor(extract(epoch FROM f.completed_at - f.enrolled_at) / 86400)::int AS days_to_complete,
                 1 AS n, (f.completed_at IS NOT NULL)::int AS completed
          FROM app.enrollments_from_statements(NULL) f
          JOIN app.courses c ON c.course_iri = f.course_iri
          LEFT JOIN app.learners l ON l.actor_key = f.actor_key
          WHERE f.enrolled_at >= (:since::date)::timestamp AT TIME ZONE 'UTC'
            AND (:attr_region::text IS NULL OR l.region = :attr_region::text)
        )
        """

    /// The course filter on a group of outcomes: uncorrelated, so it looks the course up once, and not at all without one.
    static let courseFilter = """
        (:course::text IS NULL OR g.course_id IN (SELECT c.id FROM app.courses c WHERE c.course_iri = :course::text OR c.title = :course::text))
        """

    /// Wraps an outcomes CTE into a report query. The outcomes are summed per course, and per the one detail the report
    /// shows (`per`: its cohort or its days to complete), before the course filter and the courses' names: those then
    /// see a few hundred groups, not every monthly, daily and enrollment row (architecture decision 57), and the sort
    /// that groups them compares no column the report does not show (decision 75: a third of a course report's rate at
    /// 1M statements). Only the report that shows courses joins them, for their names. A group whose rows cancel out
    /// (a first month's sum less its days before `since`, when all of that month's enrollments came before it; the
    /// current month's sums less the roll-up rows of today, when an enrollment of today was voided since the last
    /// catch-up) holds no enrollment and is left out, as it would be absent without the sums. The groups are computed once
    /// (`MATERIALIZED`): a plan kept for every run (decision 75), which estimates one row per source, otherwise
    /// joined the courses outside and grouped the outcomes again for each course. The course filter is uncorrelated
    /// (the course looked up once) where a join with every course tested each group against each course.
    static func overOutcomes(_ outcomes: String, per detail: String? = nil, _ select: String) -> String {
        let keys = (["o.course_id"] + (detail.map { ["o.\($0)"] } ?? [])).joined(separator: ", ")
        return """
        WITH \(outcomes), grouped AS MATERIALIZED (
          SELECT \(keys), sum(o.n) AS n, sum(o.completed) AS completed
          FROM outcomes o GROUP BY \(keys)
          HAVING sum(o.n) <> 0
        ), filtered AS (
          SELECT g.* FROM grouped g WHERE \(courseFilter)
        )
        \(select)
        """
    }

    // MARK: - Reports

    /// Served from the activity summaries (migration 8) for complete days: one row per day for the daily
    /// counts. Without a region filter, today's count and the window's distinct count come from
    /// `app.active_learner_totals` (migration 32): today's from the day total, the window's from an index-only
    /// count of learners by their last active day, and the few learners the roll-ups may not hold yet (those
    /// in the roll-up queue, migration 43) checked one by one; no learner is collected or hashed (architecture
    /// decisions 56 and 73). A region filter (a learner attribute) cannot use the summaries, which do not know
    /// regions: it counts that region's learner-day rows, and today's learners from `app.active_learners_today`
    /// (roll-up rows with the queued counts added).
    static let activeLearnersServed = """
        WITH \(windowDays), daily AS (
          SELECT d.day, d.learners::bigint AS learners FROM app.daily_active_learners d
          WHERE :attr_region::text IS NULL AND d.day >= current_date - (:days::int - 1) AND d.day < current_date
          UNION ALL
          SELECT a.day, count(*) FROM app.daily_learner_activity a
          WHERE :attr_region::text IS NOT NULL AND a.day >= current_date - (:days::int - 1) AND a.day < current_date
            AND \(regionOfHash)
          GROUP BY a.day
        ), totals AS MATERIALIZED (
          SELECT t.today_learners, t.window_learners
          FROM app.active_learner_totals(:days::int) t
          WHERE :attr_region::text IS NULL
        ), region_today AS MATERIALIZED (
          SELECT t.learner_hash FROM app.active_learners_today(:attr_region::text) AS t(learner_hash)
          WHERE :attr_region::text IS NOT NULL
        ), region_window AS (
          SELECT a.learner_hash FROM app.daily_learner_activity a
          WHERE :attr_region::text IS NOT NULL AND a.day >= current_date - (:days::int - 1) AND a.day < current_date
            AND \(regionOfHash)
          UNION  -- distinct learners over complete days and today
          SELECT t.learner_hash FROM region_today t
        )
        SELECT w.day,
               CASE WHEN w.day < current_date THEN coalesce(d.learners, 0)
                    WHEN :attr_region::text IS NULL THEN (SELECT t.today_learners FROM totals t)
                    ELSE (SELECT count(*) FROM region_today) END::bigint AS active_learners,
               CASE WHEN :attr_region::text IS NULL THEN (SELECT t.window_learners FROM totals t)
                    ELSE (SELECT count(*) FROM region_window) END::bigint AS window_active_learners
        FROM window_days w LEFT JOIN daily d ON d.day = w.day
        ORDER BY w.day
        """

    static let activeLearnersCold = """
        WITH \(windowDays), activity AS (
          SELECT DISTINCT (s."timestamp" AT TIME ZONE 'UTC')::date AS day, s.actor_key AS learner
          FROM app.statements s
          WHERE NOT s.voided AND s.voids IS NULL AND \(regionOfActor)
            AND s."timestamp" >= (current_date - (:days::int - 1))::timestamp AT TIME ZONE 'UTC'
            AND s."timestamp" < (current_date + 1)::timestamp AT TIME ZONE 'UTC'
        )
        SELECT w.day, count(a.learner)::bigint AS active_learners,
               (SELECT count(DISTINCT learner) FROM activity)::bigint AS window_active_learners
        FROM window_days w LEFT JOIN activity a ON a.day = w.day
        GROUP BY w.day ORDER BY w.day
        """

    public static let activeLearners = ReportDefinition(
        name: "active_learners", title: "Active learners",
        summary: "Learners with at least one statement per day, and the exact distinct count over the whole window.",
        parameters: [days], attributeFilters: ["region"],
        tenantQuery: .init(sql: activeLearnersServed, fields: [
                .init("day", .date, .dimension, "Day"),
                .init("active_learners", .integer, .perTenant, "Active learners"),
                .init("window_active_learners", .integer, .perTenant, "Distinct active learners in the window"),
            ], source: .rollups(cold: activeLearnersCold), planning: .oncePerConnection),
        // Sums each tenant's own counts at query time: its per-day counts, and its distinct learners in the
        // window from the aggregate function (the platform role reads no learner-level row; a learner is one
        // tenant's, so summing per-tenant distinct counts counts distinct (tenant, learner) pairs).
        platformQuery: .init(sql: """
            WITH \(windowDays), daily AS (
              SELECT day, sum(learners)::bigint AS learners FROM app.daily_active_learners
              WHERE day >= current_date - (:days::int - 1) AND day <= current_date
              GROUP BY day
            )
            SELECT w.day, coalesce(d.learners, 0)::bigint AS active_learners,
                   (SELECT coalesce(sum(p.window_active_learners), 0) FROM app.platform_window_learners(:days::int) p)::bigint
                     AS window_active_learners
            FROM window_days w LEFT JOIN daily d ON d.day = w.day
            ORDER BY w.day
            """, fields: [
                .init("day", .date, .dimension, "Day"),
                .init("active_learners", .integer, .crossTenant, "Active learners, all tenants"),
                .init("window_active_learners", .integer, .crossTenant, "Distinct active learners in the window, all tenants"),
            ], source: .rollupsOnly)
    )

    static let completionSelect = """
        SELECT coalesce(c.title, c.course_iri) AS course, sum(f.n)::bigint AS enrolled, sum(f.completed)::bigint AS completed,
               round(sum(f.completed)::numeric / sum(f.n), 4)::float8 AS completion_rate
        FROM filtered f JOIN app.courses c ON c.id = f.course_id GROUP BY 1 ORDER BY 1
        """

    public static let completionRateByCourse = ReportDefinition(
        name: "completion_rate_by_course", title: "Completion rate by course",
        summary: "Per course: enrollments, completions and their ratio.",
        parameters: [since, course], attributeFilters: ["region"],
        tenantQuery: .init(sql: overOutcomes(servedCourseOutcomes, completionSelect), fields: [
                .init("course", .text, .perTenant, "Course"),
                .init("enrolled", .integer, .perTenant, "Enrolled"),
                .init("completed", .integer, .perTenant, "Completed"),
                .init("completion_rate", .number, .perTenant, "Completion rate"),
            ], source: .rollups(cold: overOutcomes(coldOutcomes, completionSelect)), planning: .oncePerConnection)
    )

    static let timeToCompleteSelect = """
        SELECT (days_to_complete / :bucket_days::int * :bucket_days::int)::bigint AS from_days,
               (days_to_complete / :bucket_days::int * :bucket_days::int + :bucket_days::int)::bigint AS to_days,
               sum(n)::bigint AS completions
        FROM filtered WHERE days_to_complete IS NOT NULL
        GROUP BY 1, 2 ORDER BY 1
        """

    public static let timeToComplete = ReportDefinition(
        name: "time_to_complete", title: "Time to complete",
        summary: "How many completions took how long, in buckets of whole days from enrollment.",
        parameters: [ReportParameter("bucket_days", .integer(min: 1, max: 90, default: 7), help: "Bucket width in days."), since, course],
        attributeFilters: ["region"],
        tenantQuery: .init(sql: overOutcomes(servedCompletionTimes, per: "days_to_complete", timeToCompleteSelect), fields: [
                .init("from_days", .integer, .dimension, "From (days)"),
                .init("to_days", .integer, .dimension, "To (days, exclusive)"),
                .init("completions", .integer, .perTenant, "Completions"),
            ], source: .rollups(cold: overOutcomes(coldOutcomes, per: "days_to_complete", timeToCompleteSelect)), planning: .oncePerConnection)
    )

    static let cohortSelect = """
        , cohorts AS (
          SELECT cohort, sum(n) AS enrolled, sum(completed) AS completed
          FROM filtered GROUP BY cohort
        )
        SELECT cohort, enrolled::bigint, completed::bigint,
               round(completed::numeric / enrolled, 4)::float8 AS completion_rate,
               round(completed::numeric / enrolled - lag(completed::numeric / enrolled) OVER (ORDER BY cohort), 4)::float8
                 AS change_vs_previous,
               rank() OVER (ORDER BY completed::numeric / enrolled DESC)::bigint AS rank
        FROM cohorts ORDER BY cohort
        """

    public static let cohortComparison = ReportDefinition(
        name: "cohort_comparison", title: "Cohort comparison",
        summary: "Each cohort's completion rate, its change against the previous cohort and its rank.",
        parameters: [since, course], attributeFilters: ["region"],
        tenantQuery: .init(sql: overOutcomes(servedCohortOutcomes, per: "cohort", cohortSelect), fields: [
                .init("cohort", .text, .perTenant, "Cohort"),
                .init("enrolled", .integer, .perTenant, "Enrolled"),
                .init("completed", .integer, .perTenant, "Completed"),
                .init("completion_rate", .number, .perTenant, "Completion rate"),
                .init("change_vs_previous", .number, .perTenant, "Change vs previous cohort"),
                .init("rank", .integer, .perTenant, "Rank by completion rate"),
            ], source: .rollups(cold: overOutcomes(coldOutcomes, per: "cohort", cohortSelect)), planning: .oncePerConnection)
    )

    /// The enrollments of one course, learner by learner: the drill-down behind a course's completion
    /// rate. It names learners, so it is for tenant admins only. Served from the derived enrollments
    /// (kept current by the derivation queue); cold from the raw statements.
    static let courseEnrollmentsServed = """
        SELECT coalesce(l.display_name, l.actor_key) AS learner, l.actor_key AS actor, e.enrolled_at, e.completed_at,
               floor(extract(epoch FROM e.completed_at - e.enrolled_at) / 86400)::bigint AS days_to_complete, e.cohort
        FROM app.enrollments e
        JOIN app.learners l ON l.id = e.learner_id
        JOIN app.courses c ON c.id = e.course_id
        WHERE e.enrolled_at >= (:since::date)::timestamp AT TIME ZONE 'UTC'
          AND (c.course_iri = :course::text OR c.title = :course::text)
          AND (:attr_region::text IS NULL OR l.region = :attr_region::text)
        ORDER BY e.enrolled_at, learner, l.actor_key, c.course_iri
        """

    static let courseEnrollmentsCold = """
        SELECT coalesce(lf.display_name, f.actor_key) AS learner, f.actor_key AS actor, f.enrolled_at, f.completed_at,
               floor(extract(epoch FROM f.completed_at - f.enrolled_at) / 86400)::bigint AS days_to_complete, f.cohort
        FROM app.enrollments_from_statements(NULL) f
        JOIN app.courses c ON c.course_iri = f.course_iri
        LEFT JOIN app.learners_from_statements(NULL) lf ON lf.actor_key = f.actor_key
        WHERE f.enrolled_at >= (:since::date)::timestamp AT TIME ZONE 'UTC'
          AND (c.course_iri = :course::text OR c.title = :course::text)
          AND (:attr_region::text IS NULL OR lf.region = :attr_region::text)
        ORDER BY f.enrolled_at, learner, f.actor_key, c.course_iri
        """

    public static let courseEnrollments = ReportDefinition(
        name: "course_enrollments", title: "Enrollments of a course",
        summary: "One row per learner enrolled in the course: when they enrolled and completed, how many days it took, their cohort. Tenant admins only.",
        parameters: [since, ReportParameter("course", .text(maxLength: 500), help: "The course (its IRI or title).", required: true)],
        attributeFilters: ["region"],
        tenantQuery: .init(sql: courseEnrollmentsServed, fields: [
                .init("learner", .text, .perTenant, "Learner"),
                .init("actor", .text, .perTenant, "Actor"),
                .init("enrolled_at", .date, .perTenant, "Enrolled"),
                .init("completed_at", .date, .perTenant, "Completed"),
                .init("days_to_complete", .integer, .perTenant, "Days to complete"),
                .init("cohort", .text, .perTenant, "Cohort"),
            ], source: .rollups(cold: courseEnrollmentsCold)),
        minimumRole: .admin
    )

    public static let featureAdoption = ReportDefinition(
        name: "feature_adoption", title: "Feature adoption across tenants",
        summary: "Per product feature: how many tenants used it in the window, and what share of all tenants that is.",
        parameters: [days],
        platformQuery: .init(sql: """
            WITH population AS (SELECT count(*) AS total FROM app.tenants),
            used AS (
              SELECT feature_key, count(DISTINCT tenant_id) AS tenants_using
              FROM app.daily_feature_usage WHERE day >= current_date - (:days::int - 1)
              GROUP BY feature_key
            )
            SELECT u.feature_key AS feature, u.tenants_using::bigint, p.total::bigint AS tenants_total,
                   round(u.tenants_using::numeric / nullif(p.total, 0), 4)::float8 AS share_of_tenants
            FROM used u CROSS JOIN population p ORDER BY u.feature_key
            """, fields: [
                .init("feature", .text, .dimension, "Feature"),
                .init("tenants_using", .integer, .crossTenant, "Tenants using it"),
                .init("tenants_total", .integer, .crossTenant, "Tenants"),
                .init("share_of_tenants", .number, .crossTenant, "Share of tenants"),
            ], source: .rollupsOnly)
    )

    /// Per-tenant rows on the platform surface: allowed, because no row mixes in a cross-tenant value.
    public static let tenantOverview = ReportDefinition(
        name: "tenant_overview", title: "Tenants",
        summary: "One row per tenant with its own activity in the window.",
        parameters: [days],
        platformQuery: .init(sql: """
            SELECT t.slug AS tenant, t.name, t.tier,
                   coalesce(w.window_active_learners, 0)::bigint AS active_learners,
                   coalesce(d.statements, 0)::bigint AS statements,
                   (SELECT count(DISTINCT f.feature_key) FROM app.daily_feature_usage f
                     WHERE f.tenant_id = t.id AND f.day >= current_date - (:days::int - 1))::bigint AS features_used
            FROM app.tenants t
            LEFT JOIN app.platform_window_learners(:days::int) w ON w.tenant_id = t.id
            LEFT JOIN (SELECT d.tenant_id, sum(d.statements) AS statements FROM app.daily_active_learners d
                       WHERE d.day >= current_date - (:days::int - 1) GROUP BY d.tenant_id) d ON d.tenant_id = t.id
            ORDER BY t.slug
            """, fields: [
                .init("tenant", .text, .perTenant, "Tenant"),
                .init("name", .text, .perTenant, "Name"),
                .init("tier", .text, .perTenant, "Tier"),
                .init("active_learners", .integer, .perTenant, "Active learners"),
                .init("statements", .integer, .perTenant, "Statements"),
                .init("features_used", .integer, .perTenant, "Features used"),
            ], source: .rollupsOnly)
    )

    public static let all = [
        activeLearners, completionRateByCourse, timeToComplete, cohortComparison, courseEnrollments, featureAdoption, tenantOverview,
    ]

    public static func catalog() throws(TenantScopeError) -> ReportCatalog {
        try ReportCatalog(all)
    }
}
