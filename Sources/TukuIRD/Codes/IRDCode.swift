/// A closed list of codes IRD accepts for a field (tax codes, pay frequencies, …), parsed exactly as IRD spells them.
public protocol IRDCode: FieldValue, CaseIterable, RawRepresentable where RawValue == String {}

extension IRDCode {
    /// Parses a code exactly as IRD spells it (case-sensitive, no surrounding space).
    public init(fieldText: String) throws(PayloadError) {
        guard let code = Self(rawValue: fieldText) else {
            let accepted = Self.allCases.map(\.rawValue).joined(separator: ", ")
            throw PayloadError(code: .invalidCode, reason: "must be one of \(accepted)")
        }
        self = code
    }

    /// The code as IRD spells it.
    public var fieldText: String { rawValue }
}
