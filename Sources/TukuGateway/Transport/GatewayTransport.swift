import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL

/// The HTTP transport to the tax gateway: one long-lived `HTTPClient` whose TLS connections are pooled and reused.
///
/// Create one per process and profile, share it between workers, and call ``shutdown()`` before it is released (the
/// executable wraps that in a ServiceLifecycle service). Every PEM file is loaded and checked in `init`, so a bad file
/// fails at start-up.
///
/// ``send(_:url:body:headers:timeout:logger:)`` sends one request (any method, any content type) and reads the whole
/// response; ``post(url:body:headers:timeout:logger:)`` is the `POST` form. Failures are ``TransportError``s whose
/// code says whether the request may have reached the gateway.
///
/// The transport never logs headers or bodies: the `Authorization` header and the payloads stay out of logs.
public final class GatewayTransport: Sendable {
    /// The configuration the transport was created with.
    public let configuration: Configuration
    /// The expiry of the client certificate (the first certificate of the chain), when mutual TLS is configured; for
    /// monitoring.
    public let clientCertificateNotValidAfter: Date?

    private let client: HTTPClient
    private let logger: Logger
    private let connections = ConnectionEstimate()
    /// At most one call in flight per pooled connection; the others wait for one within their own deadline.
    private let slots: ConnectionSlots

    /// Whether a call starting now would likely have to open a new connection (no pooled connection this transport
    /// opened is idle, as far as it can tell). Pacing treats such a call's arrival as uncertain until it is answered.
    public var nextCallLikelyConnects: Bool { self.connections.nextCallLikelyConnects }

    /// Creates the transport and its HTTP client.
    ///
    /// - Parameters:
    ///   - configuration: TLS, timeouts, pool and body limits.
    ///   - eventLoopGroup: The event loops to run on. Defaults to AsyncHTTPClient's shared group.
    ///   - logger: For connection-pool activity and per-call events (no headers, no bodies).
    /// - Throws: ``TransportError/Code/invalidConfiguration`` when a PEM file is missing or malformed, the key does
    ///   not match the certificate, or a number is out of range.
    public init(
        configuration: Configuration,
        eventLoopGroup: any EventLoopGroup = HTTPClient.defaultEventLoopGroup,
        logger: Logger
    ) throws(TransportError) {
        try Self.validate(configuration)
        let tls = try Self.loadTLS(configuration.tls)

        var http = HTTPClient.Configuration(
            tlsConfiguration: tls.configuration,
            redirectConfiguration: .disallow,
            timeout: .init(connect: TimeAmount(configuration.timeouts.connect)),
            connectionPool: .init(
                idleTimeout: TimeAmount(configuration.connectionPool.idleTimeout),
                concurrentHTTP1ConnectionsPerHostSoftLimit: configuration.connectionPool.maximumConnectionsPerHost),
            proxy: nil,
            ignoreUncleanSSLShutdown: false,
            decompression: .disabled
        )
        http.connectionPool.retryConnectionEstablishment = configuration.connectionPool.retryConnectionEstablishment

        self.configuration = configuration
        self.slots = ConnectionSlots(limit: configuration.connectionPool.maximumConnectionsPerHost)
        self.clientCertificateNotValidAfter = tls.clientCertificateNotValidAfter
        self.logger = logger
        self.client = HTTPClient(eventLoopGroup: eventLoopGroup, configuration: http, backgroundActivityLogger: logger)
    }

    /// Sends `body` with `POST` and returns the complete response; see
    /// ``send(_:url:body:headers:timeout:logger:)``.
    public func post(
        url: String,
        body: ByteBuffer,
        headers: HTTPHeaders = [:],
        timeout: Duration? = nil,
        logger: Logger? = nil
    ) async throws(TransportError) -> GatewayHTTPResponse {
        try await self.send(.POST, url: url, body: body, headers: headers, timeout: timeout, logger: logger)
    }

