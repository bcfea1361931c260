import Synchronization

/// The primary's WAL positions as the lag monitor read them, each with when it was read: a replica that has
/// replayed up to a position read at time T holds everything the primary held at T, so it is at most
/// `now − T` behind. That bound is within a probe interval of the truth and never below it. It needs no
/// commit on the primary: a primary writing only WAL without transactions (checkpoints, standby snapshots)
/// does not make an idle replica look as old as its last replayed commit.
final class WALPositionHistory: Sendable {
    /// A WAL position (`pg_lsn`): the text `X/Y`, two hexadecimal halves of a 64-bit byte offset.
    struct Position: Comparable, Sendable {
        let offset: UInt64

        init?(_ text: String) {
            let halves = text.split(separator: "/")
            guard halves.count == 2, let high = UInt64(halves[0], radix: 16), let low = UInt64(halves[1], radix: 16),
                  high <= UInt32.max, low <= UInt32.max else { return nil }
            offset = high << 32 | low
        }

        static func < (lhs: Self, rhs: Self) -> Bool { lhs.offset < rhs.offset }
    }

    private let entries = Mutex<[(position: Position, at: ContinuousClock.Instant)]>([])
    private let keep: Int

    /// Keeps the last `keep` readings (at one a second, a bound on lag measured this way of about that many seconds).
    init(keep: Int = 600) {
        self.keep = keep
    }

    func record(_ position: Position, at instant: ContinuousClock.Instant = .now) {
        entries.withLock { entries in
            entries.append((position, instant))
            if entries.count > keep { entries.removeFirst(entries.count - keep) }
        }
    }

    /// How far behind a replica that has replayed up to `replayed` is, at most, or nil when it is behind every
    /// recorded reading (then only its last replayed commit can date it).
    func lag(ofReplayed replayed: Position, now: ContinuousClock.Instant = .now) -> Duration? {
        entries.withLock { entries in
            guard let reached = entries.last(where: { $0.position <= replayed }) else { return nil }
            // The newest reading already replayed: 0 when it is the latest one, the replica caught up to it.
            if reached.position == entries.last?.position { return .zero }
            return reached.at.duration(to: now)
        }
    }
}
