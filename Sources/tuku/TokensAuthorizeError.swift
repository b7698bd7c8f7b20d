/// Why `tuku tokens authorize` stopped. The description never holds a token, code or secret.
struct TokensAuthorizeError: Error, CustomStringConvertible {
    /// What went wrong.
    enum Code: String, Sendable {
        /// The redirect did not arrive before the deadline.
        case timedOut = "timed_out"
        /// The redirect listener could not bind or stopped.
        case listenerFailed = "listener_failed"
        /// The redirect's `state` is not the one this run sent (or is missing): it may be forged.
        case stateMismatch = "state_mismatch"
        /// The authorization server answered with `error=…` (e.g. `access_denied`).
        case refused
        /// The redirect (or pasted text) held no code.
        case noCode = "no_code"
    }

    var code: Code
    var description: String

    init(_ code: Code, _ description: String) {
        self.code = code
        self.description = description
    }
}
