import Foundation

/// One use of a product feature by someone in a tenant, as sent by the platform's backend.
public struct FeatureEvent: Hashable, Sendable {
    public var id: UUID
    public var featureKey: String
    public var actor: String
    public var occurredAt: Date

    public init(id: UUID, featureKey: String, actor: String, occurredAt: Date) {
        self.id = id
        self.featureKey = featureKey
        self.actor = actor
        self.occurredAt = occurredAt
    }
}
