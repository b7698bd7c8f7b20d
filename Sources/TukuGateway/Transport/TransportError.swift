/// The error type of the gateway transport: a code that says how far the request got, plus safe context.
///
/// The code matters for outcome classification: when ``requestMayHaveReachedGateway`` is `false` nothing was
/// delivered to the gateway and the call can be repeated without risk of a duplicate filing; when it is `true` the
/// gateway may have received and processed the request and the outcome is unknown (check the filing status before
/// sending again).
///
/// `description` is safe to show anyone: it never contains key material, tokens, headers or bodies. The underlying
/// error goes to `debugDescription` only.
public struct TransportError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// What went wrong, and therefore how far the request got.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case connectFailed = "connect_failed"
            case tlsHandshakeFailed = "tls_handshake_failed"
            case timedOutAfterSend = "timed_out_after_send"
            case connectionDroppedAfterSend = "connection_dropped_after_send"
            case malformedResponse = "malformed_response"
            case bodyTooLarge = "body_too_large"
            case cancelled = "cancelled"
            case clientShutDown = "client_shut_down"
            case invalidConfiguration = "invalid_configuration"
            case noConnectionAvailable = "no_connection_available"
        }
        private let base: Base

        /// No connection could be made (refused, unreachable, DNS failure, connect timeout, or the per-call deadline
        /// passed while waiting for a connection). Nothing was sent.
        public static let connectFailed = Code(base: .connectFailed)
        /// The TLS handshake was rejected by either side (no or unknown client certificate, untrusted server
        /// certificate, wrong host name, TLS version below the minimum). The gateway processed nothing.
        public static let tlsHandshakeFailed = Code(base: .tlsHandshakeFailed)
        /// The per-call deadline (or a read/write timeout) passed after the request was handed to the connection.
        /// The gateway may have received and processed it: outcome unknown.
        public static let timedOutAfterSend = Code(base: .timedOutAfterSend)
        /// The connection closed or reset after the request was handed to it and before a complete response
        /// arrived. The gateway may have received and processed it: outcome unknown.
        public static let connectionDroppedAfterSend = Code(base: .connectionDroppedAfterSend)
        /// The response could not be parsed as HTTP. The gateway may have processed the request: outcome unknown.
        public static let malformedResponse = Code(base: .malformedResponse)
        /// The request body is larger than the configured maximum (nothing was sent), or the response body is larger
        /// than its maximum (the gateway answered, but the answer was discarded: outcome unknown).
        /// ``TransportError/requestMayHaveReachedGateway`` says which.
        public static let bodyTooLarge = Code(base: .bodyTooLarge)
        /// The calling task was cancelled (for example by graceful shutdown).
        /// ``TransportError/requestMayHaveReachedGateway`` says whether the request had been sent by then.
        public static let cancelled = Code(base: .cancelled)
        /// The transport was already shut down. Nothing was sent.
        public static let clientShutDown = Code(base: .clientShutDown)
        /// The configuration or the call is unusable: a missing or malformed PEM file, a private key that does not
        /// match its certificate, a URL that is not `https`. Nothing was sent.
        public static let invalidConfiguration = Code(base: .invalidConfiguration)
        /// Every pooled connection to the host stayed busy (with other calls) until this call's deadline. Nothing was
        /// sent. Waiting for a connection is pacing, not a failure of the call: callers should not count it as an
        /// attempt.
        public static let noConnectionAvailable = Code(base: .noConnectionAvailable)

        /// The code as a stable snake_case string, for logs and metrics.
        public var description: String { self.base.rawValue }
    }

    /// What went wrong.
    public var code: Code
    /// A sentence for the operator; never contains key material, tokens, headers or bodies.
    public var message: String
    /// Whether the gateway may have received (and processed) the request.
    ///
    /// `false`: nothing reached the gateway's application, so sending again cannot file twice.
    /// `true`: outcome unknown; reconcile (query the filing status) before sending again.
    public var requestMayHaveReachedGateway: Bool
    /// Where the call went: scheme, host, port and path, never a query string or credentials.
    public var endpoint: String?
    /// The error reported by the HTTP client or TLS stack, for `debugDescription`.
    public var underlying: (any Error)?

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - code: What went wrong.
    ///   - message: A sentence safe to show anyone.
    ///   - requestMayHaveReachedGateway: Whether the gateway may have received the request.
    ///   - endpoint: Where the call went (no query string, no credentials).
    ///   - underlying: The error reported by the layer below.
    public init(
        _ code: Code,
        _ message: String,
        requestMayHaveReachedGateway: Bool,
        endpoint: String? = nil,
        underlying: (any Error)? = nil
    ) {
        self.code = code
        self.message = message
        self.requestMayHaveReachedGateway = requestMayHaveReachedGateway
        self.endpoint = endpoint
        self.underlying = underlying
    }

    /// `code: message (endpoint)`; safe to log and show.
    public var description: String {
        if let endpoint = self.endpoint {
            return "\(self.code): \(self.message) (\(endpoint))"
        }
        return "\(self.code): \(self.message)"
    }

    /// The description plus the underlying error. The layers below (NIO, BoringSSL, AsyncHTTPClient) do not put key
    /// material or request contents in their errors, but treat this as operator-only detail all the same.
    public var debugDescription: String {
        "\(self.description) [sent: \(self.requestMayHaveReachedGateway)] (underlying: \(self.underlying.map { String(reflecting: $0) } ?? "none"))"
    }
}
