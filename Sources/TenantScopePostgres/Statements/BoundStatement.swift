import Foundation
import NIOCore
import PostgresNIO
import TenantScopeCore

/// SQL with named placeholders (`:name`) and the values bound to them.
///
/// Each placeholder becomes `($n::type)`, the type being what its value is bound as, NULL included. The text
/// then states every parameter's type itself: the statement means the same run unnamed (``query``, whose parse
/// also sends the types) or prepared without declared types (``PreparedStatements``), one report is one text
/// whichever of its parameters are NULL, and a prepared text is never executed with other types (they are part
/// of the text a prepared slot is keyed by).
struct BoundStatement: Sendable {
    enum Value: Sendable {
        case integer(Int?)
        case text(String?)
        case boolean(Bool)
        case uuid(UUID)
        case uuidOrNull(UUID?)
        case timestamp(Date?)
        case bytes([UInt8])
        case bytesArray([[UInt8]])
        case textArray([String])
        /// A text array or NULL.
        case textArrayOrNull([String]?)
        case integerArray([Int])
        case uuidArray([UUID])
        case booleanArray([Bool])

        var cast: String {
            switch self {
            case .integer: "int8"
            case .text: "text"
            case .boolean: "boolean"
            case .uuid, .uuidOrNull: "uuid"
            case .timestamp: "timestamptz"
            case .bytes: "bytea"
            case .bytesArray: "bytea[]"
            case .textArray, .textArrayOrNull: "text[]"
            case .integerArray: "int8[]"
            case .uuidArray: "uuid[]"
            case .booleanArray: "boolean[]"
            }
        }
    }

    let sql: String
    let values: [Value]
    /// Whether the text may take one of ``PreparedStatements``' slots, which are few and kept for the life of the
    /// process: not for texts drawn from a large set (the LRS's statement queries, one text per combination of filters).
    var mayBePrepared = true
    /// How a read-only statement's runs are planned on a connection (architecture decision 75); a write keeps the session's
    /// setting.
    var planning: QueryPlanning = .forEachRun

    /// `text` with its placeholders bound from `value(name)`, in bind order.
    init(_ text: String, value: (String) -> Value) {
        let template = SQLTemplates.shared.template(of: text)
        let values = template.names.map(value)
        self.sql = template.rendered { "($\($0 + 1)::\(values[$0].cast))" }
        self.values = values
    }

    /// SQL already rendered with `($n::type)` placeholders, and their values in order.
    init(sql: String, values: [Value]) {
        self.sql = sql
        self.values = values
    }

    var bindings: PostgresBindings {
        var bindings = PostgresBindings(capacity: values.count)
        for value in values {
            switch value {
            case .integer(let number?): bindings.append(number)
            case .text(let text?): bindings.append(text)
            case .boolean(let flag): bindings.append(flag)
            case .uuid(let id), .uuidOrNull(let id?): bindings.append(id)
            case .timestamp(let date?): bindings.append(date)
            case .bytes(let bytes): bindings.append(ByteBuffer(bytes: bytes))
            case .bytesArray(let arrays): bindings.append(arrays.map { ByteBuffer(bytes: $0) })
            case .textArrayOrNull(let array?): bindings.append(array)
            case .textArrayOrNull(nil): bindings.appendNull()
            case .textArray(let array): bindings.append(array)
            case .integerArray(let array): bindings.append(array)
            case .uuidArray(let array): bindings.append(array)
            case .booleanArray(let array): bindings.append(array)
            case .integer(nil), .text(nil), .uuidOrNull(nil), .timestamp(nil): bindings.appendNull()
            }
        }
        return bindings
    }

    /// The statement as an unnamed query.
    var query: PostgresQuery { PostgresQuery(unsafeSQL: sql, binds: bindings) }
}

/// Report SQL split at its placeholders once per text, not on every request: splitting walks the text
/// character by character, which cost 7 % of the machine under report load (a perf profile, architecture
/// decision 55). Bounded: the texts are the catalog's reports (served, cold, a platform report's fan-out) and
/// each transaction's first statement; past the bound the memo starts over.
final class SQLTemplates: Sendable {
    static let shared = SQLTemplates()
    private let templates = BoundedMemo<String, SQLTemplate>(limit: 512)

    func template(of text: String) -> SQLTemplate {
        templates.value(for: text, make: SQLText.template)
    }
}
