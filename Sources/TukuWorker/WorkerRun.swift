import Foundation
import Logging
import Synchronization
import TukuCore
import TukuPostgres

/// One running worker: the claim loop, the job tasks, the ack batcher and the background loops.
final class WorkerRun: Sendable {
    private struct State {
        /// Claimed and not yet acknowledged.
        var inHand = 0
        /// Handler tasks still running.
        var running = 0
        var pendingAcks: [JobAck] = []
        var shuttingDown = false
        var claimingDone = false
        var finished = 0
    }

    private let queue: JobQueue
    private let handlers: HandlerRegistry
    private let configuration: Worker.Configuration
    private let workerID: Int64
    private let logger: Logger
    private let metrics: WorkerMetrics
    private let state = Mutex(State())
    /// Wakes the claim loop: a notification, a poll tick, freed capacity, or shutdown.
    private let claimWakeups: AsyncStream<Void>
    private let claimWakeup: AsyncStream<Void>.Continuation
    /// Wakes the ack batcher: acks are waiting, or claiming has ended.
    private let ackWakeups: AsyncStream<Void>
    private let ackWakeup: AsyncStream<Void>.Continuation

    init(queue: JobQueue, handlers: HandlerRegistry, configuration: Worker.Configuration, workerID: Int64, logger: Logger) {
        self.queue = queue
        self.handlers = handlers
        self.configuration = configuration
        self.workerID = workerID
        self.logger = logger
        self.metrics = WorkerMetrics(kinds: handlers.kinds)
        (self.claimWakeups, self.claimWakeup) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        (self.ackWakeups, self.ackWakeup) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    var finishedCount: Int { self.state.withLock { $0.finished } }

    func beginShutdown() {
        self.state.withLock { $0.shuttingDown = true }
        self.claimWakeup.yield()
    }

    func run() async {
        self.metrics.started(concurrency: self.configuration.concurrency)
        await withTaskGroup(of: Void.self) { background in
            background.addTask { await self.heartbeatLoop() }
            background.addTask { await self.rescueLoop() }
            background.addTask { await self.retentionLoop() }
            background.addTask { await self.listenLoop() }
            background.addTask { await self.pollLoop() }
            await withTaskGroup(of: Void.self) { core in
                core.addTask { await self.ackLoop() }
                core.addTask {
                    await self.claimLoop()
                    self.state.withLock { $0.claimingDone = true }
                    self.ackWakeup.yield()
                }
            }
            background.cancelAll()
        }
    }

    // MARK: Claiming and running

    private func claimLoop() async {
        var wakeups = self.claimWakeups.makeAsyncIterator()
        do {
            try await withThrowingDiscardingTaskGroup { jobs in
                while true {
                    let (free, stopping) = self.state.withLock {
                        ($0.shuttingDown ? 0 : self.configuration.concurrency - $0.inHand, $0.shuttingDown)
                    }
                    if stopping { break }
                    var claimedFull = false
                    if free > 0 {
                        let limit = min(free, self.configuration.claimBatchSize)
                        do {
                            let claimStarted = ContinuousClock.now
                            let claimed = try await self.queue.claim(
                                workerID: self.workerID, limit: limit, lease: self.configuration.lease, kinds: self.configuration.kinds)
                            self.metrics.claimed(claimed, took: ContinuousClock.now - claimStarted)
                            self.state.withLock {
                                $0.inHand += claimed.count
                                $0.running += claimed.count
                            }
                            for job in claimed {
                                jobs.addTask { await self.execute(job) }
                            }
                            claimedFull = claimed.count == limit
                        } catch {
                            self.logger.error(
                                "Claim failed; retrying after the poll interval", metadata: ["error": "\(QueueError.describe(error))"])
                            try? await Task.sleep(for: self.configuration.pollInterval)
                            continue
                        }
                    }
                    if !claimedFull {
                        // Nothing more is ready, or no capacity: wait for a notification, a tick or freed capacity.
                        guard await wakeups.next() != nil else { break }
                    }
                }
                // Shutdown: let the running jobs finish, up to the grace period; then cancel them, which hands
                // their leases back.
                do {
                    try await self.queue.setWorkerState(self.workerID, stopped: false)
                } catch {
                    self.logger.warning("Could not mark the worker stopping", metadata: ["error": "\(QueueError.describe(error))"])
                }
                self.logger.info(
                    "Shutting down: no more claims; waiting for running jobs",
                    metadata: [
                        "worker.jobs_running": "\(self.state.withLock { $0.running })"
                    ])
                jobs.addTask {
                    let deadline = ContinuousClock.now + self.configuration.shutdownGracePeriod
                    while true {
                        let running = self.state.withLock { $0.running }
                        if running == 0 { return }
                        if ContinuousClock.now >= deadline {
                            self.logger.warning(
                                "Shutdown grace period expired; handing back the leases of unfinished jobs",
                                metadata: [
                                    "worker.jobs_released": "\(running)"
                                ])
                            throw GracePeriodExpired()
                        }
                        try? await Task.sleep(for: .milliseconds(50))
                    }
                }
            }
        } catch {
            // GracePeriodExpired cancelled the job tasks; each acked itself as released.
        }
    }

    private struct GracePeriodExpired: Error {}

    private func execute(_ job: ClaimedJob) async {
        var logger = self.logger
        logger[metadataKey: "job.id"] = "\(job.id)"
        logger[metadataKey: "job.kind"] = "\(job.kind)"
        logger[metadataKey: "job.attempt"] = "\(job.attempt)"
        let startedAt = Date()
        let context = JobContext(logger: logger, workerID: self.workerID)
        let (outcome, policy) = await self.handlers.run(job, context: context)
        let resolved: JobAck.Outcome
        if Task.isCancelled {
            // Handed back unfinished, without spending an attempt. If the handler could not tell whether its
            // request reached the far side, that error stays on the job so that the next run settles it first.
            if let error = outcome.error, error.code == JobError.outcomeUnknownCode {
                resolved = JobAck.Outcome(name: "released", error: error, delay: nil)
            } else {
                resolved = .released
            }
        } else {
            resolved = JobAck.Outcome(outcome, attempt: job.attempt, policy: policy)
            switch outcome {
            case .succeeded, .throttled:
                logger.debug("Job finished", metadata: ["job.outcome": "\(resolved.name)"])
            case .retry, .rejected, .dead:
                logger.notice(
                    "Job failed",
                    metadata: [
                        "job.outcome": "\(resolved.name)", "error.code": "\(resolved.error?.code ?? "")",
                    ])
            }
        }
        self.metrics.finished(job, outcome: resolved)
        let ack = JobAck(
            jobID: job.id, leaseToken: job.leaseToken, outcome: resolved, startedAt: startedAt, exchanges: context.exchanges,
            settlement: context.settlement)
        self.state.withLock {
            $0.pendingAcks.append(ack)
            $0.running -= 1
        }
        self.ackWakeup.yield()
    }

    // MARK: Acks

    private func ackLoop() async {
        var wakeups = self.ackWakeups.makeAsyncIterator()
        while true {
            let (acks, done) = self.state.withLock { state -> ([JobAck], Bool) in
                let acks = state.pendingAcks
                state.pendingAcks.removeAll(keepingCapacity: true)
                return (acks, acks.isEmpty && state.claimingDone && state.running == 0)
            }
            if done { return }
            if acks.isEmpty {
                guard await wakeups.next() != nil else { return }
                continue
            }
            var start = 0
            while start < acks.count {
                let batch = Array(acks[start..<min(start + self.configuration.ackBatchSize, acks.count)])
                await self.acknowledge(batch)
                start += batch.count
            }
        }
    }

    /// Writes a batch of acks, retrying while the database is unreachable: acks are never dropped. If the
    /// outage outlasts the leases, the rescuer puts the jobs back and these acks are then refused.
    private func acknowledge(_ batch: [JobAck]) async {
        var delay = Duration.milliseconds(100)
        while true {
            do {
                let accepted = try await self.queue.acknowledge(batch, workerID: self.workerID)
                self.metrics.acknowledged(batch.count, accepted: accepted.count)
                break
            } catch {
                self.logger.error(
                    "Ack failed; retrying",
                    metadata: [
                        "error": "\(QueueError.describe(error))", "acks.count": "\(batch.count)",
                    ])
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(5))
            }
        }
        self.state.withLock {
            $0.inHand -= batch.count
            $0.finished += batch.count
        }
        self.claimWakeup.yield()
    }

