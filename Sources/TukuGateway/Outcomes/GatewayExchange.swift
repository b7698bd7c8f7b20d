/// What happened on one gateway call, as input to ``GatewayOutcomeClassifier``.
public enum GatewayExchange: Sendable, Hashable {
    /// An HTTP response arrived.
    ///
    /// - Parameters:
    ///   - status: The HTTP status code.
    ///   - retryAfter: The `Retry-After` header, already turned into a delay (see ``RetryAfter``).
    ///   - body: The parsed body, or why it could not be parsed.
    case response(status: Int, retryAfter: Duration?, body: Result<GatewayResponse, GatewayError>)
    /// No HTTP response. `requestSent` is `false` when the request never left (connect or TLS handshake failed),
    /// and `true` when it may have reached IRD (timeout or connection drop after sending).
    case noResponse(requestSent: Bool)
}
