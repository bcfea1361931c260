import Synchronization

/// Values computed once per key and then reused, for keys drawn from a small set (the catalog's report texts). Bounded
/// all the same: past `limit` keys the memo starts over rather than grow.
final class BoundedMemo<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private let values = Mutex<[Key: Value]>([:])
    let limit: Int

    init(limit: Int) {
        self.limit = limit
    }

    /// The value of `key`, made by `make` the first time (two callers at once may both make it; either is kept).
    func value(for key: Key, make: (Key) -> Value) -> Value {
        if let known = values.withLock({ $0[key] }) { return known }
        let value = make(key)
        values.withLock { values in
            if values.count >= limit { values.removeAll(keepingCapacity: true) }
            values[key] = value
        }
        return value
    }
}
