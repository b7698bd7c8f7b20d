import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// A small HTTPS server on loopback that answers each request as a test script says: for testing Tuku's
/// gateway handler over real (mutual) TLS before and besides the full sandbox.
public final class ScriptedGateway: Sendable {
    /// A request as it arrived.
    public struct Request: Sendable {
        public var method: String
        public var path: String
        public var headers: [String: String]
        public var body: String

        /// The SOAP action from the Content-Type's `action` parameter, or the path's last part.
        public var action: String {
            if let type = self.headers["content-type"], let range = type.range(of: "action=\"") {
                let rest = type[range.upperBound...]
                return String(rest.prefix { $0 != "\"" }.split(separator: "/").last ?? "")
            }
            return String(self.path.split(separator: "/").last ?? "")
        }
    }

    /// How to answer one request.
    public enum Reply: Sendable {
        case respond(status: Int, headers: [String: String] = [:], body: String)
        /// Answer with these exact bytes (for replies that are not valid UTF-8).
        case respondBytes(status: Int, headers: [String: String] = [:], body: [UInt8])
        /// Read the request, then close the connection without answering.
        case drop
        /// Read the request and answer nothing for this long, then close.
        case stall(Duration)
    }

    private final class Log: Sendable {
        let requests = Mutex<[Request]>([])
    }

    private let channel: any Channel
    private let log = Log()
    public let port: Int

    /// Starts listening on 127.0.0.1 with `server.pem`; with `requireClientCertificate`, only clients with a
    /// certificate from `ca.pem` get through the handshake.
    public init(
        certificates: TestCertificates, requireClientCertificate: Bool = true,
        responder: @escaping @Sendable (Request) -> Reply
    ) async throws {
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(certificates.path("server.pem")).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: certificates.path("server.key"), format: .pem)))
        tls.minimumTLSVersion = .tlsv12
        if requireClientCertificate {
            tls.certificateVerification = .noHostnameVerification
            tls.trustRoots = .file(certificates.path("ca.pem"))
        }
        let context = try NIOSSLContext(configuration: tls)
        let log = self.log
        let record: @Sendable (Request) -> Reply = { request in
            log.requests.withLock { $0.append(request) }
            return responder(request)
        }
        self.channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(ScriptedHandler(respond: record))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        self.port = self.channel.localAddress?.port ?? 0
    }

    /// `https://127.0.0.1:PORT/gateway/`, as a gateway endpoint's base URL.
    public var baseURL: String { "https://127.0.0.1:\(self.port)/gateway/" }

    /// Every request so far, in arrival order.
    public var requests: [Request] { self.log.requests.withLock { $0 } }

    public func shutdown() async throws {
        try await self.channel.close()
    }
}

private final class ScriptedHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let respond: @Sendable (ScriptedGateway.Request) -> ScriptedGateway.Reply
    private var head: HTTPRequestHead?
    private var body = ByteBuffer()

    init(respond: @escaping @Sendable (ScriptedGateway.Request) -> ScriptedGateway.Reply) {
        self.respond = respond
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            self.body.clear()
        case .body(var chunk):
            self.body.writeBuffer(&chunk)
        case .end:
            guard let head = self.head else { return }
            var headers: [String: String] = [:]
            for (name, value) in head.headers { headers[name.lowercased()] = value }
            let request = ScriptedGateway.Request(
                method: "\(head.method)", path: head.uri, headers: headers, body: String(buffer: self.body))
            func answer(status: Int, headers extra: [String: String], body bytes: ByteBuffer) {
                var responseHeaders = HTTPHeaders()
                responseHeaders.add(name: "Content-Type", value: extra["Content-Type"] ?? "application/soap+xml; charset=utf-8")
                for (name, value) in extra where name != "Content-Type" { responseHeaders.add(name: name, value: value) }
                responseHeaders.add(name: "Content-Length", value: "\(bytes.readableBytes)")
                context.write(
                    self.wrapOutboundOut(
                        .head(HTTPResponseHead(version: .http1_1, status: .init(statusCode: status), headers: responseHeaders))),
                    promise: nil)
                context.write(self.wrapOutboundOut(.body(.byteBuffer(bytes))), promise: nil)
                context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: nil)
            }
            switch self.respond(request) {
            case .respond(let status, let extra, let text):
                answer(status: status, headers: extra, body: ByteBuffer(string: text))
            case .respondBytes(let status, let extra, let bytes):
                answer(status: status, headers: extra, body: ByteBuffer(bytes: bytes))
            case .drop:
                context.close(promise: nil)
            case .stall(let duration):
                let channel = context.channel
                let milliseconds = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
                channel.eventLoop.scheduleTask(in: .milliseconds(milliseconds)) { channel.close(promise: nil) }
            }
        }
    }
}
