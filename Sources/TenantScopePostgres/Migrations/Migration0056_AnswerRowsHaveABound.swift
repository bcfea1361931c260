extension Migration {
    /// A row of a guarded SQL answer has a size bound (architecture decision 101).
    ///
    /// The sandbox capped an answer at 1,000 rows, not bytes: 1,000 rows of a megabyte each (`format('%1000000s', …)`)
    /// made a 1 GB body, and the server held it several times over while it encoded it (2.9 GB for one request, probe 37).
    /// The server stops reading an answer at its byte cap, but a single row arrives whole: this function, called by the
    /// sandbox's wrapper on each row before it is sent, refuses a row larger than the cap it is given (54000,
    /// program_limit_exceeded, a 400 naming the limit). It reads nothing; only the sandbox role may run it.
    static let answerRowsHaveABound = Migration(version: 56, name: "answer rows have a bound", statements: [
        """
        CREATE FUNCTION semantic.answer_row_fits(row_bytes integer, maximum integer) RETURNS boolean
        LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp
        AS $$
        BEGIN
          IF row_bytes > maximum THEN
            RAISE EXCEPTION 'a row of the answer takes % bytes, more than the % bytes a row may take; select fewer or shorter values',
              row_bytes, maximum USING ERRCODE = '54000';
          END IF;
          RETURN true;
        END
        $$
        """,
        "REVOKE ALL ON FUNCTION semantic.answer_row_fits(integer, integer) FROM PUBLIC",
        "GRANT EXECUTE ON FUNCTION semantic.answer_row_fits(integer, integer) TO tenantscope_sandbox",
    ])
}
