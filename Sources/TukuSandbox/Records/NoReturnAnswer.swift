/// What RetrieveStatus and RetrieveReturn answer for an employer, period and payday (or submission key) with no return.
public enum NoReturnAnswer: String, Sendable, Hashable, CaseIterable {
    /// Status 103 "No return found" and no response body: what IRD's EI build pack (§5.2) defines. The default.
    case noReturnFound = "103"
    /// Status 0 with one `EXP` (Expected) return status without a submission key: IRD's answer where it holds a
    /// return expectation (the build pack's "Expected" status), which the sandbox does not model. For testing a
    /// client's handling of that answer. RetrieveReturn answers status 0 with no return body: an expectation holds
    /// no filed fields.
    case expected = "expected"
}
