import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import TenantScopeCore

/// Measures every replica's lag once per probe interval, as PostgreSQL reports it.
///
/// Each probe reads the primary's WAL position (`pg_current_wal_lsn()`) and keeps it with the time it was
/// read (``WALPositionHistory``), then reads each replica's replay position. A replica that has replayed up
/// to the position just read is 0 s behind; one that has replayed up to a position read at time T is at
/// most `now − T` behind. A replica behind every position kept is dated by the commit time of the last
/// transaction it replayed (`pg_last_xact_replay_timestamp()`). Neither ever understates the lag. A
/// replica that cannot be reached, is not in recovery (promoted, or the primary's own URL) or has another
/// schema version than this build's is marked unusable until a probe finds it well.
public struct ReplicaLagMonitor: Service {
    let primary: DatabasePool
    let replicas: ReplicaSet
    let logger: Logger
    let positions = WALPositionHistory()

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
        // Without the primary's position (it is down) the positions kept, and the replay time, still date a replica.
        if let text = try? await primary.query("SELECT pg_current_wal_lsn()::text", logger: logger).first?.decode(String.self),
           let position = WALPositionHistory.Position(text) {
            positions.record(position)
        }
        await withTaskGroup(of: Void.self) { group in
            for replica in replicas.replicas {
                group.addTask { await probe(replica) }
            }
        }
    }

    private func probe(_ replica: ReadReplica) async {
        let before = replica.measurement
        do {
            let row = try await replica.appPool.withConnection(deadline: replicas.probeTimeout, logger: logger) { connection in
                try await connection.query("""
                    SELECT pg_is_in_recovery(),
                           pg_last_wal_replay_lsn()::text,
                           extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp())::float8,
                           app.schema_version()
                    """, logger: logger).collect().first
            }
            guard let (inRecovery, replayed, sinceReplay, version) = try row?.decode((Bool, String?, Double?, Int).self) else {
                throw DatabaseUnavailable("the replica answered no row")
            }
            // Tenant reads log in as the tenant login, not the server role the probe uses: a replica that refuses
            // it (its own pg_hba.conf, say) would answer the probe and fail every tenant read after a wait.
            guard await tenantLoginWorks(on: replica) else {
                note(replica, before: before, problem: "the tenant login (\(Database.tenantLoginRole)) cannot connect")
                return
            }
            let bound = replayed.flatMap(WALPositionHistory.Position.init).flatMap { positions.lag(ofReplayed: $0) }
            if !inRecovery {
                note(replica, before: before, problem: "not in recovery: a primary, not a replica")
            } else if version != Migration.latestVersion {
                note(replica, before: before, problem: "schema version \(version), this build needs \(Migration.latestVersion)")
            } else if let bound {
                replica.record(lagSeconds: bound.inSeconds)
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

    /// Whether the tenant login's pool on `replica` hands out a working connection (no tenant context is set:
    /// the query reads nothing). A read that succeeded there in the last ten seconds already showed it: then
    /// the pool is not asked, since a pool busy with reports would make the probe wait and call it broken.
    private func tenantLoginWorks(on replica: ReadReplica) async -> Bool {
        if replica.hadSuccessfulRead(within: .seconds(10)) { return true }
        do {
            try await replica.tenantPool.withConnection(deadline: replicas.probeTimeout, logger: logger) { connection in
                _ = try await connection.query("SELECT 1", logger: logger).collect()
            }
            return true
        } catch {
            return false
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
