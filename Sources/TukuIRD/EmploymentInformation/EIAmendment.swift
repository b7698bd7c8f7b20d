/// How an EI return amends one already filed (`rc:amendmentRequest` plus EI's `submissionKey`/`isReverseReplace`).
public struct EIAmendment: Codable, Sendable, Hashable {
    /// The `submissionKey` IRD returned for the return being amended. Required, 0…2,147,483,647.
    public var submissionKey: Int64?
    /// Why the return is amended. Required.
    public var amendReason: Field<AmendReason>
    /// Further detail, up to 1,000 characters. Optional.
    public var amendDetails: String?
    /// `true` for the reverse/replace method (send every line), `false`/absent for the referenceId method.
    public var isReverseReplace: Bool?

    /// Creates an amendment.
    public init(
        submissionKey: Int64?, amendReason: Field<AmendReason>, amendDetails: String? = nil,
        isReverseReplace: Bool? = nil
    ) {
        self.submissionKey = submissionKey
        self.amendReason = amendReason
        self.amendDetails = amendDetails
        self.isReverseReplace = isReverseReplace
    }
}