    // MARK: Background loops

    private func heartbeatLoop() async {
        while !Task.isCancelled {
            do {
                try await self.queue.heartbeat(workerID: self.workerID, lease: self.configuration.lease)
            } catch {
                if Task.isCancelled { return }
                self.logger.error("Heartbeat failed", metadata: ["error": "\(QueueError.describe(error))"])
            }
            do { try await Task.sleep(for: self.configuration.heartbeatInterval) } catch { return }
        }
    }

    private func rescueLoop() async {
        while !Task.isCancelled {
            do { try await Task.sleep(for: self.configuration.rescueInterval) } catch { return }
            do {
                let rescued = try await self.queue.rescueExpiredLeases(workerLostAfter: self.configuration.workerLostAfter)
                if !rescued.isEmpty {
                    self.metrics.rescued(rescued.count)
                    self.logger.warning("Rescued jobs whose lease expired", metadata: ["jobs.rescued": "\(rescued.count)"])
                    self.claimWakeup.yield()
                }
            } catch {
                if Task.isCancelled { return }
                self.logger.error("Rescuer failed", metadata: ["error": "\(QueueError.describe(error))"])
            }
        }
    }

    /// Personal data goes after its retention period (`tuku.settings`): exchange bodies and finished jobs'
    /// payloads, then the finished jobs themselves. One batch at a time, one worker at a time fleet-wide.
    private func retentionLoop() async {
        while !Task.isCancelled {
            do { try await Task.sleep(for: self.configuration.retentionInterval) } catch { return }
            do {
                var total = JobQueue.RetentionSweep()
                while !Task.isCancelled {
                    let batch = try await self.queue.sweepRetention()
                    total.bodiesRemoved += batch.bodiesRemoved
                    total.payloadsRemoved += batch.payloadsRemoved
                    total.jobsPruned += batch.jobsPruned
                    if batch.isEmpty { break }
                }
                if !total.isEmpty {
                    self.logger.info(
                        "Removed data past its retention",
                        metadata: [
                            "retention.bodies_removed": "\(total.bodiesRemoved)",
                            "retention.payloads_removed": "\(total.payloadsRemoved)",
                            "retention.jobs_pruned": "\(total.jobsPruned)",
                        ])
                }
            } catch {
                if Task.isCancelled { return }
                self.logger.error("Retention sweep failed", metadata: ["error": "\(QueueError.describe(error))"])
            }
        }
    }

    private func pollLoop() async {
        while !Task.isCancelled {
            do { try await Task.sleep(for: self.configuration.pollInterval) } catch { return }
            self.claimWakeup.yield()
        }
    }

    private func listenLoop() async {
        while !Task.isCancelled {
            do {
                try await self.queue.client.withConnection { connection in
                    try await connection.listen(on: JobQueue.notificationChannel) { notifications in
                        for try await _ in notifications {
                            self.claimWakeup.yield()
                        }
                    }
                }
            } catch {
                if Task.isCancelled { return }
                self.logger.warning(
                    "LISTEN connection lost; polling until it is back", metadata: ["error": "\(QueueError.describe(error))"])
            }
            do { try await Task.sleep(for: .seconds(1)) } catch { return }
        }
    }
}
