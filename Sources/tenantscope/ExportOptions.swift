import ArgumentParser
import Foundation
import TenantScopeServer

/// Where export files go, for `serve` and the commands that read or remove them.
struct ExportOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Where finished exports are kept: files under the state directory (the default), or an S3-compatible bucket as s3://bucket/prefix (endpoint and credentials from AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION).",
        valueName: "location"))
    var exportStore: String?

    /// The store and its partial-file directory (always under the state directory, on local disk).
    func configuration(stateDirectory: String, settings: ExportSettings = ExportSettings()) throws -> ExportConfiguration {
        var configuration = try ExportConfiguration.files(stateDirectory: stateDirectory, settings: settings)
        if let exportStore {
            configuration.store = try ExportStoreFactory.store(exportStore, environment: ProcessInfo.processInfo.environment)
        }
        return configuration
    }
}
