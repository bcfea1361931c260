/// Decides whether a tenant's ad-hoc query may run, from PostgreSQL's own parse tree (libpg_query's JSON).
///
/// An allow-list, never a block-list: exactly one `SELECT` (a `WITH` whose every query is a `SELECT`), built
/// only from the node types, functions, operators and types below, reading only the views of the semantic
/// layer or its own CTEs. Anything else — another statement (`COPY`, `SET`, `EXPLAIN`, DML), `SELECT INTO`,
/// `FOR UPDATE`, a catalog or `app` relation, `set_config`, `current_setting`, `pg_sleep`, `dblink`, `lo_*`,
/// `pg_read_*`, `query_to_xml`, `current_user`, a `regclass` cast — is refused with the node and position.
///
/// This is the first layer only. The query then runs as `tenantscope_sandbox` in a read-only transaction
/// under row-level security and a signed tenant context, which holds even if something slips through here
/// (docs/sql.md).
public enum SQLGuard {
    /// Longest query accepted, in bytes.
    public static let maximumLength = 20_000

    /// Checks `tree` (the parse tree of `sql`); throws the first refusal found.
    public static func check(_ tree: JSONValue, sql: String) throws(SQLRefusal) {
        guard let statements = tree["stmts"]?.arrayValue, !statements.isEmpty else {
            throw SQLRefusal(reason: "the query is empty", node: "syntax", position: nil)
        }
        guard statements.count == 1 else {
            let second = statements[1]["stmt_location"]?.numberValue.map { Int($0) }
            throw SQLRefusal(reason: "only one statement is allowed", node: "multiple statements", position: position(of: second, in: sql))
        }
        guard let statement = statements[0]["stmt"]?.objectValue, let (type, body) = statement.first else {
            throw SQLRefusal(reason: "the query is empty", node: "syntax", position: nil)
        }
        guard type == "SelectStmt" else {
            throw SQLRefusal(reason: "only SELECT (and WITH ... SELECT) is allowed, not \(statementName(type))", node: type, position: 1)
        }
        var walker = Walker(sql: sql)
        try walker.visit(type, body, ctes: [])
    }

    /// A readable name for a refused statement node.
    static func statementName(_ type: String) -> String {
        switch type {
        case "InsertStmt": "INSERT"
        case "UpdateStmt": "UPDATE"
        case "DeleteStmt": "DELETE"
        case "MergeStmt": "MERGE"
        case "CopyStmt": "COPY"
        case "ExplainStmt": "EXPLAIN"
        case "VariableSetStmt": "SET"
        case "VariableShowStmt": "SHOW"
        case "TransactionStmt": "a transaction statement"
        case "CreateTableAsStmt": "CREATE TABLE AS"
        default: type
        }
    }

    /// The 1-based character position of a 0-based byte offset, as PostgreSQL reports positions.
    static func position(of byteOffset: Int?, in sql: String) -> Int? {
        guard let byteOffset, byteOffset >= 0 else { return nil }
        let bytes = sql.utf8
        guard let end = bytes.index(bytes.startIndex, offsetBy: byteOffset, limitedBy: bytes.endIndex) else { return nil }
        return sql[..<end].count + 1
    }

    // MARK: The allow-lists (docs/sql.md gives the reasons).

    /// Parse-tree nodes a query may contain. Everything else (XML expressions, parameters, table samples,
    /// column definition lists, …) is refused.
    static let allowedNodes: Set<String> = [
        "SelectStmt", "ResTarget", "ColumnRef", "A_Star", "A_Const", "A_Expr", "BoolExpr", "NullTest", "BooleanTest",
        "FuncCall", "TypeCast", "RangeVar", "JoinExpr", "RangeSubselect", "RangeFunction", "SubLink", "SortBy",
        "WindowDef", "CaseExpr", "CaseWhen", "CoalesceExpr", "MinMaxExpr", "A_ArrayExpr", "A_Indirection", "A_Indices",
        "RowExpr", "GroupingSet", "GroupingFunc", "String", "Integer", "Float", "Boolean", "BitString", "List",
        "SQLValueFunction", "CollateClause", "NamedArgExpr",
    ]

