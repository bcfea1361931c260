import Foundation

public struct CourseReference: Hashable, Sendable {
    public var iri: String
    public var title: String?
}
