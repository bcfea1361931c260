import CoreMetrics
import Logging
import ServiceLifecycle
import Synchronization
import TenantScopeCore

/// The read replicas a server may send reads to, and the choice of one for each read.
///
/// A replica is chosen only while its last measurement is recent (by default within three probe intervals,
/// at least 3 s) and shows it at most `maximumLag` behind the primary; among those, reads take turns. No fit replica
/// means the read goes to the primary: replicas add capacity, never a way to fail.
public final class ReplicaSet: Sendable {
    public let replicas: [ReadReplica]
    public let maximumLag: Duration
    public let probeInterval: Duration
    /// How old a measurement may be before the replica counts as unmeasured.
    public let measurementMaximumAge: Duration
    /// How long one probe of a replica may take.
    public let probeTimeout: Duration
    private let turn = Atomic<Int>(0)

    init(replicas: [ReadReplica], maximumLag: Duration, probeInterval: Duration, measurementMaximumAge: Duration,
         probeTimeout: Duration = .seconds(5)) {
        self.replicas = replicas
        self.maximumLag = maximumLag
        self.probeInterval = probeInterval
        self.measurementMaximumAge = measurementMaximumAge
        self.probeTimeout = probeTimeout
    }

    /// The replicas of `configuration`, with pools for the server's two logins (passwords as on the primary).
    convenience init(configuration: ReplicaConfiguration, appPassword: String, tenantPassword: String, statementTimeout: Duration,
                     logger: Logger, metrics: any MetricsFactory) {
        let replicas = configuration.endpoints.enumerated().map { index, endpoint in
            ReadReplica(name: "replica-\(index + 1)", endpoint: endpoint, appPassword: appPassword, tenantPassword: tenantPassword,
                        acquireTimeout: configuration.acquireTimeout, statementTimeout: statementTimeout, logger: logger, metrics: metrics)
        }
        self.init(replicas: replicas, maximumLag: configuration.maximumLag, probeInterval: configuration.probeInterval,
                  measurementMaximumAge: configuration.measurementMaximumAge, probeTimeout: configuration.probeTimeout)
    }

    /// A replica fit to serve a read now, with its measured lag; nil sends the read to the primary.
    func choose(now: ContinuousClock.Instant = .now) -> (replica: ReadReplica, lagSeconds: Double)? {
        let fit: [(ReadReplica, Double)] = replicas.compactMap { replica in
            let measurement = replica.measurement
            guard isUsable(replica, now: now), let lag = measurement.lagSeconds else { return nil }
            return (replica, lag)
        }
        guard !fit.isEmpty else { return nil }
        let index = turn.add(1, ordering: .relaxed).newValue
        return fit[index % fit.count]
    }

    /// Whether `replica` may serve reads now: fit as last measured, and not sitting out a failed read.
    public func isUsable(_ replica: ReadReplica, now: ContinuousClock.Instant = .now) -> Bool {
        isFit(replica.measurement, now: now) && !replica.isSittingOut(now: now)
    }

    /// Whether a replica so measured may serve reads: measured recently, and at most `maximumLag` behind.
    public func isFit(_ measurement: ReadReplica.Measurement, now: ContinuousClock.Instant = .now) -> Bool {
        guard let lag = measurement.lagSeconds, lag <= maximumLag.inSeconds, let at = measurement.measuredAt else { return false }
        return at.duration(to: now) <= measurementMaximumAge
    }

    /// The replicas' pools, for a service group (the lag monitor is separate: it also needs the primary).
    var poolServices: [any Service] { replicas.flatMap { [$0.appPool.service, $0.tenantPool.service] } }
}