    /// Functions, by name (in `pg_catalog`): aggregates, window functions, arithmetic, text, date and time.
    /// Nothing that reads settings or the catalog, sleeps, talks to the network or files, runs SQL given as
    /// text, takes locks, or can allocate without bound from a tiny input (`repeat`, `lpad`).
    public static let allowedFunctions: Set<String> = [
        // aggregates
        "count", "sum", "avg", "min", "max", "bool_and", "bool_or", "every", "string_agg", "array_agg",
        "percentile_cont", "percentile_disc", "mode", "stddev", "stddev_pop", "stddev_samp", "variance", "var_pop",
        "var_samp", "corr", "covar_pop", "covar_samp", "regr_slope", "regr_intercept", "regr_r2", "regr_count",
        // window functions
        "row_number", "rank", "dense_rank", "percent_rank", "cume_dist", "ntile", "lag", "lead",
        "first_value", "last_value", "nth_value",
        // numbers
        "abs", "round", "trunc", "ceil", "ceiling", "floor", "sign", "sqrt", "cbrt", "power", "pow", "mod", "ln", "log",
        "log10", "exp", "div", "width_bucket", "greatest", "least", "random",
        // text
        "lower", "upper", "length", "char_length", "character_length", "octet_length", "substr", "substring", "left",
        "right", "trim", "btrim", "ltrim", "rtrim", "replace", "split_part", "concat", "concat_ws", "position", "strpos",
        "starts_with", "initcap", "reverse", "to_char", "to_number", "md5", "regexp_replace", "regexp_match",
        "regexp_like", "like_escape", "similar_to_escape", "overlay", "translate", "format",
        // dates and times
        "date_trunc", "date_part", "extract", "date_bin", "now", "age", "make_date", "make_time", "make_timestamp",
        "make_timestamptz", "make_interval", "to_date", "to_timestamp", "justify_days", "justify_hours",
        "justify_interval", "isfinite", "timezone", "overlaps", "statement_timestamp", "transaction_timestamp",
        "clock_timestamp",
        // sets, arrays, JSON output
        "generate_series", "unnest", "array_length", "cardinality", "array_position", "array_to_string",
        "json_build_object", "jsonb_build_object", "json_agg", "jsonb_agg", "json_object_agg", "jsonb_object_agg",
        "to_json", "to_jsonb", "row_to_json",
        // null handling spelled as functions
        "nullif", "coalesce",
    ]

    /// Operators, by symbol: comparison, arithmetic, concatenation, pattern matching, array and range tests.
    public static let allowedOperators: Set<String> = [
        "=", "<>", "!=", "<", ">", "<=", ">=", "+", "-", "*", "/", "%", "^", "||",
        "~~", "~~*", "!~~", "!~~*", "~", "~*", "!~", "!~*", "@>", "<@", "&&",
    ]

    /// Types a query may cast to. No `reg*` types (they resolve catalog names), no `xml`, no `pg_*` types.
    public static let allowedTypes: Set<String> = [
        "int2", "int4", "int8", "smallint", "integer", "int", "bigint", "numeric", "decimal", "float4", "float8", "real",
        "text", "varchar", "bpchar", "char", "date", "timestamp", "timestamptz", "interval", "bool", "boolean", "uuid",
        "time", "timetz", "json", "jsonb",
    ]

    /// `SQLValueFunction`s that are plain clock readings (not `current_user`, `session_user`, `current_schema`, …).
    static let allowedValueFunctions: Set<String> = [
        "SVFOP_CURRENT_DATE", "SVFOP_CURRENT_TIME", "SVFOP_CURRENT_TIME_N", "SVFOP_CURRENT_TIMESTAMP",
        "SVFOP_CURRENT_TIMESTAMP_N", "SVFOP_LOCALTIME", "SVFOP_LOCALTIME_N", "SVFOP_LOCALTIMESTAMP", "SVFOP_LOCALTIMESTAMP_N",
    ]

