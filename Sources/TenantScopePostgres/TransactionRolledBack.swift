/// A scoped transaction whose COMMIT PostgreSQL answered with ROLLBACK: one of its statements failed and the error was
/// not read (it comes with the statement's rows). Nothing of the transaction happened. A defect to fix where the
/// statement runs, so a 500; never reported as success.
struct TransactionRolledBack: Error, CustomStringConvertible {
    var description: String { "the transaction was rolled back: one of its statements failed and its error was not read" }
}
