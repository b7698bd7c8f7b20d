import TukuIRD

/// What the sandbox read from an EI `fileRequest`, after the checks a single request allows.
public struct FileRequest: Sendable, Hashable {
    /// The employer's identifier as sent (9 digits for `IRD`/`ACCIRD`).
    public var employer: String
    /// The filing period's end date.
    public var periodEndDate: CalendarDate
    /// The payday.
    public var payDayDate: CalendarDate
    /// Whether this is an amendment (`isAmended`).
    public var isAmended: Bool
    /// The submission key of the return being amended.
    public var submissionKey: Int64?
    /// SHA-256 of the payload element (hex): equal hashes mean an identical payload (code 160).
    public var payloadHash: String
    /// How many employee lines the return has.
    public var lineCount: Int
    /// `standardFields/isNilReturn` as filed, when present.
    public var isNilReturn: Bool?
    /// The children of `formFields` as filed, re-serialised with the prefix `r` for the ReturnEI namespace and without
    /// `submissionKey` (RetrieveReturn answers the key of the stored return there).
    public var formFieldsXML: String
}
