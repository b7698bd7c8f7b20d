import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Prometheus
import ServiceLifecycle
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Serves a Prometheus registry at `GET /metrics` over plain HTTP/1.1, as a ServiceLifecycle `Service`.
///
/// `GET` (and `HEAD`) `/metrics` answer with the registry's text exposition (format 0.0.4); any other path is 404 and
/// any other method on `/metrics` is 405. The server logs its bound address once it listens. On graceful shutdown or
/// cancellation it stops accepting, closes idle keep-alive connections, lets a response being written finish, and
/// closes whatever is left after a short grace period.
public final class MetricsServer: Service, Sendable {
    /// Where the server listens.
    public struct Configuration: Sendable, Hashable {
        /// The address to bind. Defaults to `127.0.0.1` (this machine only); `0.0.0.0` listens on every IPv4 address.
        public var host: String
        /// The port to bind; 0 picks a free port, which the log line and ``MetricsServer/listeningAddress()`` report.
        public var port: Int

        /// How many connections may be open at once; a connection beyond it is closed as soon as it is accepted, so
        /// that scrapers (or anyone else who can reach the port) cannot take the worker's file descriptors, which it
        /// needs for PostgreSQL and the gateway. Defaults to 16: a scraper needs one.
        public var maximumConnections: Int
        /// How long a connection may take to send a whole request, from when it opened or its last response was
        /// written; a connection that is idle or sends slowly is closed after it. Defaults to 10 seconds (Prometheus
        /// scrapes every 15 s or more and sends its request at once).
        public var requestTimeout: Duration

        /// Creates a configuration.
        public init(host: String = "127.0.0.1", port: Int, maximumConnections: Int = 16, requestTimeout: Duration = .seconds(10)) {
            self.host = host
            self.port = port
            self.maximumConnections = maximumConnections
            self.requestTimeout = requestTimeout
        }
    }

