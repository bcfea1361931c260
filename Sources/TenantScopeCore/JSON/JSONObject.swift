/// The members of a JSON object, in the order they were first given, each key once.
///
/// A statement is made of small objects (about ten members at its top level, fewer in each of the others), read by
/// key many times over: parsed, validated, their facts read, re-serialized. As a `[String: JSONValue]` every member
/// inserted and every key looked up was hashed, about a fifth of the server's CPU on ingest (architecture decision
/// 71). Here a key is found by comparing it with each member's; an object of ``indexedFrom`` members or more also
/// keeps a dictionary from key to position, so a large object (a sender's extensions, a hostile body) is never
/// searched member by member.
///
/// Equality and hashing ignore the order, as `jsonb` and a dictionary do: `{"a":1,"b":2}` equals `{"b":2,"a":1}`.
public struct JSONObject: Sendable {
    public typealias Member = (key: String, value: JSONValue)

    /// From this many members on, lookups go through ``positions``.
    static let indexedFrom = 17

    private var members: [Member]
    /// Each key's position in ``members``, kept only for objects of ``indexedFrom`` or more members.
    private var positions: [String: Int]?

    public init() {
        members = []
        positions = nil
    }

    public init(minimumCapacity: Int) {
        members = []
        members.reserveCapacity(minimumCapacity)
        positions = nil
    }

    /// The members of `dictionary`, in ascending order of their keys (a dictionary has no order of its own, and a
    /// fixed one keeps the written text the same from run to run).
    public init(_ dictionary: [String: JSONValue]) {
        self.init(minimumCapacity: dictionary.count)
        for key in dictionary.keys.sorted() { self[key] = dictionary[key] }
    }

    /// The members of `sequence` in its order; a key given twice keeps its first place and its last value, as `jsonb`
    /// keeps the last value.
    public init(_ sequence: some Sequence<Member>) {
        self.init(minimumCapacity: sequence.underestimatedCount)
        for (key, value) in sequence { updateValue(value, forKey: key) }
    }

    /// Makes room for `capacity` members, so the members added next do not copy the storage again.
    public mutating func reserveCapacity(_ capacity: Int) {
        members.reserveCapacity(capacity)
    }

    public var count: Int { members.count }
    public var isEmpty: Bool { members.isEmpty }
    public var keys: [String] { members.map(\.key) }
    public var values: [JSONValue] { members.map(\.value) }

    private func position(of key: String) -> Int? {
        if let positions { return positions[key] }
        return members.firstIndex { $0.key == key }
    }

    /// The value of the member `key`; setting nil removes the member.
    public subscript(key: String) -> JSONValue? {
        get { position(of: key).map { members[$0].value } }
        set {
            if let newValue { updateValue(newValue, forKey: key) } else { removeValue(forKey: key) }
        }
    }

    /// Sets the member `key` to `value` (a new key goes last) and returns its value before, if it had one.
    @discardableResult
    public mutating func updateValue(_ value: JSONValue, forKey key: String) -> JSONValue? {
        if let position = position(of: key) {
            let old = members[position].value
            members[position].value = value
            return old
        }
        members.append((key, value))
        if positions != nil {
            positions![key] = members.count - 1
        } else if members.count >= Self.indexedFrom {
            reindex()
        }
        return nil
    }

    /// Removes the member `key` and returns its value, if it had one.
    @discardableResult
    public mutating func removeValue(forKey key: String) -> JSONValue? {
        guard let position = position(of: key) else { return nil }
        let removed = members.remove(at: position).value
        if positions != nil {
            positions = nil
            if members.count >= Self.indexedFrom { reindex() }
        }
        return removed
    }

    private mutating func reindex() {
        var index = [String: Int](minimumCapacity: members.count)
        for (position, member) in members.enumerated() { index[member.key] = position }
        positions = index
    }

    /// The same keys in the same order, each value transformed.
    public func mapValues(_ transform: (JSONValue) throws -> JSONValue) rethrows -> JSONObject {
        var mapped = self
        for position in mapped.members.indices { mapped.members[position].value = try transform(members[position].value) }
        return mapped
    }

    /// Adds `other`'s members; for a key both have, `combine` picks the value (its place stays this one's).
    public mutating func merge(_ other: JSONObject, uniquingKeysWith combine: (JSONValue, JSONValue) throws -> JSONValue) rethrows {
        for (key, value) in other {
            if let mine = self[key] { updateValue(try combine(mine, value), forKey: key) } else { updateValue(value, forKey: key) }
        }
    }

    /// These members with `other`'s added, as ``merge(_:uniquingKeysWith:)`` adds them.
    public func merging(_ other: JSONObject, uniquingKeysWith combine: (JSONValue, JSONValue) throws -> JSONValue) rethrows -> JSONObject {
        var merged = self
        try merged.merge(other, uniquingKeysWith: combine)
        return merged
    }

    /// The members for which `isIncluded` holds, in their order.
    public func filter(_ isIncluded: (Member) throws -> Bool) rethrows -> JSONObject {
        JSONObject(try members.filter(isIncluded))
    }
}

extension JSONObject: RandomAccessCollection {
    public var startIndex: Int { members.startIndex }
    public var endIndex: Int { members.endIndex }
    public subscript(position: Int) -> Member { members[position] }
}

extension JSONObject: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self.init(elements.lazy.map { (key: $0.0, value: $0.1) })
    }
}

extension JSONObject: Hashable {
    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        lhs.count == rhs.count && lhs.members.allSatisfy { rhs[$0.key] == $0.value }
    }

    /// Combines the members' hashes in a way that does not depend on their order.
    public func hash(into hasher: inout Hasher) {
        var combined = 0
        for (key, value) in members {
            var member = Hasher()
            member.combine(key)
            member.combine(value)
            combined ^= member.finalize()
        }
        hasher.combine(count)
        hasher.combine(combined)
    }
}

extension JSONObject: CustomStringConvertible {
    /// The object as compact JSON text.
    public var description: String { JSONValue.object(self).jsonText }
}
