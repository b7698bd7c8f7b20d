/// What the ``FilingRegistry`` did with a File call.
public enum FileDecision: Sendable, Hashable {
    /// The return was stored. `duplicate` is `accepted-again` when the employer already had a return for the payday.
    case stored(submissionKey: Int64, gatewayId: String, duplicate: String?)
    /// The return was refused with an IRD status code. `duplicate` says which duplicate rule refused it, if any.
    case refused(code: Int, message: String, duplicate: String?)
}
