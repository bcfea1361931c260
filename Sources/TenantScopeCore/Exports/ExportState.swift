/// Where an export job is in its life. `done` jobs become `expired` when their object's retention ends;
/// `revoked` ones were withdrawn by a tenant admin (their object is removed at once).
public enum ExportState: String, Sendable, Hashable, CaseIterable, Codable {
    case queued, running, done, failed, expired, revoked
}
