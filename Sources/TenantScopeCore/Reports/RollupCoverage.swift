/// How far back the roll-up service looks for writes that raced its watermark, shared by the service and the
/// callers that run a catch-up themselves.
///
/// The roll-up service records a tenant's newest `stored` as its watermark after each catch-up. Catch-ups take
/// what ingest queued (decisions 32 and 54), but a batch's `stored` is its request time and its transaction can
/// commit after the watermark moved past it (each statement of a batch times out after 120 seconds). A voiding
/// statement that raced its target is therefore looked for among the statements stored after the watermark minus
/// `overlap` (decision 58). Served reports no longer read that tail: what the roll-ups lack is what is queued
/// (decision 73).
public enum RollupCoverage {
    /// A PostgreSQL interval literal.
    public static let overlap = "10 minutes"
}
