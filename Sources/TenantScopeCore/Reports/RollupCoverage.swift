/// What the roll-ups are guaranteed to cover, shared by the service that keeps them and the reports that
/// read them.
///
/// The roll-up service records a tenant's newest `stored` as its watermark after each catch-up. Catch-ups
/// take what ingest queued (decisions 32 and 54), but a batch's `stored` is its request time and its
/// transaction can commit after the watermark moved past it (each statement of a batch times out after
/// 120 seconds). So served SQL that adds today's raw statements to the roll-ups reads those stored after
/// the watermark minus `overlap`: everything stored earlier is in the roll-ups as of the last catch-up.
public enum RollupCoverage {
    /// A PostgreSQL interval literal.
    public static let overlap = "10 minutes"
}
