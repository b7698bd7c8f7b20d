/// An IRD number that passed Inland Revenue's range and modulus-11 check, or the all-zeros "unknown" number.
///
/// Parsing accepts 8 or 9 digits written either without separators (`49091850`, `049091850`) or grouped the way
/// IRD prints them, in three groups of 2 or 3, then 3 and 3 digits joined by one dash or one space each, the same
/// separator both times (`49-091-850`, `049-091-850`, `049 091 850`). Anything else is refused, however many
/// digits it holds: `-49091850` or `49--091--850` is not a way IRD writes a number, and reading it as 049091850
/// would let two different strings name one employer.
/// The check follows IRD's published algorithm ("IR Number Validation Modulus 11 Digit Check"):
/// 1. the number must lie in 10,000,000 … 150,000,000;
/// 2. drop the check digit and left-pad the base to 8 digits;
/// 3. weight the digits 3,2,7,6,5,4,3,2, sum, take the remainder mod 11; the expected check digit is 0 when the
///    remainder is 0, else 11 − remainder;
/// 4. if that gives 10, redo with the secondary weights 7,4,3,2,5,2,7,6; if it gives 10 again the number is invalid;
/// 5. the number is valid when the expected check digit equals the supplied one.
///
/// The all-zeros number (`000000000`) is not a valid IRD number but IRD accepts it where the employee's number is
/// unknown (an EI line's `irdNumber`, the Employment service's `employeeIRD`). It parses to ``unknown``; callers
/// decide per field whether `isUnknown` is acceptable.
public struct IRDNumber: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The number as an integer; 0 for ``unknown``.
    public let value: Int

    /// The all-zeros number IRD accepts where an employee's IRD number is not known.
    public static let unknown = IRDNumber(checkedValue: 0)

    /// The lowest number in IRD's valid range.
    public static let minimumValue = 10_000_000
    /// The highest number in IRD's valid range.
    public static let maximumValue = 150_000_000

    private init(checkedValue: Int) {
        self.value = checkedValue
    }

    /// Parses and checks `text`. Throws ``PayloadError`` with code `.invalidIRDNumber` and a reason in words.
    public init(_ text: String) throws(PayloadError) {
        let digits = try Self.digits(of: text)
        let value = digits.reduce(0) { $0 * 10 + Int($1) }
        if value == 0 {
            self = .unknown
            return
        }
        guard value >= Self.minimumValue, value <= Self.maximumValue else {
            throw PayloadError(code: .invalidIRDNumber, reason: "is outside IRD's range 10,000,000 to 150,000,000")
        }
        guard Self.passesCheckDigit(value) else {
            throw PayloadError(code: .invalidIRDNumber, reason: "fails IRD's modulus-11 check digit")
        }
        self.value = value
    }

    /// The digits of `text` when it is written in one of the accepted forms (see the type's documentation).
    private static func digits(of text: String) throws(PayloadError) -> [UInt8] {
        let scalars = Array(text.unicodeScalars)
        func digit(_ scalar: Unicode.Scalar) -> UInt8? {
            ("0"..."9").contains(scalar) ? UInt8(scalar.value - 48) : nil
        }
        let allowed = scalars.allSatisfy { digit($0) != nil || $0 == "-" || $0 == " " }
        guard allowed else {
            throw PayloadError(code: .invalidIRDNumber, reason: "must contain only digits, dashes and spaces")
        }
        let separators = scalars.filter { $0 == "-" || $0 == " " }
        if separators.isEmpty {
            guard scalars.count == 8 || scalars.count == 9 else {
                throw PayloadError(code: .invalidIRDNumber, reason: "must have 8 or 9 digits, found \(scalars.count)")
            }
            return scalars.compactMap(digit)
        }
        // Grouped: 2 or 3 digits, separator, 3 digits, the same separator, 3 digits.
        let groups = scalars.split(separator: separators[0], omittingEmptySubsequences: false)
        guard separators.count == 2, separators[1] == separators[0], groups.count == 3,
              groups[0].count == 2 || groups[0].count == 3, groups[1].count == 3, groups[2].count == 3,
              groups.allSatisfy({ $0.allSatisfy { digit($0) != nil } })
        else {
            throw PayloadError(
                code: .invalidIRDNumber,
                reason: "must be 8 or 9 digits written without separators (049091850) or in IRD's groups of 3 "
                    + "joined by one dash or space (049-091-850, 49-091-850, 049 091 850)")
        }
        return scalars.compactMap(digit)
    }

    /// Whether `value` passes IRD's modulus-11 check (steps 2–5; the range is not checked here).
    public static func passesCheckDigit(_ value: Int) -> Bool {
        guard value >= 0, value <= 999_999_999 else { return false }
        let supplied = value % 10
        var base = value / 10
        var digits = [Int](repeating: 0, count: 8)
        for index in stride(from: 7, through: 0, by: -1) {
            digits[index] = base % 10
            base /= 10
        }
        func expectedCheckDigit(_ weights: [Int]) -> Int {
            let sum = zip(digits, weights).reduce(0) { $0 + $1.0 * $1.1 }
            let remainder = sum % 11
            return remainder == 0 ? 0 : 11 - remainder
        }
        var expected = expectedCheckDigit([3, 2, 7, 6, 5, 4, 3, 2])
        if expected == 10 {
            expected = expectedCheckDigit([7, 4, 3, 2, 5, 2, 7, 6])
            if expected == 10 { return false }
        }
        return expected == supplied
    }

    /// Whether this is the all-zeros "unknown" number.
    public var isUnknown: Bool { value == 0 }

    /// The 9-digit, zero-padded form IRD requires on the wire, e.g. `049091850`.
    public var wireForm: String {
        let text = String(value)
        return String(repeating: "0", count: max(0, 9 - text.count)) + text
    }

    /// The usual display form, e.g. `049-091-850`.
    public var description: String {
        let wire = Array(wireForm)
        return String(wire[0..<3]) + "-" + String(wire[3..<6]) + "-" + String(wire[6..<9])
    }

    /// Orders by numeric value.
    public static func < (lhs: IRDNumber, rhs: IRDNumber) -> Bool { lhs.value < rhs.value }
}

extension IRDNumber: FieldValue {
    /// Parses like ``init(_:)``.
    public init(fieldText: String) throws(PayloadError) { try self.init(fieldText) }
    /// The wire form.
    public var fieldText: String { wireForm }
    /// JSON numbers are refused: an IRD number is a string (`"049091850"`), and a number loses leading zeros.
    public static var acceptsJSONNumbers: Bool { false }
}
