import TukuGateway

/// What the ``FilingRegistry`` answers to a RetrieveStatus query.
public enum StatusAnswer: Sendable, Hashable {
    /// The statuses of the returns found (or an `EXP` status, with ``NoReturnAnswer/expected``).
    case statuses([ReturnStatus])
    /// No return: status 103 "No return found".
    case noReturnFound
}
