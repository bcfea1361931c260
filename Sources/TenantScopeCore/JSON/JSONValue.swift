/// A JSON document as plain Swift values.
///
/// The ingest path parses, validates and re-serializes every statement; with `JSONSerialization` most of
/// that time went to bridging `[String: Any]` through `NSDictionary` and to dynamic casts (profiled in
/// docs/architecture.md, decision 18). This enum needs neither.
///
/// Numbers keep the literal the sender wrote: the statement is stored as `jsonb`, whose numerics are
/// exact decimals, so re-printing through `Double` would be the only place precision could be lost.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    /// A number, as its JSON literal (already checked against the JSON grammar and finite as a Double).
    case number(String)
    case string(String)
    case array([JSONValue])
    /// An object: its members in the order given, each key once (a key given twice keeps its last value, as
    /// `jsonb` does). Equality ignores the order, as `jsonb`, which does not keep it, does.
    case object(JSONObject)

    public var stringValue: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    public var objectValue: JSONObject? {
        if case .object(let members) = self { return members }
        return nil
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let flag) = self { return flag }
        return nil
    }

    /// The number as a Double (for range checks; the literal stays what is stored).
    public var numberValue: Double? {
        if case .number(let literal) = self { return Double(literal) }
        return nil
    }

    public var isNull: Bool { self == .null }

    /// The member `key` of an object; nil for a missing key and for anything that is not an object.
    public subscript(key: String) -> JSONValue? {
        objectValue?[key]
    }
}

/// Literals, so documents built in Swift (the demo data, tests) read like the JSON they stand for.
extension JSONValue: ExpressibleByStringLiteral, ExpressibleByStringInterpolation, ExpressibleByBooleanLiteral,
    ExpressibleByIntegerLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int) { self = .number(String(value)) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(JSONObject(elements.lazy.map { (key: $0.0, value: $0.1) }))
    }
}

extension JSONValue {
    /// A computed integer.
    public init(_ number: Int) {
        self = .number(String(number))
    }

    /// A computed number, written in the shortest form that reads back as the same Double (`0.823`,
    /// `1e-05`). Only finite values are JSON: anything else is a programming error.
    public init(_ number: Double) {
        precondition(number.isFinite, "JSON has no \(number)")
        self = .number(number.description)
    }
}
