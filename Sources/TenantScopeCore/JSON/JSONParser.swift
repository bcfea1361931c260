/// A strict JSON (RFC 8259) parser into `JSONValue`, working on UTF-8 bytes.
///
/// Beyond the grammar it refuses what PostgreSQL cannot store, so such input is a clear 400, never a
/// failed insert: `\u0000` in strings (neither `text` nor `jsonb` holds it), and numbers with more
/// digits after the decimal point than `numeric` keeps. It also refuses numbers outside the range of a
/// Double, which the validator's range checks and most clients reading statements back cannot represent.
/// docs/architecture.md, decision 20, lists every difference from RFC 8259; JSONTestSuiteTests and the
/// fuzzer (Fuzz/JSONParserFuzz) hold the parser to them.
public struct JSONParser {
    public struct Failure: Error, Hashable, Sendable, CustomStringConvertible {
        /// Why the input is refused, e.g. `unexpected character 'x'`.
        public var reason: String
        /// The offset of the byte where parsing stopped.
        public var offset: Int

        public var description: String { "\(reason) at byte \(offset)" }
    }

    /// Deeper nesting than this is refused rather than risking the stack (JSONSerialization allows 512).
    public static let maximumDepth = 512

    private let bytes: UnsafeBufferPointer<UInt8>
    private let refusingDuplicateKeys: Bool
    private var index = 0
    private var depth = 0
    /// The members of the objects still open, innermost last: each key, its value and where the key starts.
    private var pendingMembers: [(String, JSONValue, Int)] = []

    private init(bytes: UnsafeBufferPointer<UInt8>, refusingDuplicateKeys: Bool) {
        self.bytes = bytes
        self.refusingDuplicateKeys = refusingDuplicateKeys
    }

    /// Parses one JSON document (any value at the top level); whitespace may surround it, nothing else.
    ///
    /// - Parameter refusingDuplicateKeys: refuse an object that names a property twice, instead of
    ///   keeping the last value as `jsonb` does. For security tokens, where two parsers reading the same
    ///   bytes must agree on what they say (a JWT header or claims set).
    public static func parse(_ input: some Collection<UInt8>, refusingDuplicateKeys: Bool = false) throws(Failure) -> JSONValue {
        let result: Result<JSONValue, Failure>? = input.withContiguousStorageIfAvailable { buffer in
            Result { () throws(Failure) in try parseDocument(buffer, refusingDuplicateKeys: refusingDuplicateKeys) }
        }
        if let result { return try result.get() }
        let copy = Array(input)
        return try copy.withUnsafeBufferPointer { buffer throws(Failure) in try parseDocument(buffer, refusingDuplicateKeys: refusingDuplicateKeys) }
    }

    private static func parseDocument(_ buffer: UnsafeBufferPointer<UInt8>, refusingDuplicateKeys: Bool) throws(Failure) -> JSONValue {
        var parser = JSONParser(bytes: buffer, refusingDuplicateKeys: refusingDuplicateKeys)
        parser.skipWhitespace()
        let value = try parser.parseValue()
        parser.skipWhitespace()
        guard parser.index == buffer.count else { throw parser.failure("unexpected data after the JSON value") }
        return value
    }

    // MARK: - Grammar

    private mutating func parseValue() throws(Failure) -> JSONValue {
        guard index < bytes.count else { throw failure("unexpected end of input") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw failure("unexpected \(describeCurrentByte())")
        }
    }

    private mutating func parseObject() throws(Failure) -> JSONValue {
        try enterContainer()
        index += 1  // {
        skipWhitespace()
        if leaveContainer(at: UInt8(ascii: "}")) { return .object([:]) }
        // Members wait on a stack shared by every object of the document until the object closes, so the object's
        // storage is made once at its final size.
        let base = pendingMembers.count
        while true {
            skipWhitespace()
            guard peek(UInt8(ascii: "\"")) else { throw failure("expected a quoted property name, found \(describeCurrentByte())") }
            let keyStart = index
            let key = try parseString()
            skipWhitespace()
            guard peek(UInt8(ascii: ":")) else { throw failure("expected ':' after a property name, found \(describeCurrentByte())") }
            index += 1
            skipWhitespace()
            let value = try parseValue()
            pendingMembers.append((key, value, keyStart))
            if try afterElement(closing: UInt8(ascii: "}"), in: "an object") { break }
        }
        var members = JSONObject(minimumCapacity: pendingMembers.count - base)
        for (key, value, keyStart) in pendingMembers[base...] {
            // A repeated key keeps its last value, as jsonb does, unless repeats are refused.
            if members.updateValue(value, forKey: key) != nil, refusingDuplicateKeys {
                throw failure("the property '\(key)' is given twice", at: keyStart)
            }
        }
        pendingMembers.removeLast(pendingMembers.count - base)
        return .object(members)
    }

