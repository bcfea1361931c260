/// How PostgreSQL plans the runs of a report's query on one connection (architecture decision 75).
public enum QueryPlanning: Sendable, Hashable {
    /// Each run is planned for its own values (PostgreSQL's custom plans): for SQL whose best plan depends on them,
    /// such as a cold report's scan of raw statements, where the window decides between an index and the whole table.
    case forEachRun
    /// One plan per connection, reused by every run whatever the values (a generic plan): for SQL whose every source
    /// is a range read of a tenant-leading index, whose joins over those reads are fenced (`MATERIALIZED`) so that no
    /// estimate can make them rescan one, and whose optional filters are uncorrelated (`x IN (subquery)`, hashed once)
    /// rather than correlated per row. Planning such SQL for its values took as long as running it.
    case oncePerConnection
}
