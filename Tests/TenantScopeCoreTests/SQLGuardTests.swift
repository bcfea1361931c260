import Testing
@testable import TenantScopeCore
import TenantScopeSQLParser

/// The guarded SQL surface's first layer, on real PostgreSQL parse trees (libpg_query).
struct SQLGuardTests {
    func check(_ sql: String) -> SQLRefusal? {
        switch PostgresSQLParser.parse(sql) {
        case .failure(let refusal): return refusal
        case .success(let tree):
            do { try SQLGuard.check(tree, sql: sql); return nil } catch { return error }
        }
    }

    @Test(arguments: [
        "SELECT count(*) FROM semantic.statements",
        "select verb_id, count(*) from statements where occurred_at > now() - interval '30 days' group by 1 order by 2 desc limit 10",
        "WITH c AS (SELECT course_id, count(*) AS n FROM enrollments GROUP BY 1) SELECT co.title, c.n FROM c JOIN courses co USING (course_id)",
        "WITH RECURSIVE d(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM d WHERE n < 5) SELECT n FROM d",
        "SELECT date_trunc('week', day) AS week, sum(learners) FROM daily_active_learners GROUP BY 1",
        "SELECT extract(year FROM enrolled_at)::int, coalesce(cohort, '-'), nullif(cohort, '') FROM enrollments",
        "SELECT l.display_name, rank() OVER (ORDER BY count(*) DESC) FROM learners l JOIN statements s USING (learner_id) GROUP BY l.learner_id, l.display_name",
        "SELECT * FROM semantic.courses WHERE title ILIKE '%intro%' AND course_id IN (SELECT course_id FROM enrollments)",
        "SELECT g::date FROM generate_series(current_date - 6, current_date, interval '1 day') AS g",
        "SELECT CASE WHEN completed_at IS NULL THEN 'open' ELSE 'done' END, greatest(1, 2) FROM enrollments",
        "SELECT occurred_at AT TIME ZONE 'Europe/Paris' FROM statements",
        "SELECT 1;",
    ])
    func acceptsReadsOfTheSemanticLayer(_ sql: String) {
        #expect(check(sql) == nil, "\(sql): \(String(describing: check(sql)))")
    }

    /// Each refusal names the node that caused it, and the position where it is given.
    @Test(arguments: [
        ("SELECT set_config('app.tenant_ctx', 'x', true)", "FuncCall", 8),
        ("SELECT * FROM statements, LATERAL (SELECT set_config('role', 'none', true) OFFSET 0) x", "FuncCall", 43),
        ("SELECT current_setting('app.tenant_ctx')", "FuncCall", 8),
        ("SELECT pg_sleep(10)", "FuncCall", 8),
        ("SELECT * FROM dblink('host=x', 'select 1') AS t(a int)", "ColumnDef", nil),
        ("SELECT dblink('host=x', 'select 1')", "FuncCall", 8),
        ("SELECT lo_import('/etc/passwd')", "FuncCall", 8),
        ("SELECT pg_read_file('/etc/passwd')", "FuncCall", 8),
        ("SELECT pg_catalog.pg_read_binary_file('x')", "FuncCall", 8),
        ("SELECT query_to_xml('SET ROLE none', true, true, '')", "FuncCall", 8),
        ("SELECT pg_notify('c', 'x')", "FuncCall", 8),
        ("SELECT pg_advisory_lock(1)", "FuncCall", 8),
        ("SELECT currval('x')", "FuncCall", 8),
        ("SELECT app.current_tenant()", "FuncCall", 8),
        ("SELECT version()", "FuncCall", 8),
        ("SELECT * FROM pg_class", "RangeVar", 15),
        ("SELECT reltuples FROM pg_catalog.pg_class", "RangeVar", 23),
        ("SELECT * FROM pg_stat_activity", "RangeVar", 15),
        ("SELECT * FROM information_schema.tables", "RangeVar", 15),
        ("SELECT * FROM app.statements", "RangeVar", 15),
        ("SELECT * FROM app_private.settings", "RangeVar", 15),
        ("SELECT * FROM tenants", "RangeVar", 15),
        ("SELECT * FROM \"Statements\"", "RangeVar", 15),
        ("SELECT * FROM statements FOR UPDATE", "LockingClause", nil),
        ("SELECT * FROM statements FOR SHARE", "LockingClause", nil),
        ("SELECT * INTO stolen FROM statements", "IntoClause", 15),
        ("WITH d AS (DELETE FROM statements RETURNING *) SELECT * FROM d", "DeleteStmt", nil),
        ("WITH u AS (UPDATE learners SET region = 'x' RETURNING 1) SELECT * FROM u", "UpdateStmt", nil),
        ("SELECT 1; SELECT 2", "multiple statements", 10),
        ("COPY statements TO '/tmp/x'", "CopyStmt", 1),
        ("EXPLAIN ANALYZE SELECT * FROM statements", "ExplainStmt", 1),
        ("SET ROLE tenantscope_tenant", "VariableSetStmt", 1),
        ("RESET ROLE", "VariableSetStmt", 1),
        ("SET app.tenant_ctx = 'x'", "VariableSetStmt", 1),
        ("DELETE FROM statements", "DeleteStmt", 1),
        ("SELECT 'pg_authid'::regclass", "TypeName", 21),
        ("SELECT current_user", "SQLValueFunction", 8),
        ("SELECT session_user", "SQLValueFunction", 8),
        ("SELECT xmlelement(name x)", "XmlExpr", 8),
        ("SELECT $1", "ParamRef", 8),
        ("SELECT * FROM statements TABLESAMPLE SYSTEM (10)", "RangeTableSample", nil),
        ("SELECT 1 OPERATOR(public.===) 1", "A_Expr", 10),
        ("SELECT repeat('x', 1000000000)", "FuncCall", 8),
        ("SELECT * FROM ONLY statements", "RangeVar", 20),
        ("SELECT * FROM semantic.nope", "RangeVar", 15),
        ("SELECT 1 +", "syntax", 11),
        ("", "syntax", nil),
        ("-- only a comment", "syntax", nil),
    ] as [(String, String, Int?)])
    func refusesEverythingElse(_ sql: String, node: String, position: Int?) {
        let refusal = check(sql)
        #expect(refusal?.node == node, "\(sql): \(String(describing: refusal))")
        if let position { #expect(refusal?.position == position, "\(sql): \(String(describing: refusal))") }
    }

    /// An unqualified name resolves to a CTE only where that CTE is in scope; elsewhere it would be the
    /// catalog's (pg_catalog is searched), so it must be a semantic view.
    @Test func cteNamesDoNotLeakOutOfTheirScope() {
        #expect(check("WITH pg_class AS (SELECT 1 AS a) SELECT * FROM pg_class") == nil)
        #expect(check("SELECT * FROM (WITH pg_class AS (SELECT 1) SELECT 1) a, pg_class")?.node == "RangeVar")
        #expect(check("WITH a AS (SELECT * FROM pg_class), pg_class AS (SELECT 1) SELECT * FROM a")?.node == "RangeVar")
        #expect(check("WITH RECURSIVE pg_class AS (SELECT 1 AS a UNION ALL SELECT a + 1 FROM pg_class WHERE a < 3) SELECT * FROM pg_class") == nil)
    }

    @Test func positionsCountCharactersNotBytes() {
        let refusal = check("SELECT 'é', pg_sleep(1)")
        #expect(refusal?.position == 13)
        #expect(refusal?.description.contains("pg_sleep") == true)
    }
}
