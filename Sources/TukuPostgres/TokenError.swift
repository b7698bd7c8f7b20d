/// Errors of the token store and cipher. Never carries a token or key material.
public struct TokenError: Error, Sendable, CustomStringConvertible {
    /// What went wrong.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private let name: String
        /// The encryption key is missing or malformed.
        public static let invalidKey = Code(name: "invalid_key")
        public static let sealFailed = Code(name: "seal_failed")
        /// A stored token does not open for its row: another row's or column's value, the wrong key, or tampering.
        public static let openFailed = Code(name: "open_failed")
        /// A stored token was sealed with a key this process does not have (see `TUKU_TOKEN_OLD_KEY_FILES`).
        public static let unknownKey = Code(name: "unknown_key")
        /// No usable token set is registered for the tenant.
        public static let noToken = Code(name: "no_token")
        /// The token set cannot be refreshed (no refresh token, or the gateway refused it): a person must
        /// authorise again and load a new set with `tuku tokens load`.
        public static let needsAuthorisation = Code(name: "needs_authorisation")
        /// The refresh call failed in a way that may pass (network, 5xx), and the token endpoint did not take the
        /// refresh token: try again later.
        public static let refreshFailed = Code(name: "refresh_failed")
        /// The refresh call may have reached the token endpoint, but no usable answer came back (a timeout or a
        /// dropped connection after sending, an unreadable answer): the refresh token may be spent. The token store
        /// marks the set as needing authorisation rather than presenting the token again.
        public static let refreshOutcomeUnknown = Code(name: "refresh_outcome_unknown")
        /// The token endpoint refused this client's credentials or request (`invalid_client`,
        /// `unauthorized_client`, another 4xx): a configuration error of the calling worker. The token set is
        /// left alone; the worker's configuration needs fixing.
        public static let clientRejected = Code(name: "client_rejected")
        /// A set was stored for another gateway than the one it already belongs to (a set keeps its gateway).
        public static let gatewayMismatch = Code(name: "gateway_mismatch")
        public var description: String { self.name }
    }

    /// What went wrong.
    public var code: Code
    /// Safe to show: names tenants and token sets, never tokens.
    public var message: String

    /// Creates an error; `message` must never hold a token or key.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(self.code): \(self.message)" }
}
