import Foundation

/// One operation of the OpenAPI document: a method on a path template.
public struct OpenAPIOperation: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Upper case: `GET`, `POST`.
    public var method: String
    /// The template, e.g. `/api/v1/reports/{name}`.
    public var path: String

    public init(method: String, path: String) {
        self.method = method
        self.path = path
    }

    /// The names of the template's `{parameters}`, in order.
    public var pathParameters: [String] {
        var names: [String] = []
        var rest = Substring(path)
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            names.append(String(rest[rest.index(after: open)..<close]))
            rest = rest[rest.index(after: close)...]
        }
        return names
    }

    /// The path with each `{parameter}` replaced by `values[parameter]` (as given: the caller encodes).
    public func path(filling values: [String: String]) -> String {
        var result = path
        for name in pathParameters {
            result = result.replacingOccurrences(of: "{\(name)}", with: values[name] ?? "")
        }
        return result
    }

    public var description: String { "\(method) \(path)" }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        (lhs.path, lhs.method) < (rhs.path, rhs.method)
    }
}

/// Reads the operations out of TenantScope's OpenAPI document.
///
/// A line reader, not a YAML parser: the document is ours and keeps one path per `  /path:` line (two
/// spaces) and one method per `    method:` line (four) under it, which the document test holds.
public enum OpenAPIOperations {
    static let methods: Set<String> = ["get", "put", "post", "delete", "head", "patch", "options"]

    public static func parse(_ document: String) -> [OpenAPIOperation] {
        var operations: [OpenAPIOperation] = []
        var path: String?
        for line in document.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = line.hasSuffix("\r") ? line.dropLast() : line
            if line.hasPrefix("  /"), line.hasSuffix(":") {
                path = String(line.dropFirst(2).dropLast())
            } else if line.hasPrefix("    "), !line.hasPrefix("     "), line.hasSuffix(":"), let path {
                let method = String(line.trimmingCharacters(in: .whitespaces).dropLast())
                if methods.contains(method) {
                    operations.append(OpenAPIOperation(method: method.uppercased(), path: path))
                }
            } else if !line.hasPrefix(" "), !line.isEmpty {
                path = nil
            }
        }
        return operations
    }
}