    /// Walks the tree with the CTE names visible at each point, so an unqualified relation is either a CTE
    /// in scope or a semantic view (the query runs with `search_path = semantic, pg_catalog`).
    struct Walker {
        let sql: String
        /// The innermost enclosing node's location, for nodes that carry none.
        var lastLocation: Int?

        init(sql: String) {
            self.sql = sql
        }

        func refuse(_ reason: String, _ node: String, _ body: JSONValue?) -> SQLRefusal {
            let location = body?["location"]?.numberValue.map { Int($0) } ?? lastLocation
            return SQLRefusal(reason: reason, node: node, position: SQLGuard.position(of: location, in: sql))
        }

        /// A wrapped node `{"Type": {...}}`.
        mutating func visit(_ type: String, _ body: JSONValue, ctes: Set<String>) throws(SQLRefusal) {
            guard SQLGuard.allowedNodes.contains(type) else {
                let reason = type.hasSuffix("Stmt")
                    ? "\(SQLGuard.statementName(type)) is not allowed inside a query" : "\(type) expressions are not allowed"
                throw refuse(reason, type, body)
            }
            let saved = lastLocation
            if let location = body["location"]?.numberValue { lastLocation = Int(location) }
            defer { lastLocation = saved }
            switch type {
            case "SelectStmt": try select(body, ctes: ctes)
            case "RangeVar": try relation(body, ctes: ctes)
            case "FuncCall":
                try function(body)
                try fields(body, ctes: ctes, skipping: ["funcname"])
            case "A_Expr":
                try `operator`(body)
                try fields(body, ctes: ctes, skipping: ["name"])
            case "SQLValueFunction":
                let op = body["op"]?.stringValue ?? ""
                guard SQLGuard.allowedValueFunctions.contains(op) else {
                    throw refuse("\(op.replacingOccurrences(of: "SVFOP_", with: "").lowercased()) is not allowed", type, body)
                }
            default: try fields(body, ctes: ctes)
            }
        }

        /// The members of a node body, or of an unwrapped field.
        mutating func fields(_ body: JSONValue, ctes: Set<String>, skipping: Set<String> = []) throws(SQLRefusal) {
            guard let members = body.objectValue else { return }
            for key in members.keys.sorted() where !skipping.contains(key) {
                try member(key, members[key]!, ctes: ctes)
            }
        }

        mutating func member(_ key: String, _ value: JSONValue, ctes: Set<String>) throws(SQLRefusal) {
            switch key {
            case "intoClause":
                throw refuse("SELECT INTO creates a table", "IntoClause", value["rel"])
            case "lockingClause":
                if let clauses = value.arrayValue, !clauses.isEmpty {
                    throw refuse("locking clauses (FOR UPDATE, FOR SHARE) are not allowed", "LockingClause", nil)
                }
            case "withClause":
                // Only a SelectStmt may carry one, and select(_:ctes:) takes it before its other members.
                throw refuse("WITH is allowed only at the start of a SELECT", "WithClause", value)
            case "typeName":
                try typeName(value)
            default:
                try any(value, ctes: ctes)
            }
        }

        /// Any JSON value: wrapped nodes are the members whose key starts with a capital letter.
        mutating func any(_ value: JSONValue, ctes: Set<String>) throws(SQLRefusal) {
            switch value {
            case .array(let elements):
                for element in elements { try any(element, ctes: ctes) }
            case .object(let members):
                for key in members.keys.sorted() {
                    let child = members[key]!
                    if let first = key.unicodeScalars.first, ("A"..."Z").contains(first), child.objectValue != nil {
                        try visit(key, child, ctes: ctes)
                    } else {
                        try member(key, child, ctes: ctes)
                    }
                }
            default:
                return
            }
        }