    /// Sends one request with `method` and returns the complete response.
    ///
    /// The deadline covers everything: waiting for a connection, sending, and reading the whole response body.
    ///
    /// A request with a body marks the moment its head is written (``RequestSendMarker``): before it, a failure
    /// proves the gateway never saw the request. A request without a body (`GET`) has no such moment to observe
    /// (AsyncHTTPClient writes its head without pulling anything), so its failures count as possibly delivered
    /// unless the error itself proves otherwise (no connection could be made, the TLS handshake was rejected, the
    /// pool had no connection in time); that is the safe side, and a `GET` changes nothing anyway. Its
    /// ``GatewayHTTPResponse/sentAfter`` is `nil`, so pacing reports it as of its answer.
    ///
    /// - Parameters:
    ///   - method: The HTTP method (`GET`, `POST`, ...). `GET`, `HEAD` and `DELETE` take no body.
    ///   - url: An `https` URL, typically ``GatewayEndpoint/url(for:)``.
    ///   - body: The request body in whatever content type `headers` names (a SOAP envelope, JSON, a form), or
    ///     `nil` for none.
    ///   - headers: Request headers such as `Content-Type`, `Accept` and `Authorization`. `Content-Length` is set by
    ///     the transport.
    ///   - timeout: The deadline for this call; `nil` uses ``Configuration/Timeouts/request`` (60 seconds by default).
    ///   - logger: The caller's logger (with its job metadata); defaults to the transport's.
    /// - Returns: The status, headers, body and latency. Any HTTP status is a response, not an error.
    /// - Throws: A ``TransportError``; its ``TransportError/requestMayHaveReachedGateway`` says whether the outcome is
    ///   unknown.
    public func send(
        _ method: HTTPMethod,
        url: String,
        body: ByteBuffer?,
        headers: HTTPHeaders = [:],
        timeout: Duration? = nil,
        logger: Logger? = nil
    ) async throws(TransportError) -> GatewayHTTPResponse {
        let logger = logger ?? self.logger
        let timeout = timeout ?? self.configuration.timeouts.request
        let endpoint = try Self.safeEndpoint(url)
        let bodySize = body?.readableBytes ?? 0
        guard bodySize <= self.configuration.maximumRequestBodySize else {
            throw TransportError(
                .bodyTooLarge,
                "the request body (\(bodySize) bytes) is larger than the maximum of \(self.configuration.maximumRequestBodySize) bytes",
                requestMayHaveReachedGateway: false, endpoint: endpoint)
        }
        if body != nil, [.GET, .HEAD, .DELETE].contains(method) {
            throw TransportError(
                .invalidConfiguration, "a \(method) request takes no body", requestMayHaveReachedGateway: false, endpoint: endpoint)
        }

        let marker = RequestSendMarker()
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers = headers
        request.headers.remove(name: "Content-Length")
        if let body {
            request.body = .stream(marker.body(body), length: .known(Int64(body.readableBytes)))
        }
        // Without a body the head's writing cannot be observed: count the request as possibly sent (see above).
        let headSent = { body == nil || marker.requestHeadSent }

        let clock = ContinuousClock()
        let start = clock.now
        let deadline = start + timeout
        // Wait for a connection of our own first (see ConnectionSlots): the wait counts against this call's deadline.
        let host = Self.hostKey(url)
        guard await self.slots.acquire(host: host, until: deadline) else {
            let failure =
                Task.isCancelled
                ? TransportError(.cancelled, "the call was cancelled while waiting for a connection", requestMayHaveReachedGateway: false, endpoint: endpoint)
                : TransportError(
                    .noConnectionAvailable,
                    "every pooled connection (\(self.slots.limit)) stayed busy until the per-call timeout of \(timeout)",
                    requestMayHaveReachedGateway: false, endpoint: endpoint)
            logger.notice(
                "gateway call waited for a connection until its deadline",
                metadata: ["gateway.endpoint": "\(endpoint)", "transport.error_code": "\(failure.code)"])
            throw failure
        }
        defer { self.slots.release(host: host) }
        let waited = clock.now - start
        if waited > .milliseconds(100) {
            logger.debug(
                "gateway call waited for a connection",
                metadata: ["gateway.endpoint": "\(endpoint)", "transport.connection_wait_ms": "\(Self.milliseconds(waited))"])
        }
        let remaining = deadline - clock.now
        self.connections.started()
        let maximumResponseBodySize = self.configuration.maximumResponseBodySize
        let client = self.client
        let prepared = request
        do {
            let response = try await withThrowingTaskGroup(of: GatewayHTTPResponse.self) { group in
                group.addTask {
                    let response = try await client.execute(prepared, timeout: TimeAmount(remaining), logger: logger)
                    let body = try await response.body.collect(upTo: maximumResponseBodySize)
                    return GatewayHTTPResponse(
                        status: response.status, headers: response.headers, body: body, latency: clock.now - start,
                        sentAfter: marker.requestHeadSentAt.map { $0 - start }, connectionWait: waited)
                }
                // AsyncHTTPClient's deadline ends when the response head arrives; this one also covers the body.
                group.addTask {
                    try await Task.sleep(until: deadline, clock: clock)
                    throw HTTPClientError.deadlineExceeded
                }
                defer { group.cancelAll() }
                return try await group.next()!
            }
            self.connections.ended(openedConnection: response.openedConnection, connectionLost: false)
            logger.debug(
                "gateway call finished",
                metadata: [
                    "gateway.endpoint": "\(endpoint)",
                    "gateway.method": "\(method)",
                    "gateway.http_status": "\(response.status.code)",
                    "gateway.latency_ms": "\(Self.milliseconds(response.latency))",
                    "gateway.response_bytes": "\(response.body.readableBytes)",
                ])
            return response
        } catch {
            let failure = TransportError.classify(error, requestHeadSent: headSent(), endpoint: endpoint, timeout: timeout)
            // Any failure may have cost the connection it ran on (a timed-out one is closed by the client).
            self.connections.ended(
                openedConnection: ConnectionEstimate.openedConnection(sentAfter: marker.requestHeadSentAt.map { $0 - start - waited }),
                connectionLost: true)
            logger.warning(
                "gateway call failed",
                metadata: [
                    "gateway.endpoint": "\(endpoint)",
                    "transport.error_code": "\(failure.code)",
                    "transport.request_may_have_reached_gateway": "\(failure.requestMayHaveReachedGateway)",
                    "transport.elapsed_ms": "\(Self.milliseconds(clock.now - start))",
                    "error.message": "\(failure.message)",
                ])
            throw failure
        }
    }

