/// What a run learned about whether a request of the job may have reached the gateway without an answer.
///
/// Stored on the job as `tuku.jobs.unsettled_since` (see `docs/job-states.md`): a run that sent a request whose
/// fate it could not learn reports ``unsettled``; a run that learned the fate (a status query answered, or an
/// answer that settles the request itself: accepted, or definitely rejected) reports ``settled``; any other run
/// leaves the fact as it was. Throttles, released leases, rescues, retries and other errors never clear it.
public enum GatewaySettlement: String, Sendable, Hashable, CaseIterable {
    /// The run learned nothing either way: the job keeps what it had.
    case unchanged
    /// A request may have reached the gateway unanswered: settle it before sending anything again.
    case unsettled
    /// Whatever earlier requests did is now known: nothing is left to settle.
    case settled
}
