import CoreMetrics
import Logging
import Testing
@testable import TenantScopePostgres

/// Which replica a read may use: one measured recently and within the lag bound, never one whose monitor
/// stopped measuring it. No database is needed: the pools are made but never run.
@Suite struct ReplicaSetTests {
    static func set(_ count: Int, maximumLag: Duration = .seconds(10), measurementMaximumAge: Duration? = nil) -> ReplicaSet {
        let endpoints = (0..<count).map { DatabaseEndpoint(host: "127.0.0.1", port: 1 + $0, username: "u", password: nil, database: "d", tls: .disable) }
        let configuration = ReplicaConfiguration(endpoints: endpoints, maximumLag: maximumLag, measurementMaximumAge: measurementMaximumAge)
        return ReplicaSet(configuration: configuration, appPassword: "a", tenantPassword: "t",
                          statementTimeout: .seconds(1), logger: Logger(label: "test"), metrics: NOOPMetricsHandler.instance)
    }

    @Test func anUnmeasuredLaggingOrStaleReplicaIsNotChosen() {
        let set = Self.set(1)
        let replica = set.replicas[0]
        #expect(set.choose() == nil, "not probed yet")
        replica.record(lagSeconds: 0.4)
        #expect(set.choose()?.replica === replica && set.choose()?.lagSeconds == 0.4)
        // The default age is three probe intervals, at least 3 s: a measurement older than that no longer counts.
        #expect(set.isFit(replica.measurement, now: .now + .seconds(2)))
        #expect(!set.isFit(replica.measurement, now: .now + .seconds(4)))
        replica.record(lagSeconds: 10.5)
        #expect(set.choose() == nil, "past the 10 s bound")
        replica.record(lagSeconds: 1)
        replica.readFailed("a read failed")
        #expect(set.choose() == nil, "a failed read makes it unfit until the next good probe")
    }

    @Test func readsTakeTurnsOverTheFitReplicas() {
        let set = Self.set(3)
        set.replicas[0].record(lagSeconds: 0)
        set.replicas[2].record(lagSeconds: 2)
        set.replicas[1].record(problem: "unreachable")
        let chosen = (0..<6).compactMap { _ in set.choose()?.replica.name }
        #expect(Set(chosen) == ["replica-1", "replica-3"])
        #expect(chosen.filter { $0 == "replica-1" }.count == 3)
    }

    /// A read that fails on a replica sits it out even while the probes find it well (a replica can answer the
    /// probe and still fail reads): 5 s, doubling when reads fail again after a sit-out, and back to 5 s once
    /// a read succeeds there. Failures during a sit-out are the same outage and do not double it.
    @Test func aFailedReadSitsTheReplicaOutEvenWhileTheProbeFindsItWell() {
        // Measurements stay current for ten minutes here, so only the sit-out decides.
        let set = Self.set(1, measurementMaximumAge: .seconds(600))
        let replica = set.replicas[0]
        let start = ContinuousClock.now
        func probedWell() { replica.record(lagSeconds: 0) }
        probedWell()
        #expect(set.isUsable(replica, now: start))

        replica.readFailed("a read failed", now: start)
        probedWell()
        #expect(!set.isUsable(replica, now: start + .seconds(4)))
        #expect(set.isUsable(replica, now: start + .seconds(6)))

        replica.readFailed("it failed again", now: start + .seconds(6))
        replica.readFailed("and again, the same outage", now: start + .seconds(7))
        probedWell()
        #expect(!set.isUsable(replica, now: start + .seconds(15)), "the second sit-out is 10 s")
        #expect(set.isUsable(replica, now: start + .seconds(17)), "failures within a sit-out do not lengthen it")

        replica.readSucceeded(now: start + .seconds(19))
        replica.readFailed("a new outage", now: start + .seconds(20))
        probedWell()
        #expect(!set.isUsable(replica, now: start + .seconds(24)))
        #expect(set.isUsable(replica, now: start + .seconds(26)), "a success in between starts over at 5 s")

        // A recent successful read is what lets the probe skip trying the tenant login itself.
        replica.readSucceeded(now: start + .seconds(30))
        #expect(replica.hadSuccessfulRead(within: .seconds(10), now: start + .seconds(39)))
        #expect(!replica.hadSuccessfulRead(within: .seconds(10), now: start + .seconds(41)))
    }
}
