/// Errors of the token store and cipher. Never carries a token or key material.
public struct TokenError: Error, Sendable, CustomStringConvertible {
    /// What went wrong.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private let name: String
        /// The encryption key is missing or malformed.
        public static let invalidKey = Code(name: "invalid_key")
        public static let sealFailed = Code(name: "seal_failed")
        /// A stored token does not open with the configured key.
        public static let openFailed = Code(name: "open_failed")
        /// No usable token set is registered for the tenant.
        public static let noToken = Code(name: "no_token")
        /// The token set cannot be refreshed (no refresh token, or the gateway refused it): a person must
        /// authorise again and load a new set with `tuku tokens load`.
        public static let needsAuthorisation = Code(name: "needs_authorisation")
        /// The refresh call failed in a way that may pass (network, 5xx); try again later.
        public static let refreshFailed = Code(name: "refresh_failed")
        public var description: String { self.name }
    }

    public var code: Code
    /// Safe to show: names tenants and token sets, never tokens.
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(self.code): \(self.message)" }
}