    private mutating func parseArray() throws(Failure) -> JSONValue {
        try enterContainer()
        index += 1  // [
        var elements: [JSONValue] = []
        skipWhitespace()
        if leaveContainer(at: UInt8(ascii: "]")) { return .array(elements) }
        while true {
            skipWhitespace()
            elements.append(try parseValue())
            if try afterElement(closing: UInt8(ascii: "]"), in: "an array") { return .array(elements) }
        }
    }

    /// After a member or element: consumes a `,` (more follow: false) or the closing bracket (the
    /// container ends: true); anything else is an error.
    private mutating func afterElement(closing: UInt8, in container: String) throws(Failure) -> Bool {
        skipWhitespace()
        if peek(UInt8(ascii: ",")) {
            index += 1
            return false
        }
        guard leaveContainer(at: closing) else {
            throw failure("expected ',' or '\(Character(Unicode.Scalar(closing)))' in \(container), found \(describeCurrentByte())")
        }
        return true
    }

    /// Consumes `closing` and leaves the container when it is the current byte.
    private mutating func leaveContainer(at closing: UInt8) -> Bool {
        guard peek(closing) else { return false }
        index += 1
        depth -= 1
        return true
    }

    private mutating func enterContainer() throws(Failure) {
        depth += 1
        guard depth <= Self.maximumDepth else { throw failure("nesting deeper than \(Self.maximumDepth) levels") }
    }

