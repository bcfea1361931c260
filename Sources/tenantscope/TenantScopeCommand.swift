import ArgumentParser
import Foundation
import Logging

@main
struct TenantScopeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tenantscope",
        abstract: "Multi-tenant learning analytics: an xAPI LRS with tenant dashboards and platform analytics on PostgreSQL.",
        subcommands: [ServeCommand.self, MigrateCommand.self, TenantCommand.self, ClusterCommand.self, TierCommand.self, LRSKeyCommand.self, RollupsCommand.self, ReportCommand.self, ExportCommand.self, TokenCommand.self, SessionCommand.self, AuditCommand.self, DBCommand.self, VerifyIsolationCommand.self]
    )

    static func bootstrapLogging() {
        let level = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}

/// Human progress lines go to standard error, so standard output stays clean for results (`db url`).
@Sendable func progress(_ line: String) {
    FileHandle.standardError.write(Data(("• " + line + "\n").utf8))
}
