/// One value of an ad-hoc query's row, as JSON can carry it.
public enum SQLValue: Sendable, Hashable, Encodable, CustomStringConvertible {
    case null
    case bool(Bool)
    case integer(Int)
    case number(Double)
    case text(String)

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .integer(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .text(let value): try container.encode(value)
        }
    }

    /// At least the bytes the value takes in a JSON answer (Foundation's encoder writes a control character as a
    /// six-byte `\u` escape, a quote, backslash or slash with a backslash): what an answer's byte cap counts, so that
    /// a cap on the rows read also bounds the text they are encoded into.
    public var encodedJSONBytes: Int {
        switch self {
        case .null: 4
        case .bool(let value): value ? 4 : 5
        case .integer, .number: 24
        case .text(let value):
            value.utf8.reduce(2) { size, byte in
                switch byte {
                case 0x22, 0x5C, 0x2F, 0x08, 0x09, 0x0A, 0x0C, 0x0D: size + 2
                case ..<0x20: size + 6
                default: size + 1
                }
            }
        }
    }

    /// The value as a CSV field or plain text shows it (NULL is empty).
    public var description: String {
        switch self {
        case .null: ""
        case .bool(let value): value ? "true" : "false"
        case .integer(let value): "\(value)"
        case .number(let value): "\(value)"
        case .text(let value): value
        }
    }
}
