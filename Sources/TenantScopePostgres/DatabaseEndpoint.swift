import Foundation
import NIOSSL
import PostgresNIO
import TenantScopeCore

/// Where and as whom to connect: the parsed form of a `postgresql://` URL.
public struct DatabaseEndpoint: Sendable, Hashable {
    public enum TLSMode: String, Sendable, Hashable {
        case disable, prefer, require
    }

    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String
    public var tls: TLSMode

    public init(host: String, port: Int, username: String, password: String?, database: String, tls: TLSMode) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.tls = tls
    }

    /// Parses `postgres://user:password@host:port/database?sslmode=disable|prefer|require`.
    public init(url text: String) throws(TenantScopeError) {
        guard let components = URLComponents(string: text),
              components.scheme == "postgres" || components.scheme == "postgresql",
              let host = components.host, !host.isEmpty,
              let user = components.user, !user.isEmpty
        else {
            throw .invalidInput("database URL must look like postgresql://user:password@host:5432/database")
        }
        let database = String(components.path.drop(while: { $0 == "/" }))
        let mode = components.queryItems?.first(where: { $0.name == "sslmode" })?.value ?? "prefer"
        guard let tls = TLSMode(rawValue: mode == "allow" ? "prefer" : mode) else {
            throw .invalidInput("sslmode must be disable, prefer or require")
        }
        self.init(
            host: host, port: components.port ?? 5432,
            username: components.percentEncodedUser?.removingPercentEncoding ?? user,
            password: components.percentEncodedPassword?.removingPercentEncoding,
            database: database.isEmpty ? user : database, tls: tls
        )
    }

    /// The same endpoint as another user (the server's runtime login role).
    public func with(username: String, password: String?) -> Self {
        var copy = self
        copy.username = username
        copy.password = password
        return copy
    }

    /// A URL `psql` accepts.
    public var url: String {
        var components = URLComponents()
        components.scheme = "postgresql"
        components.user = username
        components.password = password
        components.host = host
        components.port = port
        components.path = "/" + database
        components.queryItems = [URLQueryItem(name: "sslmode", value: tls.rawValue)]
        return components.string ?? "postgresql://\(username)@\(host):\(port)/\(database)"
    }

    /// The URL with the password masked, for logs and progress output.
    public var redactedURL: String {
        with(username: username, password: password == nil ? nil : "***").url
    }

    public func clientConfiguration(maximumConnections: Int = 20) -> PostgresClient.Configuration {
        let tlsConfiguration: PostgresClient.Configuration.TLS = switch tls {
        case .disable: .disable
        case .prefer: .prefer(.makeClientConfiguration())
        case .require: .require(.makeClientConfiguration())
        }
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: tlsConfiguration
        )
        configuration.options.maximumConnections = maximumConnections
        configuration.options.connectTimeout = .seconds(10)
        return configuration
    }

    func connectionConfiguration() -> PostgresConnection.Configuration {
        let tlsConfiguration: PostgresConnection.Configuration.TLS = switch tls {
        case .disable: .disable
        case .prefer: .prefer(try! .init(configuration: .makeClientConfiguration()))
        case .require: .require(try! .init(configuration: .makeClientConfiguration()))
        }
        return PostgresConnection.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: tlsConfiguration
        )
    }
}
