/// What the roll-ups are guaranteed to cover, shared by the service that keeps them and the reports that
/// read them.
///
/// The roll-up service records a tenant's newest `stored` as its watermark after each catch-up, and the
/// next catch-up re-examines statements stored up to `overlap` before it: a batch's `stored` is its
/// request time, and its transaction can commit after a later batch was seen (each statement of a batch
/// times out after 120 seconds). So every statement stored more than `overlap` before the watermark is in
/// the roll-ups as of the last catch-up, and served SQL reads raw only what was stored after that.
public enum RollupCoverage {
    /// A PostgreSQL interval literal.
    public static let overlap = "10 minutes"
}
