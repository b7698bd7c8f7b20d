/// What the ``FilingRegistry`` answers to a RetrieveReturn query.
public enum RetrieveAnswer: Sendable, Hashable {
    /// The returns found, every field as filed (at most 100, the XSD's limit on `responseBody`).
    case returns([FilingRegistry.StoredReturn])
    /// No return: status 103 "No return found" (``NoReturnAnswer/noReturnFound``).
    case noReturnFound
    /// No return, but an expected one (``NoReturnAnswer/expected``): status 0 and no `responseBody`, as the
    /// expectation behind RetrieveStatus's `EXP` holds no filed fields.
    case expectedWithoutReturn
}
