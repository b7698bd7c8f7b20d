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
        /// Jobs in hand whose leases the heartbeat renews, by lease token: claimed, not abandoned, ack not yet
        /// written.
        var tracked: [Int64: Tracked] = [:]
        /// Once claiming has ended: acks that cannot be written by then are left to the leases' expiry.
        var flushDeadline: ContinuousClock.Instant?
        var database = DatabaseHealthState()
    }

    /// A job in hand.
    private struct Tracked {
        var job: ClaimedJob
        var context: JobContext
        var startedAt: Date
        /// When its run counts as overrun and is abandoned.
        var overrunAt: ContinuousClock.Instant
        /// Its handler has ended and its ack is waiting to be written.
        var finished = false
        var task: JobTask
    }

    /// Database calls made by this worker's loops: how many failed, and since when they keep failing.
    struct DatabaseHealthState {
        var report = JobQueue.DatabaseHealth()
        var consecutiveFailures = 0
        var firstFailureAt: Date?
        var lastLoggedAt: ContinuousClock.Instant?
    }

    /// Calls in a row that must fail before the worker says its database calls keep failing.
    static let failingAfter = 3

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
            background.addTask { await self.overrunLoop() }
            await withTaskGroup(of: Void.self) { core in
                core.addTask { await self.ackLoop() }
                core.addTask {
                    await self.claimLoop()
                    self.state.withLock {
                        $0.claimingDone = true
                        $0.flushDeadline = ContinuousClock.now + self.configuration.ackFlushTimeout
                    }
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
                            let (queue, workerID, configuration) = (self.queue, self.workerID, self.configuration)
                            let (claimed, budgetReached) = try await self.database("claim") {
                                try await queue.claimBatch(
                                    workerID: workerID, limit: limit, lease: configuration.lease, kinds: configuration.kinds,
                                    byteBudget: configuration.claimByteBudget)
                            }
                            self.metrics.claimed(claimed, took: ContinuousClock.now - claimStarted)
                            let now = ContinuousClock.now
                            let started = claimed.map { job in
                                var logger = self.logger
                                logger[metadataKey: "job.id"] = "\(job.id)"
                                logger[metadataKey: "job.kind"] = "\(job.kind)"
                                logger[metadataKey: "job.attempt"] = "\(job.attempt)"
                                return Tracked(
                                    job: job, context: JobContext(logger: logger, workerID: self.workerID), startedAt: Date(),
                                    overrunAt: now + self.runTimeout(of: job.kind) + self.configuration.overrunMargin, task: JobTask())
                            }
                            self.state.withLock {
                                $0.inHand += claimed.count
                                $0.running += claimed.count
                                for tracked in started { $0.tracked[tracked.job.leaseToken] = tracked }
                            }
                            for tracked in started {
                                jobs.addTask { await self.execute(tracked) }
                            }
                            // Full, or cut short by the byte budget with more ready: claim again at once.
                            claimedFull = claimed.count == limit || budgetReached
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
                    let (queue, workerID) = (self.queue, self.workerID)
                    try await self.database("worker state") { try await queue.setWorkerState(workerID, stopped: false) }
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

    /// How long one run of a job of `kind` may take before it is abandoned (plus the overrun margin).
    private func runTimeout(of kind: String) -> Duration {
        self.configuration.runTimeouts[kind] ?? self.configuration.defaultRunTimeout
    }

    private func execute(_ tracked: Tracked) async {
        let job = tracked.job
        let context = tracked.context
        let logger = context.logger
        let handlers = self.handlers
        let result = await tracked.task.run(cancellationWait: self.configuration.cancellationWait) {
            await handlers.run(job, context: context)
        }
        let resolved: JobAck.Outcome
        if Task.isCancelled {
            // Handed back unfinished, without spending an attempt. If the handler could not tell whether its
            // request reached the far side, or did not end when cancelled (a call of its may still be out), that
            // stays on the job so that the next run settles it first.
            if let error = result?.0.error, error.code == JobError.outcomeUnknownCode {
                resolved = JobAck.Outcome(name: "released", error: error, delay: nil)
            } else if result == nil {
                resolved = JobAck.Outcome(
                    name: "released",
                    error: JobError(
                        code: JobError.outcomeUnknownCode,
                        message: "the worker shut down while the job's handler did not end; whether its last call reached the gateway is unknown"),
                    delay: nil)
            } else {
                resolved = .released
            }
        } else if let (outcome, policy) = result {
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
        } else {
            // Abandoned by the overrun watch, which has acknowledged it already.
            return
        }
        let ack = JobAck(
            jobID: job.id, leaseToken: job.leaseToken, outcome: resolved, startedAt: tracked.startedAt, exchanges: context.exchanges,
            settlement: context.settlement, result: resolved.name == "succeeded" ? context.result : nil)
        let accepted = self.state.withLock { state -> Bool in
            guard state.tracked[job.leaseToken]?.finished == false else { return false }
            state.tracked[job.leaseToken]?.finished = true
            state.pendingAcks.append(ack)
            state.running -= 1
            return true
        }
        guard accepted else {
            logger.warning("An abandoned job's handler ended late; its result is dropped", metadata: ["job.outcome": "\(resolved.name)"])
            return
        }
        self.metrics.finished(job, outcome: resolved)
        self.ackWakeup.yield()
    }

    /// Abandons the jobs whose run overran their kind's run timeout plus the margin: their leases are no longer
    /// renewed, each is acknowledged as a retry whose outcome is unknown (a call of its may have reached the
    /// gateway, so the next run settles that first), and its handler is cancelled.
    private func overrunLoop() async {
        while !Task.isCancelled {
            do { try await Task.sleep(for: self.configuration.overrunCheckInterval) } catch { return }
            let now = ContinuousClock.now
            let overran = self.state.withLock { state -> [Tracked] in
                let overran = state.tracked.values.filter { !$0.finished && now >= $0.overrunAt }
                for tracked in overran {
                    state.tracked[tracked.job.leaseToken] = nil
                    state.running -= 1
                    let error = JobError(
                        code: JobError.outcomeUnknownCode,
                        message:
                            "the job's run overran its kind's run timeout and was abandoned; whether its last call reached the gateway is unknown")
                    state.pendingAcks.append(
                        JobAck(
                            jobID: tracked.job.id, leaseToken: tracked.job.leaseToken,
                            outcome: JobAck.Outcome(name: "retry", error: error, delay: self.configuration.overrunRetryDelay),
                            startedAt: tracked.startedAt, exchanges: tracked.context.exchanges,
                            // Its last call may have reached the gateway: settle that before anything is sent again.
                            settlement: .unsettled))
                }
                return overran
            }
            guard !overran.isEmpty else { continue }
            for tracked in overran {
                tracked.task.abandon()
                self.metrics.abandoned(tracked.job)
                tracked.context.logger.error(
                    "Job overran its run timeout; abandoned, its lease no longer renewed, handed back",
                    metadata: ["job.run_timeout_s": "\(self.runTimeout(of: tracked.job.kind).inSeconds)"])
            }
            self.ackWakeup.yield()
            self.claimWakeup.yield()
        }
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
        let (queue, workerID) = (self.queue, self.workerID)
        var written = false
        while true {
            do {
                let accepted = try await self.database("ack batch") { try await queue.acknowledge(batch, workerID: workerID) }
                self.metrics.acknowledged(batch.count, accepted: accepted.count)
                written = true
                break
            } catch {
                self.logger.error(
                    "Ack failed; retrying",
                    metadata: [
                        "error": "\(QueueError.describe(error))", "acks.count": "\(batch.count)",
                    ])
                // Shutting down: retry only until the flush deadline. The leases of acks not written then expire
                // and the rescuer puts the jobs back (an attempt is counted for them, none is lost).
                if let deadline = self.state.withLock({ $0.flushDeadline }), ContinuousClock.now + delay >= deadline {
                    break
                }
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(5))
            }
        }
        if !written {
            self.logger.error(
                "Could not write acks before exiting; their leases expire and the rescuer puts the jobs back",
                metadata: ["acks.count": "\(batch.count)"])
            self.metrics.acknowledged(batch.count, accepted: 0)
        }
        self.state.withLock {
            $0.inHand -= batch.count
            if written { $0.finished += batch.count }
            for ack in batch { $0.tracked[ack.leaseToken] = nil }
        }
        self.claimWakeup.yield()
    }

    // MARK: Database calls

    /// Runs one of this worker's database calls within ``Worker/Configuration/databaseTimeout`` (see
    /// ``DatabaseDeadline``), and keeps count: calls that keep failing are logged, counted in metrics and
    /// written to the worker's `tuku.workers` row with the next heartbeat that gets through.
    private func database<Result: Sendable>(
        _ operation: String, _ body: @escaping @Sendable () async throws -> Result
    ) async throws -> Result {
        do {
            let result = try await DatabaseDeadline.run(operation, timeout: self.configuration.databaseTimeout, body)
            self.databaseSucceeded()
            return result
        } catch {
            if !(error is CancellationError) { self.databaseFailed(operation, error) }
            throw error
        }
    }

    private func databaseSucceeded() {
        let recovered = self.state.withLock { state -> Date? in
            guard state.database.consecutiveFailures > 0 else { return nil }
            let since = state.database.report.failingSince
            state.database.consecutiveFailures = 0
            state.database.firstFailureAt = nil
            state.database.report.failingSince = nil
            state.database.lastLoggedAt = nil
            return since
        }
        if let recovered {
            self.metrics.databaseFailing(false)
            self.logger.notice(
                "Database calls succeed again",
                metadata: ["database.failing_for_s": "\(Int(Date().timeIntervalSince(recovered).rounded()))"])
        }
    }

    private func databaseFailed(_ operation: String, _ error: any Error) {
        let now = Date()
        let description = QueueError.describe(error)
        let (log, failures, since) = self.state.withLock { state -> (Bool, Int, Date?) in
            state.database.report.errors += 1
            state.database.report.lastErrorAt = now
            state.database.report.lastError = String(description.prefix(500))
            state.database.consecutiveFailures += 1
            if state.database.firstFailureAt == nil { state.database.firstFailureAt = now }
            guard state.database.consecutiveFailures >= Self.failingAfter else { return (false, 0, nil) }
            state.database.report.failingSince = state.database.firstFailureAt
            let clock = ContinuousClock.now
            if let last = state.database.lastLoggedAt, clock - last < self.configuration.databaseFailureLogInterval {
                return (false, 0, nil)
            }
            state.database.lastLoggedAt = clock
            return (true, state.database.consecutiveFailures, state.database.firstFailureAt)
        }
        self.metrics.databaseError(operation: operation)
        if log {
            self.metrics.databaseFailing(true)
            self.logger.error(
                "Database calls keep failing",
                metadata: [
                    "database.failures_in_a_row": "\(failures)",
                    "database.failing_since": "\(since.map { ISO8601DateFormatter().string(from: $0) } ?? "")",
                    "database.operation": "\(operation)", "error": "\(description)",
                ])
        }
    }

    // MARK: Background loops

    private func heartbeatLoop() async {
        let (queue, workerID, lease) = (self.queue, self.workerID, self.configuration.lease)
        while !Task.isCancelled {
            do {
                // Only the jobs still progressing: an abandoned job's lease runs out (unless its ack lands first).
                let (tokens, health) = self.state.withLock { (Array($0.tracked.keys), $0.database.report) }
                _ = try await self.database("heartbeat") {
                    try await queue.heartbeat(workerID: workerID, lease: lease, leaseTokens: tokens, health: health)
                }
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
                let (queue, lostAfter) = (self.queue, self.configuration.workerLostAfter)
                let rescued = try await self.database("rescue") { try await queue.rescueExpiredLeases(workerLostAfter: lostAfter) }
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
                    let queue = self.queue
                    let batch = try await self.database("retention sweep") { try await queue.sweepRetention() }
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
