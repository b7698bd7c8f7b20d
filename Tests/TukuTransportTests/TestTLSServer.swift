import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization
import X509

/// A small HTTPS server on 127.0.0.1 for transport tests: SwiftNIO + NIOSSL, one behaviour per server, and a count of
/// accepted TCP connections.
final class TestTLSServer: Sendable {
    /// What the server does once it has read a whole request.
    enum Behaviour: Sendable {
        /// 200 with `method=<method>;content-type=<or none>;content-length=<or none>;peer=<client certificate subject or
        /// none>;tls=<version>;body=<request body>`.
        case echo
        /// Never answers.
        case stall
        /// Closes the connection without answering.
        case closeAfterRequest
        /// 200 with a body of `bytes` bytes.
        case respond(bytes: Int)
        /// 200 with an empty body, `seconds` after the request (a slow gateway).
        case slow(seconds: Int64)
    }

    /// The port the server listens on.
    let port: Int
    private let channel: any Channel
    private let connections: Counter
    private let requests: Counter

    /// How many TCP connections the server has accepted.
    var acceptedConnections: Int { self.connections.value }

    /// How many complete requests (head, body and end) the server has read.
    var receivedRequests: Int { self.requests.value }

    /// `https://localhost:<port>/gateway/gws/returns/`.
    var url: String { "https://localhost:\(self.port)/gateway/gws/returns/" }

    private init(port: Int, channel: any Channel, connections: Counter, requests: Counter) {
        self.port = port
        self.channel = channel
        self.connections = connections
        self.requests = requests
    }

    /// Starts a server. With `tls == nil` it accepts TCP connections and never speaks (no TLS, no HTTP): a client's
    /// TLS handshake hangs.
    static func start(tls: TLSConfiguration?, behaviour: Behaviour = .echo) async throws -> TestTLSServer {
        let context = try tls.map { try NIOSSLContext(configuration: $0) }
        let connections = Counter()
        let requests = Counter()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                connections.increment()
                guard let context else { return channel.eventLoop.makeSucceededVoidFuture() }
                return channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    try pipeline.addHandler(NIOSSLServerHandler(context: context))
                    try pipeline.configureHTTPServerPipeline()
                    try pipeline.addHandler(BehaviourHandler(behaviour: behaviour, requests: requests))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        guard let port = channel.localAddress?.port else {
            try await channel.close()
            throw Shell.Failure(description: "the test server has no port")
        }
        return TestTLSServer(port: port, channel: channel, connections: connections, requests: requests)
    }

    /// Stops listening. Open connections are closed by the clients.
    func close() async throws {
        try await self.channel.close()
    }

    /// Runs `body` with a started server and closes the server afterwards, also on failure.
    @discardableResult
    static func with<T>(
        tls: TLSConfiguration?, behaviour: Behaviour = .echo, _ body: (TestTLSServer) async throws -> T
    ) async throws -> T {
        let server = try await TestTLSServer.start(tls: tls, behaviour: behaviour)
        do {
            let result = try await body(server)
            try await server.close()
            return result
        } catch {
            try? await server.close()
            throw error
        }
    }

    private final class Counter: Sendable {
        private let count = Atomic<Int>(0)
        var value: Int { self.count.load(ordering: .relaxed) }
        func increment() { self.count.add(1, ordering: .relaxed) }
    }

    private final class BehaviourHandler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        let behaviour: Behaviour
        let requests: Counter
        var body = ByteBuffer()
        var head: HTTPRequestHead?

        init(behaviour: Behaviour, requests: Counter) {
            self.behaviour = behaviour
            self.requests = requests
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch self.unwrapInboundIn(data) {
            case .head(let head):
                self.head = head
                self.body.clear()
            case .body(var part):
                self.body.writeBuffer(&part)
            case .end:
                self.requests.increment()
                switch self.behaviour {
                case .echo:
                    let peer =
                        (try? context.pipeline.syncOperations.nioSSL_peerCertificate())
                        .flatMap { $0 }
                        .flatMap { try? Certificate(derEncoded: $0.toDERBytes()).subject.description } ?? "none"
                    let version = (try? context.pipeline.syncOperations.nioSSL_tlsVersion()).flatMap { $0 }
                    let method = self.head.map { "\($0.method)" } ?? "none"
                    let contentType = self.head?.headers.first(name: "Content-Type") ?? "none"
                    let contentLength = self.head?.headers.first(name: "Content-Length") ?? "none"
                    let text =
                        "method=\(method);content-type=\(contentType);content-length=\(contentLength);peer=\(peer);tls=\(version.map { "\($0)" } ?? "none");body=\(String(buffer: self.body))"
                    self.respond(context: context, body: ByteBuffer(string: text))
                case .respond(let bytes):
                    self.respond(context: context, body: ByteBuffer(repeating: UInt8(ascii: "x"), count: bytes))
                case .slow(let seconds):
                    let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
                    let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
                    context.eventLoop.scheduleTask(in: .seconds(seconds)) {
                        handler.value.respond(context: bound.value, body: ByteBuffer(string: "slow"))
                    }
                case .stall:
                    break
                case .closeAfterRequest:
                    context.close(promise: nil)
                }
            }
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }

        private func respond(context: ChannelHandlerContext, body: ByteBuffer) {
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: "text/plain")
            headers.add(name: "Content-Length", value: "\(body.readableBytes)")
            context.write(self.wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
            context.write(self.wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
            context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: nil)
        }
    }
}

/// Server-side TLS configurations for the tests, built from the generated certificates.
enum TestServerTLS {
    /// Requires a client certificate issued (directly or through the intermediate) by the test CA.
    static func mutual(maximum: TLSVersion? = nil) throws -> TLSConfiguration {
        var tls = TLSConfiguration.makeServerConfigurationWithMTLS(
            certificateChain: try NIOSSLCertificate.fromPEMFile(TestCertificates.path("server.pem")).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: TestCertificates.path("server.key"), format: .pem)),
            trustRoots: .file(try TestCertificates.path("ca.pem")))
        tls.minimumTLSVersion = .tlsv12
        tls.maximumTLSVersion = maximum
        return tls
    }

    /// One-way TLS with the server certificate from `certificate` (`server` or `other-server`).
    static func oneWay(certificate: String = "server", minimum: TLSVersion = .tlsv12, maximum: TLSVersion? = nil) throws -> TLSConfiguration
    {
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(TestCertificates.path("\(certificate).pem")).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: TestCertificates.path("\(certificate).key"), format: .pem)))
        tls.minimumTLSVersion = minimum
        tls.maximumTLSVersion = maximum
        return tls
    }
}
