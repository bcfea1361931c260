import Foundation
import PostgresNIO

/// Prints errors for a person: the server's message for database errors (which hide it from `description`).
struct CLIError: Error, CustomStringConvertible {
    let description: String

    init(_ error: any Error) {
        switch error {
        case let error as CLIError:
            description = error.description
        case let error as PSQLError:
            if let message = error.serverInfo?[.message] {
                description = "database: \(message)" + (error.serverInfo?[.detail].map { " (\($0))" } ?? "")
            } else {
                description = "database: \(error.code)"
            }
        default:
            description = "\(error)"
        }
    }
}
