/// What the demo tenants look like: three organizations of different size and product adoption.
public struct DemoTenantProfile: Sendable, Hashable {
    public var slug: String
    public var name: String
    public var tier: String
    public var region: String
    public var learnerCount: Int
    public var courseCount: Int
    /// How many events per day each adopted product feature sees (features absent here are not used).
    public var featureDailyRates: [String: Double]
    /// Learner regions, for `user_attributes` row filters.
    public var learnerRegions: [String]

    public static let all: [DemoTenantProfile] = [
        DemoTenantProfile(
            slug: "acme", name: "Acme Learning Co.", tier: "enterprise", region: "eu-west",
            learnerCount: 320, courseCount: 6,
            featureDailyRates: [
                "dashboards": 14, "scheduled_exports": 3, "saved_views": 5, "shared_links": 2,
                "xapi_ingest": 20, "sso_login": 25, "course_builder": 4,
            ],
            learnerRegions: ["EU", "EU", "UK"]
        ),
        DemoTenantProfile(
            slug: "globex", name: "Globex University", tier: "standard", region: "us-east",
            learnerCount: 220, courseCount: 5,
            featureDailyRates: ["dashboards": 8, "saved_views": 1.5, "xapi_ingest": 12, "ai_assistant": 6, "course_builder": 2],
            learnerRegions: ["NA", "NA", "LATAM"]
        ),
        DemoTenantProfile(
            slug: "initech", name: "Initech Training", tier: "free", region: "us-west",
            learnerCount: 140, courseCount: 4,
            featureDailyRates: ["dashboards": 3, "xapi_ingest": 5, "sso_login": 0.6],
            learnerRegions: ["NA", "APAC"]
        ),
    ]

    /// Every feature key the demo knows, adopted or not.
    public static let featureKeys = [
        "ai_assistant", "course_builder", "dashboards", "saved_views", "scheduled_exports",
        "shared_links", "sso_login", "xapi_ingest",
    ]
}
