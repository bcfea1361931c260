import Synchronization

/// When this process last stored statements that queued derivation: what lets the roll-up service start a pass once
/// ingest has gone quiet instead of at the end of its interval (architecture decision 81).
///
/// Without it a burst's last statements wait for the rest of the interval (5 s by default) before a pass derives
/// them, however idle the machine is by then. With it, a pass starts once the server has stored nothing for a short
/// quiet period; during steady ingest there is no such pause, so passes keep to the interval and each one still
/// takes many batches' actors at once. It knows only this process's ingest: another server's batches are taken by
/// its own roll-up service, or by this one's next pass at the interval.
public final class RollupWakeup: Sendable {
    private let lastQueued = Mutex<ContinuousClock.Instant?>(nil)

    public init() {}

    /// Ingest stored statements and queued their derivation.
    public func noteQueued() {
        lastQueued.withLock { $0 = .now }
    }

    /// When work was last queued since the last ``takeNoted()``, if it was.
    var noted: ContinuousClock.Instant? { lastQueued.withLock { $0 } }

    /// A pass is starting: it takes everything queued so far, so only what is queued from now on calls for another.
    func takeNoted() {
        lastQueued.withLock { $0 = nil }
    }
}
