import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import ServiceLifecycle
import Synchronization

/// `tuku sandbox`: an emulation of IRD's Gateway Services over real TLS, as a ServiceLifecycle service.
///
/// Two listeners serve the same routes (see ``SandboxRouter``): one with mutual TLS that refuses clients without a
/// certificate from the sandbox CA, and one with one-way TLS; both require TLS 1.2 or later. On graceful shutdown
/// (SIGTERM/SIGINT through the `ServiceGroup`) or cancellation the listeners close, idle connections close, and
/// requests in flight get ``Configuration/shutdownGracePeriod`` to finish before their connections are closed.
public final class SandboxServer: Service, Sendable {
    private enum Listening {
        case waiting([CheckedContinuation<ListeningAddresses, any Error>])
        case listening(ListeningAddresses)
        case failed(SandboxError)
    }

    private struct Connection {
        var channel: any Channel
        var busy: Bool
    }

    private struct State {
        var listening = Listening.waiting([])
        var serverChannels: [any Channel] = []
        var connections: [ObjectIdentifier: Connection] = [:]
        var shuttingDown = false
    }

    /// The configuration.
    public let configuration: Configuration
    /// The routes (and through them the OAuth server, the stored filings, the limits and the counters).
    public let router: SandboxRouter
    private let contexts: (mutual: NIOSSLContext, oneWay: NIOSSLContext)
    private let arrivals: ArrivalsLog?
    let logger: Logger
    private let state = Mutex(State())

    /// Loads certificates and keys and prepares the routes; nothing listens until ``run()``.
    ///
    /// - Throws: ``SandboxError`` when a file cannot be used or a setting is out of range.
    public init(configuration: Configuration, logger: Logger) async throws(SandboxError) {
        guard !configuration.oauth.clients.isEmpty else {
            throw SandboxError(.invalidConfiguration, "register at least one OAuth client")
        }
        guard (0...65535).contains(configuration.mutualTLSPort), (0...65535).contains(configuration.oneWayTLSPort) else {
            throw SandboxError(.invalidConfiguration, "ports must be between 0 and 65535")
        }
        if let rate = configuration.limits.rate, rate <= 0 {
            throw SandboxError(.invalidConfiguration, "the rate must be positive")
        }
        if let maximum = configuration.limits.maximumConcurrency, maximum < 1 {
            throw SandboxError(.invalidConfiguration, "the maximum concurrency must be at least 1")
        }
        if let rate = configuration.hmrc.rate, rate <= 0 {
            throw SandboxError(.invalidConfiguration, "the HMRC rate must be positive")
        }
        self.configuration = configuration
        self.logger = logger
        self.contexts = try Self.makeTLSContexts(configuration.tls)
        let arrivals = try configuration.arrivalsPath.map { path throws(SandboxError) in try ArrivalsLog(path: path) }
        self.arrivals = arrivals
        self.router = SandboxRouter(
            oauth: OAuthAuthority(configuration: configuration.oauth),
            m2m: try await M2MVerifier(certificatePaths: configuration.m2mCertificatePaths),
            filings: FilingRegistry(configuration: configuration.filings),
            limiter: ClientLimiter(configuration: configuration.limits),
            faults: FaultInjector(plan: configuration.faults),
            schemas: try IRDSchemaValidator(), acceptsM2MOnPaydayFiling: configuration.acceptsM2MOnPaydayFiling,
            arrivals: arrivals, slowDelay: configuration.slowDelay, faultRetryAfter: configuration.faultRetryAfter,
            hmrc: configuration.hmrc, grantsToRemotePeers: configuration.grantsToRemotePeers, logger: logger)
    }

    /// Where the sandbox listens, once it does. Throws if binding failed.
    public func addresses() async throws -> ListeningAddresses {
        try await withCheckedThrowingContinuation { continuation in
            let resolved: Result<ListeningAddresses, SandboxError>? = state.withLock { state in
                switch state.listening {
                case .waiting(var waiters):
                    waiters.append(continuation)
                    state.listening = .waiting(waiters)
                    return nil
                case .listening(let addresses): return .success(addresses)
                case .failed(let error): return .failure(error)
                }
            }
            if let resolved { continuation.resume(with: resolved) }
        }
    }

