import TukuIRD

/// The error thrown by the gateway module: a payload that cannot be sent, or a reply that cannot be read.
///
/// `description` is safe to show anyone; `debugDescription` adds a short, bounded excerpt of the reply for
/// diagnosis (never the request, which carries personal data).
public struct GatewayError: Error, Hashable, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// What went wrong.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case invalidPayload
            case emptyResponse
            case nonXMLResponse
            case htmlResponse
            case notSOAPEnvelope
            case unexpectedResponse
        }

        private let base: Base

        /// The payload has validation problems, so no envelope was built (see `GatewayError.problems`).
        public static let invalidPayload = Code(base: .invalidPayload)
        /// The reply body was empty or only whitespace.
        public static let emptyResponse = Code(base: .emptyResponse)
        /// The reply body is not well-formed XML (IRD's "parsing exception" replies have no status code).
        public static let nonXMLResponse = Code(base: .nonXMLResponse)
        /// The reply is an HTML page (a proxy, load balancer or maintenance page).
        public static let htmlResponse = Code(base: .htmlResponse)
        /// The reply is XML but not a SOAP 1.2 envelope with a body.
        public static let notSOAPEnvelope = Code(base: .notSOAPEnvelope)
        /// The SOAP body holds neither a fault nor an IRD response with a readable `statusMessage`.
        public static let unexpectedResponse = Code(base: .unexpectedResponse)

        /// The code's name.
        public var description: String { base.rawValue }
    }

    /// What went wrong.
    public var code: Code
    /// Why, in words safe to show anyone.
    public var reason: String
    /// The validation problems, for `.invalidPayload`.
    public var problems: [ValidationProblem]
    /// The start of the reply body, at most 200 characters, for `debugDescription`.
    public var excerpt: String?

    /// Creates an error.
    public init(code: Code, reason: String, problems: [ValidationProblem] = [], excerpt: String? = nil) {
        self.code = code
        self.reason = reason
        self.problems = problems
        self.excerpt = excerpt
    }

    /// The code and reason.
    public var description: String { "\(code): \(reason)" }

    /// The code, reason, problems and reply excerpt.
    public var debugDescription: String {
        var text = description
        if !problems.isEmpty { text += " [" + problems.map(\.description).joined(separator: "; ") + "]" }
        if let excerpt { text += " excerpt: \(excerpt)" }
        return text
    }
}
