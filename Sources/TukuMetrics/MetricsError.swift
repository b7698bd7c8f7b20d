/// Why the metrics server cannot run: a ``Code`` and a message that is safe to show anyone.
public struct MetricsError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// What went wrong.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// A setting is out of range (for example a port above 65535).
        public static let invalidConfiguration = Code("invalid_configuration")
        /// The listener could not be bound (the port is taken, the host is not an address of this machine, …).
        public static let bindFailed = Code("bind_failed")

        /// The code's name, e.g. `bind_failed`.
        public var description: String { self.name }
    }

    /// What went wrong.
    public var code: Code
    /// A message safe to show anyone: the address and the operating system's reason, never anything else.
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
    public var description: String { "\(self.code): \(self.message)" }

    /// The description and the underlying error.
    public var debugDescription: String {
        self.underlying.map { "\(self.description) (\(String(reflecting: $0)))" } ?? self.description
    }
}
