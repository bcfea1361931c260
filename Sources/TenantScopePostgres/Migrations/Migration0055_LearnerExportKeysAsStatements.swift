extension Migration {
    /// A learner export takes every learner a statement can name (architecture decision 100).
    ///
    /// Statements keep actor keys of up to `StatementFacts.maximumKeyBytes` (2,600 bytes: an account's long IRI and name, or
    /// an anonymous group's members) and an erasure finds them, but a learner export's `subject_actor_key` held only 1,000,
    /// so such a learner could be erased and not be given their data. The key is not indexed here (erasure and the worker
    /// find jobs by tenant), so the bound is the statements' own.
    static let learnerExportKeysAsStatements = Migration(version: 55, name: "learner export keys as statements'", statements: [
        """
        ALTER TABLE app.export_jobs DROP CONSTRAINT export_jobs_subject_actor_key_check,
          ADD CONSTRAINT export_jobs_subject_actor_key_check CHECK (octet_length(subject_actor_key) <= 2600)
        """,
    ])
}
