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
        precondition(configuration.concurrency >= 1 && configuration.claimBatchSize >= 1 && configuration.ackBatchSize >= 1)
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
        let run = WorkerRun(
            queue: self.queue, handlers: self.handlers, configuration: self.configuration, workerID: workerID, logger: logger)
        await withGracefulShutdownHandler {
            await run.run()
        } onGracefulShutdown: {
            run.beginShutdown()
        }
        do {
            try await self.queue.setWorkerState(workerID, stopped: true)
        } catch {
            logger.error("Could not mark the worker stopped", metadata: ["error": "\(QueueError.describe(error))"])
        }
        logger.info("Worker stopped", metadata: ["worker.jobs_finished": "\(run.finishedCount)"])
    }

    private func register() async throws -> Int64 {
        let host = ProcessInfo.processInfo.hostName
        let pid = Int(ProcessInfo.processInfo.processIdentifier)
        var delay = Duration.milliseconds(250)
        while true {
            do {
                return try await self.queue.registerWorker(
                    host: host, pid: pid, version: self.configuration.version, concurrency: self.configuration.concurrency)
            } catch {
                // The database may be restarting; keep trying until it answers or we are told to stop.
                self.logger.error("Could not register the worker; retrying", metadata: ["error": "\(QueueError.describe(error))"])
                try await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(10))
            }
        }
    }
}
