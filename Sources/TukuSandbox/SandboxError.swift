/// Why the sandbox cannot start or run: a ``Code`` and a message that is safe to show anyone.
///
/// Messages name files and settings, never file contents, secrets or tokens.
public struct SandboxError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// What went wrong.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// A setting is missing, malformed or out of range.
        public static let invalidConfiguration = Code("invalid_configuration")
        /// A certificate, key or CA file cannot be read or used.
        public static let invalidCertificate = Code("invalid_certificate")
        /// A listener could not be bound.
        public static let bindFailed = Code("bind_failed")
        /// The arrivals log cannot be opened or written.
        public static let arrivalsLogFailed = Code("arrivals_log_failed")

        /// The code's name, e.g. `invalid_configuration`.
        public var description: String { name }
    }

    /// What went wrong.
    public var code: Code
    /// A message safe to show anyone.
    public var message: String
    /// The underlying error, if any (shown only in `debugDescription`).
    public var underlying: (any Error)?

    /// Creates an error.
    public init(_ code: Code, _ message: String, underlying: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    /// `code: message`.
    public var description: String { "\(code): \(message)" }

    /// The description and the underlying error.
    public var debugDescription: String {
        underlying.map { "\(description) (\(String(reflecting: $0)))" } ?? description
    }
}
