import ArgumentParser
import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import TukuFiling
import TukuGateway
import TukuPostgres
import TukuWorker

struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Claim and run jobs until SIGTERM or SIGINT.",
        discussion: """
            Start as many as you like, on as many machines as you like: they share the queue through PostgreSQL \
            alone. On SIGTERM/SIGINT a worker stops claiming, lets running jobs finish for up to \
            --shutdown-grace seconds, hands back the rest, and exits 0.
            """
    )

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var gateway: GatewayOptions
    @OptionGroup var hmrc: HMRCGatewayOptions

    @Option(help: "Most jobs held at once.")
    var concurrency: Int = 100

    @Option(name: .customLong("claim-batch"), help: "Most jobs taken by one claim.")
    var claimBatch: Int = 100

    @Option(
        name: .customLong("claim-budget-bytes"),
        help: """
            Most payload bytes taken by one claim (at least one job is always taken). Defaults to \
            TUKU_CLAIM_BUDGET_BYTES, else 16777216 (16 MiB).
            """)
    var claimBudgetBytes: Int?

    @Option(name: .customLong("lease"), help: "Lease length in seconds; heartbeats renew it every third of it.")
    var leaseSeconds: Int = 30

    @Option(name: .customLong("poll-interval-ms"), help: "Polling interval when no NOTIFY arrives, in milliseconds.")
    var pollIntervalMilliseconds: Int = 1000

    @Option(name: .customLong("rescue-interval"), help: "Seconds between rescuer runs.")
    var rescueIntervalSeconds: Int = 5

    @Option(name: .customLong("shutdown-grace"), help: "Seconds running jobs may take to finish after SIGTERM.")
    var shutdownGraceSeconds: Int = 25

    @Option(name: .customLong("max-connections"), help: "Most PostgreSQL connections this process opens.")
    var maximumConnections: Int = 10

    @Option(
        name: .customLong("metrics-port"),
        help: "Serve Prometheus metrics at http://HOST:PORT/metrics (0 = any free port, logged). Off when not given.")
    var metricsPort: Int?

    @Option(name: .customLong("metrics-host"), help: "Address the metrics server binds (0.0.0.0 for every IPv4 address).")
    var metricsHost: String = "127.0.0.1"

    func validate() throws {
        guard self.concurrency >= 1, self.claimBatch >= 1 else {
            throw ValidationError("--concurrency and --claim-batch must be at least 1")
        }
        _ = try self.claimByteBudget()
        guard self.leaseSeconds >= 3 else { throw ValidationError("--lease must be at least 3 seconds") }
        guard self.maximumConnections >= 3 else { throw ValidationError("--max-connections must be at least 3 (claims, acks, LISTEN)") }
        if let port = self.metricsPort, !(0...65535).contains(port) { throw ValidationError("--metrics-port must be from 0 to 65535") }
    }

    func run() async throws {
        let logger = self.database.makeLogger("tuku.worker")
        let client = PostgresClient(
            configuration: try self.database.clientConfiguration(maximumConnections: self.maximumConnections),
            backgroundLogger: logger)
        var configuration = Worker.Configuration()
        configuration.concurrency = self.concurrency
        configuration.claimBatchSize = self.claimBatch
        configuration.claimByteBudget = try self.claimByteBudget()
        configuration.lease = .seconds(self.leaseSeconds)
        configuration.heartbeatInterval = .seconds(self.leaseSeconds) / 3
        configuration.pollInterval = .milliseconds(self.pollIntervalMilliseconds)
        configuration.rescueInterval = .seconds(self.rescueIntervalSeconds)
        configuration.workerLostAfter = .seconds(self.leaseSeconds * 2)
        configuration.shutdownGracePeriod = .seconds(self.shutdownGraceSeconds)
        configuration.version = Tuku.version
        var definitions = try KindDefinition.bundled()
        if let timeout = self.gateway.timeoutSeconds {
            for kind in definitions.keys where definitions[kind]?.gatewayOperation != nil { definitions[kind]?.timeoutSeconds = timeout }
        }
        // A run may make up to four calls of its kind's timeout (a status check, the send, the send again after a
        // token refresh, the refresh itself), plus its pacing wait; past that and the margin it is abandoned.
        configuration.runTimeouts = definitions.mapValues { $0.gatewayOperation == nil ? $0.timeout : $0.timeout * 4 }
        configuration.exitProcessAfter = configuration.shutdownGracePeriod + configuration.ackFlushTimeout + .seconds(10)
        // One pooled connection per job in hand: a call never waits behind slow answers for a connection.
        var filing = try self.gateway.filingDependencies(client: client, logger: logger, connectionsPerHost: self.concurrency)
        // HMRC shares IRD's token store (one cache, one refresh claim discipline) and rate limiter when both run.
        let hmrc =
            try self.hmrc.isConfigured
            ? self.hmrc.setup(
                tokens: try filing?.1.tokens ?? TokenStore(client: client, cipher: try TokenCipher.fromEnvironment(), logger: logger),
                limiter: filing?.1.limiter ?? RateLimiter(client: client, logger: logger), allowOverrides: self.gateway.overridesAllowed,
                logger: logger, connectionsPerHost: self.concurrency)
            : nil
        if let hmrc { filing?.1.refreshers[.hmrc] = hmrc.refresher }
        let handlers = try StandardHandlers.registry(
            definitions: definitions, filing: filing?.1,
            hmrc: hmrc.map { HMRCVATHandler.Dependencies(call: $0.call, baseURL: $0.baseURL, vendor: $0.fraudPrevention) })
        configuration.kinds = .handling(handlers.kinds, known: Array(definitions.keys))
        if filing == nil, hmrc == nil {
            logger.notice("No gateway configured (--gateway): running local kinds only; gateway jobs wait for a configured worker")
        }
        if let hmrc {
            logger.notice("HMRC configured", metadata: ["hmrc.base_url": "\(hmrc.baseURL)"])
        }
        let worker = Worker(
            queue: JobQueue(client: client, logger: logger),
            handlers: handlers,
            configuration: configuration,
            logger: logger)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: client)]
        if let metrics = self.makeMetricsServer(logger: logger) {
            // First, so that it stops last: the drain stays visible. If it cannot bind, the worker stops gracefully.
            services.insert(.init(service: metrics, failureTerminationBehavior: .gracefullyShutdownGroup), at: 0)
        }
        if let transport = filing?.0 {
            services.append(.init(service: TransportService(transport: transport)))
        }
        if let transport = hmrc?.transport {
            services.append(.init(service: TransportService(transport: transport)))
        }
        services.append(.init(service: worker, successTerminationBehavior: .gracefullyShutdownGroup))
        let group = ServiceGroup(
            configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}

/// Keeps the gateway transport's connection pool open until the group shuts down, then closes it (after the
/// worker, which the group stops first).
struct TransportService: Service {
    let transport: GatewayTransport

    func run() async throws {
        try? await gracefulShutdown()
        try await self.transport.shutdown()
    }
}

extension WorkerCommand {
    /// `--claim-budget-bytes`, else `TUKU_CLAIM_BUDGET_BYTES`, else ``JobQueue/defaultClaimByteBudget``.
    func claimByteBudget() throws -> Int {
        var budget = JobQueue.defaultClaimByteBudget
        if let flag = self.claimBudgetBytes {
            budget = flag
        } else if let text = ProcessInfo.processInfo.environment["TUKU_CLAIM_BUDGET_BYTES"], !text.isEmpty {
            guard let value = Int(text) else {
                throw ValidationError("TUKU_CLAIM_BUDGET_BYTES must be a whole number of bytes, not \(text)")
            }
            budget = value
        }
        guard budget >= 1 else { throw ValidationError("--claim-budget-bytes (TUKU_CLAIM_BUDGET_BYTES) must be at least 1") }
        return budget
    }
}
