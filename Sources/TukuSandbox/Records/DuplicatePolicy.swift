/// What the sandbox does with a second, different original return for an employer and payday it already holds.
///
/// IRD's EI build pack lists code 107 "Duplicate return" for this, while IRD's web pages say several EI returns per
/// payday are allowed; the sandbox supports both readings. An identical payload within the hour is always refused
/// with code 160.
public enum DuplicatePolicy: String, Sendable, Hashable, CaseIterable {
    /// Refuse it with code 107 "Duplicate return". The default.
    case reject
    /// Store it and count it as a duplicate filing (so that a benchmark can count double filings).
    case accept
}
