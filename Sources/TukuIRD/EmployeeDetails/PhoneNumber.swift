/// A structured phone number (`cmn:StructuredPhoneNumberType`, ITU-T E.164 parts).
public struct PhoneNumber: Codable, Sendable, Hashable {
    /// `CELL`, `BSN` or `HOM` per IRD's documentation; 1–15 characters. Required.
    public var phoneType: String?
    /// Three-digit country code, e.g. `064`. Required.
    public var country: String?
    /// Area or network code, 0–5 digits. Required (may be empty).
    public var areaCode: String?
    /// Local number, 1–15 digits. Required.
    public var number: String?
    /// Extension, 1–9 digits. Optional.
    public var `extension`: String?

    /// Creates a phone number.
    public init(phoneType: String?, country: String?, areaCode: String?, number: String?, extension: String? = nil) {
        self.phoneType = phoneType
        self.country = country
        self.areaCode = areaCode
        self.number = number
        self.extension = `extension`
    }

    func validate(at path: String) -> [ValidationProblem] {
        var problems = ProblemCollector()
        problems.text(phoneType, join(path, "phoneType"), required: true, length: 1...15)
        problems.digits(country, join(path, "country"), required: true, length: 3...3)
        problems.digits(areaCode, join(path, "areaCode"), required: true, length: 0...5)
        problems.digits(number, join(path, "number"), required: true, length: 1...15)
        problems.digits(`extension`, join(path, "extension"), required: false, length: 1...9)
        return problems.problems
    }
}