    private mutating func parseString() throws(Failure) -> String {
        index += 1  // opening quote
        let start = index
        // Fast path: no escapes, so the bytes between the quotes are the string.
        var highBits: UInt8 = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let slice = UnsafeBufferPointer(rebasing: bytes[start..<index])
                // ASCII is valid UTF-8 as it is; `String(validating:)` (a generic the standard library does not
                // specialize, so a metadata lookup per call) is left for the strings that need it.
                let text: String
                if highBits < 0x80 {
                    text = String(decoding: slice, as: UTF8.self)
                } else {
                    guard let valid = String(validating: slice, as: UTF8.self) else { throw failure("a string is not valid UTF-8", at: start) }
                    text = valid
                }
                index += 1
                return text
            }
            highBits |= byte
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { throw failure("a control character must be escaped inside a string") }
            index += 1
        }
        // Slow path: decode escapes into a byte buffer.
        var decoded = Array(bytes[start..<index])
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                guard let text = String(validating: decoded, as: UTF8.self) else { throw failure("a string is not valid UTF-8", at: start) }
                index += 1
                return text
            case UInt8(ascii: "\\"):
                index += 1
                guard index < bytes.count else { throw failure("unexpected end of input in a string") }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): decoded.append(escape)
                case UInt8(ascii: "b"): decoded.append(0x08)
                case UInt8(ascii: "f"): decoded.append(0x0C)
                case UInt8(ascii: "n"): decoded.append(0x0A)
                case UInt8(ascii: "r"): decoded.append(0x0D)
                case UInt8(ascii: "t"): decoded.append(0x09)
                case UInt8(ascii: "u"): decoded.append(contentsOf: try parseUnicodeEscape())
                default: throw failure("'\\\(Character(Unicode.Scalar(escape)))' is not a JSON escape", at: index - 2)
                }
            default:
                if byte < 0x20 { throw failure("a control character must be escaped inside a string") }
                decoded.append(byte)
                index += 1
            }
        }
        throw failure("unexpected end of input in a string")
    }

    /// After `\u`: four hex digits, or a surrogate pair written as two escapes. Returns the UTF-8 bytes.
    private mutating func parseUnicodeEscape() throws(Failure) -> [UInt8] {
        let escapeStart = index - 2
        var code = try parseHex4()
        if (0xD800...0xDBFF).contains(code) {
            guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                throw failure("an unpaired UTF-16 surrogate in a \\u escape", at: escapeStart)
            }
            index += 2
            let low = try parseHex4()
            guard (0xDC00...0xDFFF).contains(low) else { throw failure("an unpaired UTF-16 surrogate in a \\u escape", at: escapeStart) }
            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
        } else if (0xDC00...0xDFFF).contains(code) {
            throw failure("an unpaired UTF-16 surrogate in a \\u escape", at: escapeStart)
        }
        guard code != 0 else { throw failure("\\u0000 cannot be stored (PostgreSQL's text and jsonb do not allow it)", at: escapeStart) }
        guard let scalar = Unicode.Scalar(code) else { throw failure("an invalid \\u escape", at: escapeStart) }
        return Array(String(Character(scalar)).utf8)
    }

    private mutating func parseHex4() throws(Failure) -> UInt32 {
        guard index + 4 <= bytes.count else { throw failure("a \\u escape needs four hex digits") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw failure("a \\u escape needs four hex digits")
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }

    /// The most digits after the decimal point PostgreSQL's `numeric` (and so `jsonb`) keeps:
    /// `NUMERIC_DSCALE_MAX`. It counts the digits the literal implies, trailing zeros included
    /// (`1.50e-2` is `0.0150`, four), and refuses the value past that ("value overflows numeric format").
    public static let maximumNumberScale = 16_383

    /// PostgreSQL refuses an exponent from this magnitude on, even on zero (`0e1073741823`): `INT_MAX / 2`.
    static let exponentLimit = 1_073_741_823

    private mutating func parseNumber() throws(Failure) -> JSONValue {
        let start = index
        if peek(UInt8(ascii: "-")) { index += 1 }
        var integerDigits = 1
        if peek(UInt8(ascii: "0")) {
            index += 1
        } else {
            integerDigits = skipDigits()
            guard integerDigits > 0 else { throw failure("a number needs digits", at: start) }
        }
        var fractionDigits = 0
        if peek(UInt8(ascii: ".")) {
            index += 1
            fractionDigits = skipDigits()
            guard fractionDigits > 0 else { throw failure("a number needs digits after '.'", at: start) }
        }
        var exponent = 0
        if peek(UInt8(ascii: "e")) || peek(UInt8(ascii: "E")) {
            index += 1
            var negative = false
            if peek(UInt8(ascii: "+")) {
                index += 1
            } else if peek(UInt8(ascii: "-")) {
                negative = true
                index += 1
            }
            let digitsStart = index
            guard skipDigits() > 0 else { throw failure("a number needs digits in its exponent", at: start) }
            // Saturates: past the limit the number is refused anyway, and the digits may be many.
            for digit in bytes[digitsStart..<index] where exponent < Self.exponentLimit {
                exponent = exponent * 10 + Int(digit - UInt8(ascii: "0"))
            }
            if negative { exponent = -exponent }
        }
        let literal = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        // Below 10^308 a number is surely finite as a Double; only larger-looking ones are converted to check.
        if integerDigits + exponent > 308 {
            guard let double = Double(literal), double.isFinite else {
                throw failure("the number \(Self.abbreviated(literal)) is out of range", at: start)
            }
        }
        guard fractionDigits - exponent <= Self.maximumNumberScale, exponent < Self.exponentLimit else {
            throw failure("the number \(Self.abbreviated(literal)) has more digits after the decimal point than PostgreSQL's "
                + "numeric can store (\(Self.maximumNumberScale))", at: start)
        }
        return .number(literal)
    }

    /// A literal short enough for an error message (a refused number may have thousands of digits).
    private static func abbreviated(_ literal: String) -> String {
        literal.utf8.count <= 40 ? literal : String(literal.prefix(20)) + "…" + String(literal.suffix(12))
    }

    private mutating func skipDigits() -> Int {
        let start = index
        while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
        return index - start
    }

    private mutating func expectLiteral(_ word: String) throws(Failure) {
        let count = word.utf8.count
        guard index + count <= bytes.count, word.utf8.elementsEqual(bytes[index..<(index + count)]) else {
            throw failure("unexpected \(describeCurrentByte())")
        }
        index += count
    }

    // MARK: - Helpers

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    private func peek(_ byte: UInt8) -> Bool {
        index < bytes.count && bytes[index] == byte
    }

    private func describeCurrentByte() -> String {
        guard index < bytes.count else { return "end of input" }
        let byte = bytes[index]
        return (0x21...0x7E).contains(byte) ? "'\(Character(Unicode.Scalar(byte)))'" : "byte 0x\(String(byte, radix: 16, uppercase: true))"
    }

    private func failure(_ reason: String, at offset: Int? = nil) -> Failure {
        Failure(reason: reason, offset: offset ?? index)
    }
}
