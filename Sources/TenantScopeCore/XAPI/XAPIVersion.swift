import Foundation

/// The `X-Experience-API-Version` header: which versions TenantScope speaks and what it answers with.
public enum XAPIVersion {
    public static let headerName = "X-Experience-API-Version"
    /// The version TenantScope implements and answers with by default.
    public static let current = "1.0.3"

    /// The version to answer a request with, or an error when the request names none or an unknown one.
    public static func negotiate(_ requested: String?) throws(TenantScopeError) -> String {
        guard let requested = requested?.trimmingCharacters(in: .whitespaces), !requested.isEmpty else {
            throw .invalidInput("the X-Experience-API-Version header is required (e.g. 1.0.3)")
        }
        // Every part kept, empty ones too (`1.0.` is not a version), and ASCII digits only (`isNumber` takes ½ and every
        // script's digits).
        let parts = requested.split(separator: ".", omittingEmptySubsequences: false)
        guard (2...3).contains(parts.count), parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy { ("0"..."9").contains($0) } }) else {
            throw .invalidInput("X-Experience-API-Version must look like 1.0.3")
        }
        switch (parts[0], parts[1]) {
        case ("1", "0"): return "1.0.3"
        case ("2", "0"): return "2.0.0"
        default: throw .invalidInput("X-Experience-API-Version \(requested) is not supported; use 1.0.x or 2.0.x")
        }
    }
}
