import Foundation

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
    /// An object. Key order is not kept: the stored form is `jsonb`, which does not keep it either; a key
    /// given twice keeps its last value, as `jsonb` does.
    case object([String: JSONValue])

    public var stringValue: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    public var objectValue: [String: JSONValue]? {
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

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int) { self = .number(String(value)) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}

extension JSONValue {
    /// Converts `JSONSerialization` output (or dictionaries built in Swift) into a value; nil when
    /// something in it is not JSON (a Date, a non-finite number).
    public init?(foundation value: Any) {
        switch value {
        case is NSNull:
            self = .null
        case let text as String:
            self = .string(text)
        case let number as NSNumber:
            // JSONSerialization and Swift Bool literals give booleans the Objective-C type "c".
            if String(cString: number.objCType) == "c" {
                self = .bool(number.boolValue)
            } else if let integer = value as? Int, String(cString: number.objCType) != "d" {
                self = .number(String(integer))
            } else {
                let double = number.doubleValue
                guard double.isFinite else { return nil }
                self = .number(double == double.rounded() && abs(double) < 1e15 ? String(Int64(double)) : String(double))
            }
        case let list as [Any]:
            var elements: [JSONValue] = []
            elements.reserveCapacity(list.count)
            for element in list {
                guard let converted = JSONValue(foundation: element) else { return nil }
                elements.append(converted)
            }
            self = .array(elements)
        case let map as [String: Any]:
            var members: [String: JSONValue] = [:]
            members.reserveCapacity(map.count)
            for (key, element) in map {
                guard let converted = JSONValue(foundation: element) else { return nil }
                members[key] = converted
            }
            self = .object(members)
        default:
            return nil
        }
    }
}