    /// Binds both listeners and serves until graceful shutdown or cancellation.
    public func run() async throws {
        let mutual: NIOAsyncChannel<NIOAsyncChannel<NIOHTTPServerRequestFull, HTTPServerResponsePart>, Never>
        let oneWay: NIOAsyncChannel<NIOAsyncChannel<NIOHTTPServerRequestFull, HTTPServerResponsePart>, Never>
        do {
            mutual = try await bind(port: configuration.mutualTLSPort, context: contexts.mutual)
            oneWay = try await bind(port: configuration.oneWayTLSPort, context: contexts.oneWay)
        } catch {
            let failure = SandboxError(
                .bindFailed,
                "cannot listen on \(configuration.host) ports \(configuration.mutualTLSPort) and \(configuration.oneWayTLSPort)",
                underlying: error)
            resolveListening(.failure(failure))
            throw failure
        }
        let addresses = ListeningAddresses(
            host: configuration.host, mutualTLSPort: mutual.channel.localAddress?.port ?? 0,
            oneWayTLSPort: oneWay.channel.localAddress?.port ?? 0)
        state.withLock { $0.serverChannels = [mutual.channel, oneWay.channel] }
        logger.info(
            "sandbox listening",
            metadata: [
                "sandbox.mtls_port": "\(addresses.mutualTLSPort)", "sandbox.tls_port": "\(addresses.oneWayTLSPort)",
            ])
        resolveListening(.success(addresses))

        await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                await withDiscardingTaskGroup { group in
                    group.addTask { await self.accept(on: mutual, listener: .mutualTLS) }
                    group.addTask { await self.accept(on: oneWay, listener: .oneWayTLS) }
                }
            } onCancel: {
                self.beginShutdown()
            }
        } onGracefulShutdown: {
            self.beginShutdown()
        }
        arrivals?.close()
        logger.info("sandbox stopped", metadata: ["sandbox.summary": "\(router.currentStatistics.summaryLine)"])
    }

    private func bind(
        port: Int, context: NIOSSLContext
    ) async throws
        -> NIOAsyncChannel<NIOAsyncChannel<NIOHTTPServerRequestFull, HTTPServerResponsePart>, Never>
    {
        let maximumBody = configuration.maximumRequestBodySize
        return try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 512)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .bind(host: configuration.host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let operations = channel.pipeline.syncOperations
                    try operations.addHandler(NIOSSLServerHandler(context: context))
                    try operations.configureHTTPServerPipeline(withErrorHandling: true)
                    try operations.addHandler(NIOHTTPServerRequestAggregator(maxContentLength: maximumBody))
                    return try NIOAsyncChannel<NIOHTTPServerRequestFull, HTTPServerResponsePart>(wrappingChannelSynchronously: channel)
                }
            }
    }

    private func resolveListening(_ result: Result<ListeningAddresses, SandboxError>) {
        let waiters: [CheckedContinuation<ListeningAddresses, any Error>] = state.withLock { state in
            guard case .waiting(let waiters) = state.listening else { return [] }
            switch result {
            case .success(let addresses): state.listening = .listening(addresses)
            case .failure(let error): state.listening = .failed(error)
            }
            return waiters
        }
        for waiter in waiters { waiter.resume(with: result.mapError { $0 as any Error }) }
    }

    // MARK: Connections and shutdown

    /// Whether shutdown has begun.
    var isShuttingDown: Bool { state.withLock { $0.shuttingDown } }

    /// Registers a connection; `false` when shutdown has begun (the caller closes it).
    func register(_ channel: any Channel) -> Bool {
        state.withLock { state in
            guard !state.shuttingDown else { return false }
            state.connections[ObjectIdentifier(channel)] = Connection(channel: channel, busy: false)
            return true
        }
    }

    func unregister(_ channel: any Channel) {
        _ = state.withLock { $0.connections.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    /// Marks a connection busy or idle; returns whether shutdown has begun.
    func setBusy(_ channel: any Channel, _ busy: Bool) -> Bool {
        state.withLock { state in
            state.connections[ObjectIdentifier(channel)]?.busy = busy
            return state.shuttingDown
        }
    }

    /// Stops accepting, closes idle connections, and closes the rest after the grace period.
    private func beginShutdown() {
        let (servers, idle, all): ([any Channel], [any Channel], [any Channel]) = state.withLock { state in
            guard !state.shuttingDown else { return ([], [], []) }
            state.shuttingDown = true
            let connections = Array(state.connections.values)
            return (state.serverChannels, connections.filter { !$0.busy }.map(\.channel), connections.map(\.channel))
        }
        guard !servers.isEmpty || !all.isEmpty else { return }
        logger.info("sandbox shutting down", metadata: ["sandbox.open_connections": "\(all.count)"])
        for channel in servers + idle { channel.close(promise: nil) }
        let grace = TimeAmount.nanoseconds(Int64(OAuthAuthority.seconds(configuration.shutdownGracePeriod) * 1e9))
        MultiThreadedEventLoopGroup.singleton.any().scheduleTask(in: grace) { [self] in
            let remaining = state.withLock { $0.connections.values.map(\.channel) }
            for channel in remaining { channel.close(promise: nil) }
        }
    }
}
