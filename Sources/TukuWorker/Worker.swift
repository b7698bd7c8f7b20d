import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import Synchronization
import TukuCore
import TukuPostgres

/// A worker process's job loop, as a ServiceLifecycle `Service`.
///
/// It registers a `tuku.workers` row, then claims batches of ready jobs (woken by `NOTIFY`, with polling as
/// the safety net), runs each with the handler for its kind, and acknowledges outcomes in batches. While it
/// holds jobs it heartbeats, extending their leases; any worker may run the rescuer, which puts back jobs
/// whose lease expired. On graceful shutdown it stops claiming, lets running jobs finish up to
/// ``Configuration/shutdownGracePeriod``, hands back the leases of those still running (no attempt is
/// spent), flushes its acks and marks its row `stopped`.
public struct Worker: Service {
    /// How a worker runs.
    public struct Configuration: Sendable {
        /// The most jobs held at once (claimed and not yet acknowledged). Defaults to 100.
        public var concurrency: Int = 100
        /// The most jobs taken by one claim statement. Defaults to 100.
        public var claimBatchSize: Int = 100
        /// The most payload bytes one claim takes: it stops adding jobs once their payloads would pass this, and
        /// always takes at least one. Defaults to 16 MiB (``JobQueue/defaultClaimByteBudget``).
        public var claimByteBudget: Int = JobQueue.defaultClaimByteBudget
        /// The most acks written by one statement. Defaults to 1000.
        public var ackBatchSize: Int = 1000
        /// How long a claim holds a job without a heartbeat. Defaults to 30 seconds.
        public var lease: Duration = .seconds(30)
        /// How often leases are extended. Defaults to 10 seconds; keep it well under `lease`.
        public var heartbeatInterval: Duration = .seconds(10)
        /// How often the queue is polled when no notification arrives. Defaults to 1 second.
        public var pollInterval: Duration = .seconds(1)
        /// How often this worker tries to run the rescuer. Defaults to 5 seconds.
        public var rescueInterval: Duration = .seconds(5)
        /// How often this worker runs the retention sweep (bodies, payloads, finished jobs). Defaults to 10 minutes.
        public var retentionInterval: Duration = .seconds(600)
        /// A worker whose heartbeat is older than this is marked `lost`. Defaults to 60 seconds.
        public var workerLostAfter: Duration = .seconds(60)
        /// How long running jobs may take to finish after shutdown begins. Defaults to 25 seconds.
        public var shutdownGracePeriod: Duration = .seconds(25)
        /// The version recorded in `tuku.workers`.
        public var version: String = "dev"
        /// Which kinds to claim. Defaults to every job.
        public var kinds: JobQueue.KindFilter = .all
        /// The deadline of each of the worker's own database calls (claim, ack batch, heartbeat, rescue, retention,
        /// worker row). Defaults to 10 seconds (``DatabaseDeadline/defaultTimeout``).
        public var databaseTimeout: Duration = DatabaseDeadline.defaultTimeout
        /// How long one run of a job may take, by kind; kinds not listed get ``defaultRunTimeout``. `tuku worker`
        /// sets each kind's from its definition: its call timeout times the calls one run may make.
        public var runTimeouts: [String: Duration] = [:]
        /// How long one run of a job of a kind not in ``runTimeouts`` may take. Defaults to 10 minutes.
        public var defaultRunTimeout: Duration = .seconds(600)
        /// How far past its run timeout a job's run may go before it is abandoned: its lease is no longer renewed, it
        /// is handed back as a retry whose outcome is unknown, and its handler is cancelled. Defaults to 30 seconds.
        public var overrunMargin: Duration = .seconds(30)
        /// How often runs are checked for overrun. Defaults to 1 second.
        public var overrunCheckInterval: Duration = .seconds(1)
        /// When an abandoned job may run again. Defaults to 30 seconds.
        public var overrunRetryDelay: Duration = .seconds(30)
        /// How long a cancelled handler (shutdown) has to end before the worker stops waiting for it. Defaults to
        /// 1 second.
        public var cancellationWait: Duration = .seconds(1)
        /// Once claiming has ended, how long acks keep being retried while the database does not answer. Defaults
        /// to 5 seconds; acks not written by then are left to their leases' expiry.
        public var ackFlushTimeout: Duration = .seconds(5)
        /// How often "Database calls keep failing" is logged while they do. Defaults to 30 seconds.
        public var databaseFailureLogInterval: Duration = .seconds(30)
        /// When set, the process exits (status 1) this long after shutdown began if the worker has not stopped by
        /// then: the hard bound on shutdown, for a call that ignores every deadline. `tuku worker` sets the grace
        /// period plus the ack flush plus 10 seconds; in-process workers (tests) leave it `nil`.
        public var exitProcessAfter: Duration?

