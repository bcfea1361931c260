import Foundation
import Testing
@testable import TenantScopeCore

@Suite struct JSONParserTests {
    func parse(_ text: String) throws(JSONParser.Failure) -> JSONValue {
        try JSONParser.parse(Array(text.utf8))
    }

    func failure(_ text: String) -> JSONParser.Failure? {
        do {
            _ = try parse(text)
            return nil
        } catch {
            return error
        }
    }

    @Test func parsesEveryKindOfValue() throws {
        let value = try parse(#" {"a": [1, -2.5e3, true, false, null, "x"], "b": {"c": ""}} "#)
        #expect(value == .object([
            "a": .array([.number("1"), .number("-2.5e3"), .bool(true), .bool(false), .null, .string("x")]),
            "b": .object(["c": .string("")]),
        ]))
    }

    @Test func numbersKeepTheLiteralTheSenderWrote() throws {
        #expect(try parse("0.10000000000000000001") == .number("0.10000000000000000001"))
        #expect(try parse("[1E+2]") == .array([.number("1E+2")]))
    }

    @Test func decodesEscapesAndSurrogatePairs() throws {
        #expect(try parse(#""a\"b\\c\/d\b\f\n\r\t""#) == .string("a\"b\\c/d\u{8}\u{C}\n\r\t"))
        #expect(try parse(#""\u00e9\u4e2d\ud83d\ude00""#) == .string("é中😀"))
        #expect(try parse("\"raw é 😀\"") == .string("raw é 😀"))
    }

    @Test func aDuplicateKeyKeepsItsLastValueAsJsonbDoes() throws {
        #expect(try parse(#"{"a": 1, "a": 2}"#) == .object(["a": .number("2")]))
        // Members of nested objects wait on one shared stack: each object gets its own, at every depth.
        let nested = try parse(#"{"a": {"b": 1, "c": [{"b": 2, "b": 3}, {}], "b": 4}, "b": {"a": 5}, "a": {"d": [], "d": {"e": 6}}}"#)
        #expect(nested == .object(["a": .object(["d": .object(["e": .number("6")])]), "b": .object(["a": .number("5")])]))
    }

    @Test func refusingDuplicateKeysNamesTheRepeatAtAnyDepth() throws {
        let text = #"{"a": [{"x": 1}, {"y": 2, "y": 3}], "b": 1}"#
        do {
            _ = try JSONParser.parse(Array(text.utf8), refusingDuplicateKeys: true)
            Issue.record("a repeated key was accepted")
        } catch {
            #expect(error.reason == "the property 'y' is given twice")
            #expect(error.offset == Array(text.utf8).lastIndex(of: UInt8(ascii: "y")).map { $0 - 1 })
        }
        #expect(try JSONParser.parse(Array(#"{"a": {"x": 1}, "b": {"x": 2}}"#.utf8), refusingDuplicateKeys: true) != .null,
                "the same key in two objects is not a repeat")
    }

    @Test(arguments: [
        ("", "unexpected end of input"),
        ("{", "expected a quoted property name"),
        ("[1,]", "unexpected ']'"),
        ("[1 2]", "expected ',' or ']'"),
        (#"{"a" 1}"#, "expected ':'"),
        ("{'a': 1}", "expected a quoted property name"),
        ("01", "unexpected data after the JSON value"),
        ("1.", "digits after '.'"),
        ("-", "a number needs digits"),
        ("1e", "digits in its exponent"),
        ("1e999", "out of range"),
        ("tru", "unexpected 't'"),
        ("NaN", "unexpected 'N'"),
        (#""\x""#, "is not a JSON escape"),
        (#""\u12""#, "four hex digits"),
        (#""\ud83d""#, "unpaired UTF-16 surrogate"),
        (#""\ude00x""#, "unpaired UTF-16 surrogate"),
        (#""a\u0000b""#, "\\u0000 cannot be stored"),
        ("1e400", "the number 1e400 is out of range"),
        ("[-1E+309]", "is out of range"),
        ("1.8e308", "is out of range"),
        ("0.00018e312", "is out of range"),
        // PostgreSQL's numeric keeps at most 16383 digits after the decimal point, trailing zeros included.
        ("1e-16384", "more digits after the decimal point than PostgreSQL's numeric can store"),
        ("1.0e-16383", "more digits after the decimal point"),
        ("123e-10000000", "more digits after the decimal point"),
        ("[1e-99999999999999999999999]", "more digits after the decimal point"),
        ("0e1073741823", "more digits after the decimal point"),
        ("\"tab\there\"", "control character"),
        ("\"unterminated", "end of input in a string"),
        ("[] []", "unexpected data after the JSON value"),
    ])
    func refusesWhatIsNotJSONOrCannotBeStoredWithAReason(input: String, reason: String) {
        let refused = failure(input)
        #expect(refused?.reason.contains(reason) == true, "\(input): \(String(describing: refused))")
    }

    /// The edges of what PostgreSQL's numeric stores (checked against PostgreSQL 15: each of these is
    /// accepted by `'…'::jsonb`, and the refused neighbours above are not).
    @Test(arguments: ["1e-16383", "0e-16383", "0.0e-16382", "123.456e-789", "0e99999999", "1.5e-400", "1e308", "1.7976931348623157e308", "-0.000179e312"])
    func acceptsNumbersAtTheEdgeOfWhatPostgreSQLStores(literal: String) throws {
        #expect(try parse(literal) == .number(literal))
    }

    @Test func aRefusedLongNumberIsAbbreviatedInTheMessage() {
        let digits = "1" + String(repeating: "0", count: 400)
        let refused = failure(digits)
        #expect(refused?.reason == "the number 10000000000000000000…000000000000 is out of range")
        #expect(refused?.offset == 0)
    }

    @Test func refusesInvalidUTF8() {
        let bytes: [UInt8] = [0x22, 0xC3, 0x28, 0x22]  // "\xC3(" : a broken two-byte sequence
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(bytes) }
    }

    @Test func nestingBeyondTheLimitIsRefusedNotACrash() {
        let deep = String(repeating: "[", count: JSONParser.maximumDepth + 1) + String(repeating: "]", count: JSONParser.maximumDepth + 1)
        #expect(failure(deep)?.reason.contains("nesting deeper") == true)
        let allowed = String(repeating: "[", count: JSONParser.maximumDepth) + String(repeating: "]", count: JSONParser.maximumDepth)
        #expect(failure(allowed) == nil)
    }

    @Test func theFailureNamesTheByteWhereParsingStopped() {
        #expect(failure(#"{"a": x}"#) == JSONParser.Failure(reason: "unexpected 'x'", offset: 6))
    }

    @Test func writerEscapesWhatJSONRequiresAndNothingElse() {
        let text = JSONValue.string("q\"b\\s/n\nt\tc\u{1}é").jsonText
        #expect(text == #""q\"b\\s/n\nt\tc\u0001é""#)
    }

    @Test func sortedKeysGiveEqualValuesEqualText() {
        let value: JSONValue = ["b": ["z": 1, "a": [.null, ["y": true, "x": "é"]]], "a": "first"]
        #expect(value.jsonText(sortingKeys: true) == #"{"a":"first","b":{"a":[null,{"x":"é","y":true}],"z":1}}"#)
    }

    @Test(arguments: [0.823, 1e-5, -0.0, Double.leastNonzeroMagnitude, Double.greatestFiniteMagnitude, 123456789.0])
    func aComputedNumberIsAJSONLiteralOfTheSameDouble(number: Double) throws {
        let value = JSONValue(number)
        #expect(try parse(value.jsonText) == value)
        #expect(value.numberValue == number)
    }

    /// Property: writing any value and parsing the text gives the value back; and Foundation's parser
    /// reads our text as the same document (so what we store is ordinary JSON).
    @Test func writeThenParseIsTheIdentityOnRandomDocuments() throws {
        var random = SeededGenerator(seed: 20261125)
        for _ in 0..<300 {
            let value = Self.randomValue(depth: 0, using: &random)
            let text = value.jsonText
            #expect(try parse(text) == value)
            let foundation = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
            #expect(Self.value(fromFoundation: foundation) == Self.numbersAsDoubles(value))
        }
    }

    static func randomValue(depth: Int, using random: inout SeededGenerator) -> JSONValue {
        let kind = depth > 3 ? Int.random(in: 0...3, using: &random) : Int.random(in: 0...5, using: &random)
        switch kind {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &random))
        case 2: return .number(["0", "-1", "42", "3.25", "-0.5", "1e3", "12345678901"].randomElement(using: &random)!)
        case 3: return .string(randomString(using: &random))
        case 4: return .array((0..<Int.random(in: 0...4, using: &random)).map { _ in randomValue(depth: depth + 1, using: &random) })
        default:
            var members: JSONObject = [:]
            for _ in 0..<Int.random(in: 0...4, using: &random) {
                members[randomString(using: &random)] = randomValue(depth: depth + 1, using: &random)
            }
            return .object(members)
        }
    }

    static func randomString(using random: inout SeededGenerator) -> String {
        let alphabet: [Character] = ["a", "Z", "0", " ", "\"", "\\", "/", "\n", "\t", "\u{1}", "\u{1F}", "é", "中", "😀", "\u{7F}"]
        return String((0..<Int.random(in: 0...8, using: &random)).map { _ in alphabet.randomElement(using: &random)! })
    }

    /// Foundation's reading of a document, as a value with numbers as doubles (Foundation keeps no literal).
    static func value(fromFoundation object: Any) -> JSONValue? {
        switch object {
        case is NSNull: return .null
        case let text as String: return .string(text)
        // JSONSerialization gives booleans the Objective-C type "c".
        case let number as NSNumber where String(cString: number.objCType) == "c": return .bool(number.boolValue)
        case let number as NSNumber: return .number(String(number.doubleValue))
        case let list as [Any]:
            let elements = list.compactMap { value(fromFoundation: $0) }
            return elements.count == list.count ? .array(elements) : nil
        case let map as [String: Any]:
            let members = map.compactMapValues { value(fromFoundation: $0) }
            return members.count == map.count ? .object(JSONObject(members)) : nil
        default: return nil
        }
    }

    /// Foundation reads numbers into doubles; compare numbers by value.
    static func numbersAsDoubles(_ value: JSONValue) -> JSONValue {
        switch value {
        case .number(let literal): .number(String(Double(literal)!))
        case .array(let elements): .array(elements.map(numbersAsDoubles))
        case .object(let members): .object(members.mapValues(numbersAsDoubles))
        default: value
        }
    }
}
