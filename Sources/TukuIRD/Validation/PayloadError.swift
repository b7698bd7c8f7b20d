/// The error thrown by this module: a value or a whole payload is not acceptable to IRD.
///
/// `description` is safe to show anyone (it never contains the payload itself).
public struct PayloadError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What kind of problem this is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case invalidIRDNumber
            case invalidAmount
            case invalidDate
            case invalidCode
            case invalidJSON
            case unknownJobKind
            case validationFailed
        }

        private let base: Base

        /// Text that is not an acceptable IRD number.
        public static let invalidIRDNumber = Code(base: .invalidIRDNumber)
        /// Text that is not an exact two-decimal amount within IRD's money range.
        public static let invalidAmount = Code(base: .invalidAmount)
        /// Text that is not an ISO `yyyy-MM-dd` date within IRD's date range.
        public static let invalidDate = Code(base: .invalidDate)
        /// Text that is not one of IRD's codes for the field (tax code, pay frequency, …).
        public static let invalidCode = Code(base: .invalidCode)
        /// The payload is not JSON of the expected shape.
        public static let invalidJSON = Code(base: .invalidJSON)
        /// The job kind is not one of the IRD kinds.
        public static let unknownJobKind = Code(base: .unknownJobKind)
        /// The payload decoded but has validation problems (see `PayloadError.problems`).
        public static let validationFailed = Code(base: .validationFailed)

        /// The code's name.
        public var description: String { base.rawValue }
    }

    /// What kind of problem this is.
    public var code: Code
    /// Why, in words.
    public var reason: String
    /// Every validation problem, for `.validationFailed` (and `.invalidJSON`, located where possible).
    public var problems: [ValidationProblem]

    /// Creates an error.
    public init(code: Code, reason: String, problems: [ValidationProblem] = []) {
        self.code = code
        self.reason = reason
        self.problems = problems
    }

    /// The code, the reason and the problems.
    public var description: String {
        if problems.isEmpty { return "\(code): \(reason)" }
        return "\(code): \(reason): " + problems.map(\.description).joined(separator: "; ")
    }
}
