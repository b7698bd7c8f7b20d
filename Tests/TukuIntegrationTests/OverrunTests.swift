import Foundation
import Logging
import PostgresNIO
import Synchronization
import Testing
import TukuCore
import TukuPostgres
import TukuTestSupport
import TukuWorker

/// Handler runs that never end and ignore cancellation, released by the test when it is done with them.
private final class StuckCalls: Sendable {
    private let waiting = Mutex<[CheckedContinuation<Void, Never>]>([])
    private let entered = Atomic<Int>(0)

    var count: Int { self.entered.load(ordering: .relaxed) }

    /// Waits until ``releaseAll()``, whether or not the task is cancelled (as a call whose library awaits a future
    /// with no cancellation handler does).
    func wait() async {
        self.entered.add(1, ordering: .relaxed)
        await withCheckedContinuation { continuation in self.waiting.withLock { $0.append(continuation) } }
    }

    func releaseAll() {
        for continuation in self.waiting.withLock({ list in defer { list.removeAll() }; return list }) { continuation.resume() }
    }
}

@Suite("Runs that overrun their kind's timeout")
struct OverrunTests {
    @Test(
        "a run stuck past its kind's run timeout plus the margin is abandoned: its lease is no longer renewed, it is handed back as a retry whose outcome is unknown, and shutdown does not wait for it",
        .timeLimit(.minutes(2)))
    func stuckRunIsAbandoned() async throws {
        try await TestDatabase.withFresh { client, _ in
            let stuck = StuckCalls()
            defer { stuck.releaseAll() }
            var handlers = HandlerRegistry()
            handlers.register(kind: "stuck", retryPolicy: RetryPolicy()) { _, _ in
                await stuck.wait()
                return .succeeded
            }
            handlers.register(NoopHandler())
            var configuration = WorkerHarness.fastConfiguration()
            configuration.lease = .seconds(3)
            configuration.heartbeatInterval = .milliseconds(500)
            configuration.runTimeouts = ["stuck": .seconds(1)]
            configuration.overrunMargin = .seconds(1)
            configuration.overrunCheckInterval = .milliseconds(200)
            configuration.overrunRetryDelay = .seconds(3600)
            configuration.shutdownGracePeriod = .seconds(2)
            try await client.execute("SELECT tuku.enqueue('stuck', 'acme', '{}')")
            try await client.execute("SELECT tuku.enqueue('noop', 'acme', '{}') FROM generate_series(1, 5)")
            let started = ContinuousClock.now
            try await WorkerHarness.withWorker(client: client, handlers: handlers, configuration: configuration) { _ in
                try await client.waitUntil("SELECT count(*) = 5 FROM tuku.jobs WHERE kind = 'noop' AND state = 'succeeded'")
                try await client.waitUntil("SELECT state = 'retryable' FROM tuku.jobs WHERE kind = 'stuck'", timeout: .seconds(20))
                // Abandoned after its 1 s run timeout and 1 s margin, long before the 3 s lease would have run out
                // had heartbeats stopped for everything.
                #expect(ContinuousClock.now - started < .seconds(10))
                #expect(stuck.count == 1)
                #expect(try await client.scalar("SELECT last_error->>'code' FROM tuku.jobs WHERE kind = 'stuck'", as: String.self) == "outcome_unknown")
                #expect(
                    try await client.scalar(
                        "SELECT string_agg(a.outcome || '@' || a.attempt, ',') FROM tuku.attempts a JOIN tuku.jobs j ON j.id = a.job_id WHERE j.kind = 'stuck'",
                        as: String.self) == "retry@1")
                // Another stuck run, in hand when shutdown begins: the worker hands it back and stops all the same.
                try await client.execute("SELECT tuku.enqueue('stuck', 'acme', '{}')")
                try await client.waitUntil("SELECT count(*) = 1 FROM tuku.jobs WHERE kind = 'stuck' AND state = 'running'")
            }
            // Handed back either by shutdown (released) or, had the grace period outlasted its run timeout, by the
            // overrun watch (retry): either way with its outcome unknown (as the first one), and the worker stopped.
            #expect(stuck.count == 2)
            #expect(
                try await client.scalar(
                    "SELECT count(*)::int8 FROM tuku.jobs WHERE kind = 'stuck' AND state IN ('available', 'retryable') AND last_error->>'code' = 'outcome_unknown'",
                    as: Int64.self) == 2)
            #expect(try await client.scalar("SELECT count(*)::int8 FROM tuku.jobs WHERE state = 'running'", as: Int64.self) == 0)
        }
    }

    @Test("heartbeats extend only the leases they are given, and record the worker's database health")
    func heartbeatRenewsOnlyNamedLeases() async throws {
        try await TestDatabase.withFresh { client, _ in
            let queue = JobQueue(client: client, logger: .test())
            let worker = try await queue.registerWorker(host: "test", pid: 1, version: "test", concurrency: 3)
            try await client.execute("SELECT tuku.enqueue('noop', 'acme', '{}') FROM generate_series(1, 3)")
            let claimed = try await queue.claim(workerID: worker, limit: 3, lease: .seconds(1))
            #expect(claimed.count == 3)
            let health = JobQueue.DatabaseHealth(errors: 4, lastErrorAt: Date(), lastError: "database_timeout: test", failingSince: Date())
            let extended = try await queue.heartbeat(
                workerID: worker, lease: .seconds(60), leaseTokens: claimed.prefix(2).map(\.leaseToken), health: health)
            #expect(extended == 2)
            #expect(
                try await client.scalar(
                    "SELECT count(*)::int8 FROM tuku.jobs WHERE lease_expires_at > now() + interval '30 seconds'", as: Int64.self) == 2)
            #expect(
                try await client.scalar(
                    "SELECT database_errors = 4 AND database_failing_since IS NOT NULL AND database_error = 'database_timeout: test' FROM tuku.workers",
                    as: Bool.self))
            let lone = claimed[2]
            try await Task.sleep(for: .milliseconds(1200))
            #expect(try await queue.rescueExpiredLeases(workerLostAfter: .seconds(600)) == [lone.id])
        }
    }

    @Test(
        "a heartbeat skips a job whose row an ack holds locked instead of waiting for it (no deadlock with acks)",
        .timeLimit(.minutes(1)))
    func heartbeatSkipsLockedRows() async throws {
        try await TestDatabase.withFresh { client, _ in
            let queue = JobQueue(client: client, logger: .test())
            let worker = try await queue.registerWorker(host: "test", pid: 1, version: "test", concurrency: 3)
            try await client.execute("SELECT tuku.enqueue('noop', 'acme', '{}') FROM generate_series(1, 3)")
            let claimed = try await queue.claim(workerID: worker, limit: 3, lease: .seconds(30))
            let locked = claimed[1].id
            try await client.withTransaction(logger: .test()) { connection in
                // What an ack in flight holds: the job's row, locked for update until its transaction ends.
                try await connection.execute("SELECT id FROM tuku.jobs WHERE id = \(locked) FOR NO KEY UPDATE", logger: .test())
                let started = ContinuousClock.now
                let extended = try await queue.heartbeat(
                    workerID: worker, lease: .seconds(60), leaseTokens: claimed.map(\.leaseToken), health: .init())
                let legacy = try await queue.heartbeat(workerID: worker, lease: .seconds(60))
                #expect(extended == 2)
                #expect(legacy == 2)
                // Before the fix the heartbeat waited for the lock: here until the time limit (this transaction ends after it).
                #expect(ContinuousClock.now - started < .seconds(10))
            }
            #expect(
                try await client.scalar(
                    "SELECT count(*)::int8 FROM tuku.jobs WHERE lease_expires_at > now() + interval '45 seconds' AND id <> \(locked)",
                    as: Int64.self) == 2)
        }
    }
}
