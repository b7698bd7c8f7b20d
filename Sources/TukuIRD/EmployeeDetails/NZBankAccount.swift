/// A New Zealand bank account (`cmn:NZBankStandardType`), for a KiwiSaver opt-out refund.
///
/// IRD's schema wants a 2-digit bank, 4-digit branch, 8-digit account and 4-digit suffix. Account numbers of 7
/// digits and suffixes of 2–3 digits (as printed on NZ statements) are accepted and zero-padded on the wire.
public struct NZBankAccount: Codable, Sendable, Hashable {
    /// Bank, 2 digits. Required.
    public var bank: String?
    /// Branch, 4 digits. Required.
    public var branch: String?
    /// Account base number, 7–8 digits. Required.
    public var account: String?
    /// Suffix, 2–4 digits. Required.
    public var suffix: String?

    /// Creates an account.
    public init(bank: String?, branch: String?, account: String?, suffix: String?) {
        self.bank = bank
        self.branch = branch
        self.account = account
        self.suffix = suffix
    }

    /// The account base number zero-padded to the schema's 8 digits.
    public var wireAccount: String? { account.map { Self.pad($0, to: 8) } }
    /// The suffix zero-padded to the schema's 4 digits.
    public var wireSuffix: String? { suffix.map { Self.pad($0, to: 4) } }

    private static func pad(_ text: String, to width: Int) -> String {
        String(repeating: "0", count: max(0, width - text.count)) + text
    }

    func validate(at path: String) -> [ValidationProblem] {
        var problems = ProblemCollector()
        problems.digits(bank, join(path, "bank"), required: true, length: 2...2)
        problems.digits(branch, join(path, "branch"), required: true, length: 4...4)
        problems.digits(account, join(path, "account"), required: true, length: 7...8)
        problems.digits(suffix, join(path, "suffix"), required: true, length: 2...4)
        return problems.problems
    }
}
