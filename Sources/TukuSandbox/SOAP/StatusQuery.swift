import TukuIRD

/// What the sandbox read from an EI `retrieveEIRequest` (RetrieveStatus and RetrieveReturn).
public struct StatusQuery: Sendable, Hashable {
    /// The employer's identifier as sent.
    public var employer: String
    /// The filing period's end date.
    public var periodEndDate: CalendarDate
    /// The payday, when given.
    public var payDayDate: CalendarDate?
    /// The submission key, when given.
    public var submissionKey: Int64?
}
