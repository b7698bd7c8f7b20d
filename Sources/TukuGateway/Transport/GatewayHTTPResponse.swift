import NIOCore
import NIOHTTP1

/// A complete HTTP response from the gateway: status, headers, the whole body, and how long the call took.
///
/// `description` shows the status, the body size and the latency; never headers or the body, which may carry tokens
/// or taxpayer data.
public struct GatewayHTTPResponse: Sendable, CustomStringConvertible {
    /// The HTTP status. IRD reports business errors with HTTP 200 and a status code in the SOAP body.
    public var status: HTTPResponseStatus
    /// The response headers.
    public var headers: HTTPHeaders
    /// The whole response body.
    public var body: ByteBuffer
    /// From the start of the call until the last byte of the body arrived, including any wait for a connection.
    public var latency: Duration
    /// From the start of the call until the request head had been written to the connection: the wait for a
    /// connection, and the TLS handshake when a new one was opened. Pacing reports the send time with it.
    public var sentAfter: Duration?
    /// How long the call waited for a pooled connection to come free (part of ``sentAfter``).
    public var connectionWait: Duration

    /// Whether the call had to open a connection first (its head was written later, after it had a connection,
    /// than a pooled connection allows): the transport's connection estimate and pacing's send report both go by
    /// this one rule.
    public var openedConnection: Bool {
        ConnectionEstimate.openedConnection(sentAfter: self.sentAfter.map { $0 - self.connectionWait })
    }

    /// Creates a response.
    public init(
        status: HTTPResponseStatus, headers: HTTPHeaders, body: ByteBuffer, latency: Duration, sentAfter: Duration? = nil,
        connectionWait: Duration = .zero
    ) {
        self.status = status
        self.headers = headers
        self.body = body
        self.latency = latency
        self.sentAfter = sentAfter
        self.connectionWait = connectionWait
    }

    /// The body bytes.
    public var bodyBytes: [UInt8] { Array(self.body.readableBytesView) }

    /// The body decoded as UTF-8 (invalid sequences are replaced).
    public var bodyText: String { String(decoding: self.body.readableBytesView, as: UTF8.self) }

    /// `HTTP <code>, <n> bytes in <latency>`.
    public var description: String {
        "HTTP \(self.status.code), \(self.body.readableBytes) bytes in \(self.latency)"
    }
}