    /// How long connections still open after shutdown began may take before they are closed.
    static let shutdownGracePeriod = TimeAmount.seconds(2)
    /// The content type of the text exposition format.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    private enum Listening {
        case waiting([CheckedContinuation<SocketAddress, any Error>])
        case listening(SocketAddress)
        case failed(MetricsError)
    }

    private struct Connection {
        var channel: any Channel
        var busy: Bool
    }

    private struct State {
        var listening = Listening.waiting([])
        var serverChannel: (any Channel)?
        var connections: [ObjectIdentifier: Connection] = [:]
        var shuttingDown = false
    }

    /// The configuration.
    public let configuration: Configuration
    let registry: PrometheusCollectorRegistry
    let logger: Logger
    private let state = Mutex(State())

    /// Prepares a server for `registry`; nothing listens until ``run()``.
    public init(registry: PrometheusCollectorRegistry, configuration: Configuration, logger: Logger) {
        self.registry = registry
        self.configuration = configuration
        self.logger = logger
    }

    /// The bound address, once the server listens (with the real port when ``Configuration/port`` is 0).
    ///
    /// - Throws: ``MetricsError`` when binding failed.
    public func listeningAddress() async throws -> SocketAddress {
        try await withCheckedThrowingContinuation { continuation in
            let resolved: Result<SocketAddress, MetricsError>? = self.state.withLock { state in
                switch state.listening {
                case .waiting(var waiters):
                    waiters.append(continuation)
                    state.listening = .waiting(waiters)
                    return nil
                case .listening(let address): return .success(address)
                case .failed(let error): return .failure(error)
                }
            }
            if let resolved { continuation.resume(with: resolved.mapError { $0 as any Error }) }
        }
    }

    /// Binds and serves until graceful shutdown or cancellation.
    ///
    /// - Throws: ``MetricsError`` when the port is out of range or the address cannot be bound.
    public func run() async throws {
        let server: NIOAsyncChannel<HTTPConnection, Never>
        do {
            server = try await self.bind()
        } catch {
            self.logger.error(
                "Metrics server could not listen",
                metadata: ["metrics.address": "\(self.requestedAddress)", "error": "\(error)"])
            self.resolveListening(.failure(error))
            throw error
        }
        let address = server.channel.localAddress
        self.state.withLock { $0.serverChannel = server.channel }
        self.logger.info(
            "Metrics server listening",
            metadata: ["metrics.address": "\(address.map(Self.describe) ?? self.requestedAddress)", "metrics.path": "/metrics"])
        if let address { self.resolveListening(.success(address)) }

        await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                await self.accept(on: server)
            } onCancel: {
                self.beginShutdown()
            }
        } onGracefulShutdown: {
            self.beginShutdown()
        }
        self.logger.info("Metrics server stopped")
    }

    private var requestedAddress: String {
        self.configuration.host.contains(":")
            ? "[\(self.configuration.host)]:\(self.configuration.port)" : "\(self.configuration.host):\(self.configuration.port)"
    }

    /// `HOST:PORT`, with IPv6 hosts in brackets.
    static func describe(_ address: SocketAddress) -> String {
        let host = address.ipAddress ?? "?"
        let port = address.port.map { "\($0)" } ?? "?"
        return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    private func bind() async throws(MetricsError) -> NIOAsyncChannel<HTTPConnection, Never> {
        guard (0...65535).contains(self.configuration.port) else {
            throw MetricsError(.invalidConfiguration, "the metrics port must be from 0 to 65535, not \(self.configuration.port)")
        }
        guard self.configuration.maximumConnections > 0, self.configuration.requestTimeout > .zero else {
            throw MetricsError(.invalidConfiguration, "the metrics server needs at least one connection and a positive request timeout")
        }
        let requestTimeout = TimeAmount.nanoseconds(
            self.configuration.requestTimeout.components.seconds * 1_000_000_000
                + self.configuration.requestTimeout.components.attoseconds / 1_000_000_000)
        do {
            return try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.backlog, value: 64)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .bind(host: self.configuration.host, port: self.configuration.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                        try channel.pipeline.syncOperations.addHandler(RequestDeadlineHandler(timeout: requestTimeout))
                        return try HTTPConnection(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw MetricsError(.bindFailed, "cannot listen on \(self.requestedAddress): \(Self.reason(error))", underlying: error)
        }
    }

    /// The operating system's reason for a failed bind (`Address already in use`), or the error itself.
    private static func reason(_ error: any Error) -> String {
        if let error = error as? IOError {
            return String(cString: strerror(error.errnoCode))
        }
        return "\(error)"
    }

    private func resolveListening(_ result: Result<SocketAddress, MetricsError>) {
        let waiters: [CheckedContinuation<SocketAddress, any Error>] = self.state.withLock { state in
            guard case .waiting(let waiters) = state.listening else { return [] }
            switch result {
            case .success(let address): state.listening = .listening(address)
            case .failure(let error): state.listening = .failed(error)
            }
            return waiters
        }
        for waiter in waiters { waiter.resume(with: result.mapError { $0 as any Error }) }
    }

    // MARK: Connections and shutdown

    /// How many connections are open (accepted within ``Configuration/maximumConnections`` and not yet closed).
    public var openConnections: Int { self.state.withLock { $0.connections.count } }

    /// Whether shutdown has begun.
    var isShuttingDown: Bool { self.state.withLock { $0.shuttingDown } }

    /// Registers a connection; `false` when shutdown has begun or ``Configuration/maximumConnections`` are open
    /// (the caller closes it).
    func register(_ channel: any Channel) -> Bool {
        self.state.withLock { state in
            guard !state.shuttingDown, state.connections.count < self.configuration.maximumConnections else { return false }
            state.connections[ObjectIdentifier(channel)] = Connection(channel: channel, busy: false)
            return true
        }
    }

    func unregister(_ channel: any Channel) {
        _ = self.state.withLock { $0.connections.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    /// Marks a connection as writing a response or idle; returns whether shutdown has begun.
    func setBusy(_ channel: any Channel, _ busy: Bool) -> Bool {
        self.state.withLock { state in
            state.connections[ObjectIdentifier(channel)]?.busy = busy
            return state.shuttingDown
        }
    }

    /// Stops accepting and closes idle connections; busy ones close after their response, and anything still open
    /// after ``shutdownGracePeriod`` is closed then.
    private func beginShutdown() {
        let channels: [any Channel]? = self.state.withLock { state in
            guard !state.shuttingDown else { return nil }
            state.shuttingDown = true
            let idle = state.connections.values.filter { !$0.busy }.map(\.channel)
            return (state.serverChannel.map { [$0] } ?? []) + idle
        }
        guard let channels else { return }
        for channel in channels { channel.close(promise: nil) }
        MultiThreadedEventLoopGroup.singleton.any().scheduleTask(in: Self.shutdownGracePeriod) {
            let remaining = self.state.withLock { $0.connections.values.map(\.channel) }
            for channel in remaining { channel.close(promise: nil) }
        }
    }
}