        mutating func select(_ body: JSONValue, ctes outer: Set<String>) throws(SQLRefusal) {
            var ctes = outer
            if let with = body["withClause"] {
                let recursive = with["recursive"]?.boolValue ?? false
                let definitions = with["ctes"]?.arrayValue ?? []
                let names = definitions.compactMap { $0["CommonTableExpr"]?["ctename"]?.stringValue }
                for (index, definition) in definitions.enumerated() {
                    guard let cte = definition["CommonTableExpr"], let name = cte["ctename"]?.stringValue else {
                        throw refuse("unexpected WITH element", "WithClause", with)
                    }
                    // A CTE sees the ones before it (all of them, itself included, when recursive).
                    let visible = outer.union(recursive ? names : Array(names[..<index]))
                    guard let query = cte["ctequery"]?.objectValue, let (type, inner) = query.first else {
                        throw refuse("unexpected WITH element", "CommonTableExpr", cte)
                    }
                    guard type == "SelectStmt" else {
                        throw refuse("WITH \(name) AS (\(SQLGuard.statementName(type)) ...) modifies data", type, inner)
                    }
                    if let search = cte["search_clause"] { try any(search, ctes: visible) }
                    if let cycle = cte["cycle_clause"] { try any(cycle, ctes: visible) }
                    try visit(type, inner, ctes: visible)
                }
                ctes.formUnion(names)
            }
            try fields(body, ctes: ctes, skipping: ["withClause"])
        }

        func relation(_ body: JSONValue, ctes: Set<String>) throws(SQLRefusal) {
            let name = body["relname"]?.stringValue ?? ""
            let schema = body["schemaname"]?.stringValue
            let qualified = [body["catalogname"]?.stringValue, schema, name].compactMap { $0 }.joined(separator: ".")
            let inLayer: Bool = switch schema {
            case nil: body["catalogname"] == nil && (ctes.contains(name) || SemanticLayer.viewNames.contains(name))
            case SemanticLayer.schema?: body["catalogname"] == nil && SemanticLayer.viewNames.contains(name)
            default: false
            }
            guard inLayer else {
                throw refuse("relation \(qualified) is not in the semantic layer (see describe_semantic_layer)", "RangeVar", body)
            }
            // The JSON leaves out false flags: no `inh` means `ONLY`.
            if body["inh"]?.boolValue != true {
                throw refuse("ONLY is not allowed", "RangeVar", body)
            }
        }

        func function(_ body: JSONValue) throws(SQLRefusal) {
            let parts = (body["funcname"]?.arrayValue ?? []).compactMap { $0["String"]?["sval"]?.stringValue }
            let name = parts.joined(separator: ".")
            guard let last = parts.last, parts.count == 1 || (parts.count == 2 && parts[0] == "pg_catalog"),
                  SQLGuard.allowedFunctions.contains(last)
            else {
                throw refuse("function \(name) is not allowed", "FuncCall", body)
            }
        }

        func `operator`(_ body: JSONValue) throws(SQLRefusal) {
            let parts = (body["name"]?.arrayValue ?? []).compactMap { $0["String"]?["sval"]?.stringValue }
            let name = parts.joined(separator: ".")
            guard let last = parts.last, parts.count == 1 || (parts.count == 2 && parts[0] == "pg_catalog"),
                  SQLGuard.allowedOperators.contains(last)
            else {
                throw refuse("operator \(name) is not allowed", "A_Expr", body)
            }
        }

        func typeName(_ body: JSONValue) throws(SQLRefusal) {
            let parts = (body["names"]?.arrayValue ?? []).compactMap { $0["String"]?["sval"]?.stringValue }
            let name = parts.joined(separator: ".")
            guard let last = parts.last, parts.count == 1 || (parts.count == 2 && parts[0] == "pg_catalog"),
                  SQLGuard.allowedTypes.contains(last), body["pct_type"] == nil, body["setof"] == nil
            else {
                throw refuse("type \(name) is not allowed", "TypeName", body)
            }
        }
    }
}