        public init() {}
    }

    private let queue: JobQueue
    private let handlers: HandlerRegistry
    private let configuration: Configuration
    private let logger: Logger
    private let onRegistered: @Sendable (Int64) -> Void

    /// - Parameter onRegistered: called with the worker's id once its row exists (tests and tooling).
    public init(
        queue: JobQueue, handlers: HandlerRegistry, configuration: Configuration, logger: Logger,
        onRegistered: @escaping @Sendable (Int64) -> Void = { _ in }
    ) {
        precondition(configuration.concurrency >= 1 && configuration.claimBatchSize >= 1 && configuration.claimByteBudget >= 1 && configuration.ackBatchSize >= 1)
        self.queue = queue
        self.handlers = handlers
        self.configuration = configuration
        self.logger = logger
        self.onRegistered = onRegistered
    }

    public func run() async throws {
        let workerID = try await self.register()
        var logger = self.logger
        logger[metadataKey: "worker.id"] = "\(workerID)"
        logger.info(
            "Worker started",
            metadata: [
                "worker.concurrency": "\(self.configuration.concurrency)",
                "worker.kinds": "\(self.handlers.kinds.joined(separator: ","))",
            ])
        self.onRegistered(workerID)
        await self.checkDurability(workerID: workerID, logger: logger)
        let run = WorkerRun(
            queue: self.queue, handlers: self.handlers, configuration: self.configuration, workerID: workerID, logger: logger)
        await withGracefulShutdownHandler {
            await run.run()
        } onGracefulShutdown: { [logger] in
            run.beginShutdown()
            if let bound = self.configuration.exitProcessAfter {
                Self.exitIfStillRunning(after: bound, logger: logger)
            }
        }
        do {
            let queue = self.queue
            try await DatabaseDeadline.run("worker state", timeout: self.configuration.databaseTimeout) {
                try await queue.setWorkerState(workerID, stopped: true)
            }
        } catch {
            logger.error("Could not mark the worker stopped", metadata: ["error": "\(QueueError.describe(error))"])
        }
        logger.info("Worker stopped", metadata: ["worker.jobs_finished": "\(run.finishedCount)"])
    }

    /// Warns when the database cannot keep the delivery promise (`docs/queue.md`, "Durability"): in the log, in
    /// `tuku_database_durable` and in the worker's `tuku.workers` row.
    private func checkDurability(workerID: Int64, logger: Logger) async {
        do {
            let settings = try await DatabaseSettings.read(from: self.queue.client, logger: logger)
            WorkerMetrics.databaseDurable(settings.isDurable)
            if settings.isDurable {
                logger.info("The database commits durably", metadata: ["database.settings": "\(settings)"])
            } else {
                logger.warning(
                    "The database may lose committed work in a crash: jobs may then be sent twice or lost (see docs/queue.md, Durability)",
                    metadata: [
                        "database.settings": "\(settings)", "database.problems": "\(settings.problems.joined(separator: "; "))",
                    ])
            }
            let queue = self.queue
            try await DatabaseDeadline.run("worker settings", timeout: self.configuration.databaseTimeout) {
                try await queue.recordDatabaseSettings(settings, workerID: workerID)
            }
        } catch {
            logger.warning("Could not check the database's durability settings", metadata: ["error": "\(QueueError.describe(error))"])
        }
    }

    /// Ends the process `bound` after now unless it has ended by then.
    private static func exitIfStillRunning(after bound: Duration, logger: Logger) {
        let nanoseconds = bound.components.seconds * 1_000_000_000 + bound.components.attoseconds / 1_000_000_000
        DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(Int(nanoseconds))) {
            logger.critical(
                "The worker did not stop within its shutdown bound; exiting with calls still open",
                metadata: ["worker.shutdown_bound_s": "\(bound.components.seconds)"])
            exit(1)
        }
    }

    private func register() async throws -> Int64 {
        let host = ProcessInfo.processInfo.hostName
        let pid = Int(ProcessInfo.processInfo.processIdentifier)
        var delay = Duration.milliseconds(250)
        while true {
            do {
                let (queue, version, concurrency) = (self.queue, self.configuration.version, self.configuration.concurrency)
                return try await DatabaseDeadline.run("worker registration", timeout: self.configuration.databaseTimeout) {
                    try await queue.registerWorker(host: host, pid: pid, version: version, concurrency: concurrency)
                }
            } catch {
                // The database may be restarting; keep trying until it answers or we are told to stop.
                self.logger.error("Could not register the worker; retrying", metadata: ["error": "\(QueueError.describe(error))"])
                try await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(10))
            }
        }
    }
}
