import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import TenantScopeCore

/// Measures every replica's lag once per probe interval, as PostgreSQL reports it.
///
/// The primary's WAL position is read first, then each replica's replay position and the commit time of
/// the last transaction it replayed (`pg_last_xact_replay_timestamp()`). A replica that has replayed up to
/// where the primary was is 0 s behind; one that has not is behind by the age of its last replayed commit.
/// That overstates the lag of an idle primary's replica for the instant it takes to replay a record, and
/// never understates it. A replica that cannot be reached, is not in recovery (promoted, or the primary's
/// own URL) or has another schema version than this build's is marked unusable until a probe finds it well.
public struct ReplicaLagMonitor: Service {
    let primary: DatabasePool
    let replicas: ReplicaSet
    let logger: Logger

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            // The first probe waits an interval too: the pools it uses start alongside this service.
            while !Task.isCancelled {
                try? await Task.sleep(for: replicas.probeInterval)
                guard !Task.isCancelled else { break }
                await probeOnce()
            }
        }
    }

    /// One measurement of every replica, concurrently.
    public func probeOnce() async {
        let primaryPosition: String?
        do {
            primaryPosition = try await primary.query("SELECT pg_current_wal_lsn()::text", logger: logger).first?.decode(String.self)
        } catch {
            // Without the primary's position lag is still measurable from the replay time alone.
            primaryPosition = nil
        }
        await withTaskGroup(of: Void.self) { group in
            for replica in replicas.replicas {
                group.addTask { await probe(replica, primaryPosition: primaryPosition) }
            }
        }
    }

    private func probe(_ replica: ReadReplica, primaryPosition: String?) async {
        let before = replica.measurement
        do {
            let row = try await replica.appPool.withConnection(deadline: .seconds(5), logger: logger) { connection in
                try await connection.query("""
                    SELECT pg_is_in_recovery(),
                           coalesce(pg_last_wal_replay_lsn() >= \(primaryPosition)::pg_lsn, false),
                           extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp())::float8,
                           app.schema_version()
                    """, logger: logger).collect().first
            }
            guard let (inRecovery, caughtUp, sinceReplay, version) = try row?.decode((Bool, Bool, Double?, Int).self) else {
                throw DatabaseUnavailable("the replica answered no row")
            }
            if !inRecovery {
                note(replica, before: before, problem: "not in recovery: a primary, not a replica")
            } else if version != Migration.latestVersion {
                note(replica, before: before, problem: "schema version \(version), this build needs \(Migration.latestVersion)")
            } else if caughtUp {
                replica.record(lagSeconds: 0)
                noteRecovered(replica, before: before)
            } else if let sinceReplay {
                replica.record(lagSeconds: max(0, sinceReplay))
                noteRecovered(replica, before: before)
            } else {
                note(replica, before: before, problem: "has replayed no transaction yet")
            }
        } catch {
            note(replica, before: before, problem: "unreachable (\(type(of: error)))")
        }
    }

    /// Logs a replica's problem once when it starts, not once a second.
    private func note(_ replica: ReadReplica, before: ReadReplica.Measurement, problem: String) {
        replica.record(problem: problem)
        if before.problem != problem {
            logger.warning("Read replica unusable; reads go to the primary", metadata: ["db.replica": "\(replica.name)", "db.replica.problem": "\(problem)"])
        }
    }

    private func noteRecovered(_ replica: ReadReplica, before: ReadReplica.Measurement) {
        if let problem = before.problem, before.measuredAt != nil {
            logger.notice("Read replica usable again", metadata: ["db.replica": "\(replica.name)", "db.replica.was": "\(problem)"])
        }
    }
}
