import Foundation

/// Where exports go and how they run; `serve` builds it from `--export-store` and the state directory.
public struct ExportConfiguration: Sendable {
    public var store: any ExportObjectStore
    /// Where attempts write their partial files before handing them to the store (on the same file system
    /// as a file store's root, so handing over is a rename).
    public var partialDirectory: URL
    public var settings: ExportSettings
    /// Whether this process runs the export worker (tests that drive it by hand turn it off).
    public var runsWorker: Bool
    /// The clock download links are signed and checked with (tests move it).
    public var now: @Sendable () -> Date

    public init(store: any ExportObjectStore, partialDirectory: URL, settings: ExportSettings = ExportSettings(), runsWorker: Bool = true,
                now: @escaping @Sendable () -> Date = Date.init) {
        self.store = store
        self.partialDirectory = partialDirectory
        self.settings = settings
        self.runsWorker = runsWorker
        self.now = now
    }

    /// The embedded default: files under `<state directory>/exports`, partial files in its `.partial`.
    public static func files(stateDirectory: String, settings: ExportSettings = ExportSettings()) throws -> ExportConfiguration {
        let root = URL(fileURLWithPath: stateDirectory).appendingPathComponent("exports")
        return ExportConfiguration(store: try FileExportStore(root: root), partialDirectory: root.appendingPathComponent(".partial"),
                                   settings: settings)
    }
}
