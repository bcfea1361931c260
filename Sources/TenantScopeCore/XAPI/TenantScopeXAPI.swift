import Foundation

/// IRIs TenantScope reads from statements.
public enum TenantScopeXAPI {
    public static let courseActivityType = "http://adlnet.gov/expapi/activities/course"
    public static let completedVerb = "http://adlnet.gov/expapi/verbs/completed"
    public static let passedVerb = "http://adlnet.gov/expapi/verbs/passed"
    public static let registeredVerb = "http://adlnet.gov/expapi/verbs/registered"
    public static let voidedVerb = "http://adlnet.gov/expapi/verbs/voided"
    public static let cohortExtension = "https://tenantscope.dev/xapi/extensions/cohort"
    public static let regionExtension = "https://tenantscope.dev/xapi/extensions/learner-region"
}
