import TenantScopeCore
import TenantScopePostgres

extension ReportCell {
    /// The cell as JSON, in a report's answer and in a JSON export alike: text as a string, a number as `JSONEncoder`
    /// writes it, NULL as null.
    var jsonValue: JSONValue {
        switch self {
        case .text(let text): .string(text)
        case .integer(let number): .number(String(number))
        case .number(let number): .encoderStyleNumber(number)
        case .null: .null
        }
    }
}

extension JSONValue {
    /// `value` as `JSONEncoder` writes a `Double` (`1`, `0.1667`, `1e-05`): its shortest description without the `.0` of
    /// a whole number, which `JSONValue(_: Double)` keeps. NaN and the infinities, which JSON cannot hold
    /// (`JSONEncoder` refuses them), are null.
    static func encoderStyleNumber(_ value: Double) -> JSONValue {
        guard value.isFinite else { return .null }
        let text = value.description
        return .number(text.hasSuffix(".0") ? String(text.dropLast(2)) : text)
    }
}