    /// The pool's key for a URL: scheme, host and port.
    static func hostKey(_ url: String) -> String {
        guard let components = URLComponents(string: url) else { return url }
        let scheme = components.scheme ?? "https"
        return "\(scheme)://\(components.host ?? ""):\(components.port ?? (scheme == "http" ? 80 : 443))"
    }

    /// Sends `body` with `POST` and returns the complete response; see ``post(url:body:headers:timeout:logger:)``.
    public func post(
        url: String,
        body: [UInt8],
        headers: HTTPHeaders = [:],
        timeout: Duration? = nil,
        logger: Logger? = nil
    ) async throws(TransportError) -> GatewayHTTPResponse {
        try await self.post(url: url, body: ByteBuffer(bytes: body), headers: headers, timeout: timeout, logger: logger)
    }

    /// Closes every pooled connection and releases the HTTP client. Calls in flight fail. Calling it again does
    /// nothing.
    public func shutdown() async throws {
        do {
            try await self.client.shutdown()
        } catch let error as HTTPClientError where error == .alreadyShutdown {
            return
        }
    }

    /// `scheme://host[:port]/path` of an `https` URL: no credentials, no query, no fragment.
    static func safeEndpoint(_ url: String) throws(TransportError) -> String {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
            let host = components.host, !host.isEmpty
        else {
            throw TransportError(.invalidConfiguration, "the URL is not an absolute URL with a host", requestMayHaveReachedGateway: false)
        }
        guard scheme == "https" else {
            throw TransportError(.invalidConfiguration, "the URL must use https", requestMayHaveReachedGateway: false)
        }
        let port = components.port.map { ":\($0)" } ?? ""
        return "\(scheme)://\(host)\(port)\(components.path)"
    }

    private static func validate(_ configuration: Configuration) throws(TransportError) {
        func invalid(_ message: String) -> TransportError {
            TransportError(.invalidConfiguration, message, requestMayHaveReachedGateway: false)
        }
        guard configuration.timeouts.connect > .zero, configuration.timeouts.request > .zero, configuration.tls.closeNotifyTimeout >= .zero
        else {
            throw invalid("timeouts must be positive")
        }
        guard configuration.connectionPool.maximumConnectionsPerHost > 0 else {
            throw invalid("the pool needs at least one connection per host")
        }
        guard configuration.connectionPool.idleTimeout > .zero else {
            throw invalid("the pool idle timeout must be positive")
        }
        guard configuration.maximumRequestBodySize > 0, configuration.maximumResponseBodySize > 0 else {
            throw invalid("body size limits must be positive")
        }
    }

    private static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
