import Foundation
import NIOCore
import NIOHTTP1

/// One complete HTTP request as the sandbox's routes see it.
public struct SandboxRequest: Sendable {
    /// The method.
    public var method: HTTPMethod
    /// The request target, path and query.
    public var uri: String
    /// The headers.
    public var headers: HTTPHeaders
    /// The whole body.
    public var body: ByteBuffer
    /// The listener it came in on.
    public var listener: SandboxListener
    /// The subject of the client certificate (mutual TLS only), RFC 4514 form.
    public var peerSubject: String?
    /// The peer's IP address.
    public var remoteAddress: String?
    /// When the request was read.
    public var receivedAt: Date
    /// When the request arrived, by the monotonic clock: what the rate limiter counts.
    public var arrival: ContinuousClock.Instant

    /// Creates a request.
    public init(
        method: HTTPMethod, uri: String, headers: HTTPHeaders, body: ByteBuffer, listener: SandboxListener,
        peerSubject: String? = nil, remoteAddress: String? = nil, receivedAt: Date = Date(),
        arrival: ContinuousClock.Instant = .now
    ) {
        self.method = method
        self.uri = uri
        self.headers = headers
        self.body = body
        self.listener = listener
        self.peerSubject = peerSubject
        self.remoteAddress = remoteAddress
        self.receivedAt = receivedAt
        self.arrival = arrival
    }

    /// The path, without the query.
    public var path: String {
        String(uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
    }

    /// The query parameters, percent-decoded, in order (`+` is a space, as in forms).
    public var queryItems: [(String, String)] {
        guard let index = uri.firstIndex(of: "?") else { return [] }
        return Self.formItems(String(uri[uri.index(after: index)...]))
    }

    /// Decodes `application/x-www-form-urlencoded` text.
    public static func formItems(_ text: String) -> [(String, String)] {
        text.split(separator: "&").compactMap { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map {
                String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String($0)
            }
            guard let name = parts.first, !name.isEmpty else { return nil }
            return (name, parts.count > 1 ? parts[1] : "")
        }
    }

    /// The body as UTF-8 text.
    public var bodyText: String { String(decoding: body.readableBytesView, as: UTF8.self) }
}
