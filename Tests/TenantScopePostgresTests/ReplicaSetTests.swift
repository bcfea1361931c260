import CoreMetrics
import Logging
import Testing
@testable import TenantScopePostgres

/// Which replica a read may use: one measured recently and within the lag bound, never one whose monitor
/// stopped measuring it. No database is needed: the pools are made but never run.
@Suite struct ReplicaSetTests {
    static func set(_ count: Int, maximumLag: Duration = .seconds(10)) -> ReplicaSet {
        let endpoints = (0..<count).map { DatabaseEndpoint(host: "127.0.0.1", port: 1 + $0, username: "u", password: nil, database: "d", tls: .disable) }
        return ReplicaSet(configuration: ReplicaConfiguration(endpoints: endpoints, maximumLag: maximumLag), appPassword: "a", tenantPassword: "t",
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
}
