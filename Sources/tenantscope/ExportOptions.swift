import ArgumentParser
import Foundation
import Logging
import TenantScopeServer

/// Where export files go, for `serve` and the commands that read or remove them.
struct ExportOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Where finished exports are kept: files under the state directory (the default), or an S3-compatible bucket as s3://bucket/prefix (endpoint and credentials from AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION).",
        valueName: "location"))
    var exportStore: String?

    /// The store and its partial-file directory (always under the state directory, on local disk).
    func configuration(stateDirectory: String, settings: ExportSettings = ExportSettings(),
                       logger: Logger = Logger(label: "tenantscope")) throws -> ExportConfiguration {
        var configuration = try ExportConfiguration.files(stateDirectory: stateDirectory, settings: settings)
        if let exportStore {
            configuration.store = try ExportStoreFactory.store(exportStore, environment: ProcessInfo.processInfo.environment, logger: logger)
        }
        return configuration
    }

    /// Runs `body` with the store, closing it afterwards (an S3 store holds an HTTP client).
    func withStore<Result>(stateDirectory: String, logger: Logger, _ body: (any ExportObjectStore) async throws -> Result) async throws -> Result {
        let store = try configuration(stateDirectory: stateDirectory, logger: logger).store
        do {
            let result = try await body(store)
            await ExportStoreFactory.shutdown(store)
            return result
        } catch {
            await ExportStoreFactory.shutdown(store)
            throw error
        }
    }
}
