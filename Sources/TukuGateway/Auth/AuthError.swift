/// The error type of the gateway's authentication pieces (the M2M JWT signer): a code plus safe context.
///
/// `description` is safe to show anyone: it names files and problems, never key material or tokens. The underlying
/// error goes to `debugDescription` only.
public struct AuthError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// What went wrong.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case invalidSigningKey = "invalid_signing_key"
            case invalidSigningCertificate = "invalid_signing_certificate"
            case keyDoesNotMatchCertificate = "key_does_not_match_certificate"
            case unsupportedKeyType = "unsupported_key_type"
            case certificateNotYetValid = "certificate_not_yet_valid"
            case certificateExpired = "certificate_expired"
            case invalidConfiguration = "invalid_configuration"
            case signingFailed = "signing_failed"
        }
        private let base: Base

        /// The signing key file is missing, unreadable, encrypted, or not a PEM private key.
        public static let invalidSigningKey = Code(base: .invalidSigningKey)
        /// The signing certificate file is missing, unreadable, or not a PEM X.509 certificate.
        public static let invalidSigningCertificate = Code(base: .invalidSigningCertificate)
        /// The private key is not the one whose public key the certificate carries; IRD would reject every token.
        public static let keyDoesNotMatchCertificate = Code(base: .keyDoesNotMatchCertificate)
        /// The key is neither RSA (2048 bits or more) nor ECDSA on P-256, P-384 or P-521, the algorithms IRD accepts.
        public static let unsupportedKeyType = Code(base: .unsupportedKeyType)
        /// The token would be issued before the certificate's start date, which IRD forbids.
        public static let certificateNotYetValid = Code(base: .certificateNotYetValid)
        /// The signing certificate has expired.
        public static let certificateExpired = Code(base: .certificateExpired)
        /// An issuer, lifetime or refresh margin is out of range.
        public static let invalidConfiguration = Code(base: .invalidConfiguration)
        /// The signature could not be computed.
        public static let signingFailed = Code(base: .signingFailed)

        /// The code as a stable snake_case string, for logs and metrics.
        public var description: String { self.base.rawValue }
    }

    /// What went wrong.
    public var code: Code
    /// A sentence for the operator; never contains key material or tokens.
    public var message: String
    /// The error reported by the layer below, for `debugDescription`.
    public var underlying: (any Error)?

    /// Creates an error.
    public init(_ code: Code, _ message: String, underlying: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    /// `code: message`; safe to log and show.
    public var description: String { "\(self.code): \(self.message)" }

    /// The description plus the underlying error, for operators.
    public var debugDescription: String {
        "\(self.description) (underlying: \(self.underlying.map { String(reflecting: $0) } ?? "none"))"
    }
}
