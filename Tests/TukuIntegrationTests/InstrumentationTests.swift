import Foundation
import Logging
import Metrics
import MetricsTestKit
import PostgresNIO
import Synchronization
import Testing
import TukuCore
import TukuPostgres
import TukuTestSupport
import TukuWorker

/// The swift-metrics calls of a real worker and rate limiter against PostgreSQL, read back through a task-local
/// `TestMetrics` factory (no global bootstrap, so suites can run in parallel).
@Suite("Worker and pacing metrics against PostgreSQL")
struct InstrumentationTests {
    final class ThrottledOnce: Sendable {
        let ids = Mutex<Set<Int64>>([])
    }

    /// Runs each job as its payload's `then` says: `succeed`, `reject`, `retry` (after 100 ms), or `throttle` once
    /// and then succeed.
    static func scriptedHandlers() -> HandlerRegistry {
        let throttledOnce = ThrottledOnce()
        var handlers = HandlerRegistry()
        handlers.register(kind: "scripted", retryPolicy: RetryPolicy()) { job, _ in
            let error = JobError(code: "scripted", message: "as the payload says")
            if job.payload.contains("reject") { return .rejected(error) }
            if job.payload.contains("retry") { return .retry(after: .milliseconds(100), error: error) }
            if job.payload.contains("throttle"), throttledOnce.ids.withLock({ $0.insert(job.id).inserted }) {
                return .throttled(after: .milliseconds(100), error: error)
            }
            return .succeeded
        }
        handlers.register(NoopHandler())
        return handlers
    }

    @Test("a worker counts claims and finished runs by kind and outcome, and its jobs-in-hand gauge returns to zero")
    func workerCounts() async throws {
        let metrics = TestMetrics()
        try await TestDatabase.withFresh { client, _ in
            try await client.execute(
                """
                SELECT tuku.enqueue('scripted', 'acme', p::jsonb, max_attempts => 2)
                FROM unnest(ARRAY['{"then":"succeed"}', '{"then":"succeed"}', '{"then":"reject"}', '{"then":"retry"}',
                                  '{"then":"throttle"}']) AS p
                """)
            try await withMetricsFactory(metrics) {
                try await WorkerHarness.withWorker(client: client, handlers: Self.scriptedHandlers()) { _ in
                    try await client.waitUntil("SELECT count(*) = 5 FROM tuku.jobs WHERE finished_at IS NOT NULL", timeout: .seconds(30))
                }
            }
            // succeed ×2, reject, retry then dead (max_attempts 2), throttle then succeed: 7 runs.
            #expect(try await client.scalar("SELECT count(*)::int8 FROM tuku.attempts", as: Int64.self) == 7)
        }
        func finished(_ outcome: String) -> Int64 {
            metrics.counterTotal(label: WorkerMetrics.jobsFinished, dimensions: [("kind", "scripted"), ("outcome", outcome)])
        }
        #expect(metrics.counterTotal(label: WorkerMetrics.jobsClaimed, dimensions: [("kind", "scripted")]) == 7)
        #expect(finished("succeeded") == 3)
        #expect(finished("rejected") == 1)
        #expect(finished("retry") == 1)
        #expect(finished("dead") == 1)
        #expect(finished("throttled") == 1)
        #expect(finished("released") == 0)
        // Created at zero for every kind the worker handles, though none ran.
        #expect(try metrics.expectCounter(WorkerMetrics.jobsClaimed, [("kind", "noop")]).totalValue == 0)
        #expect(try metrics.expectMeter(WorkerMetrics.jobsInHand).lastValue == 0)
        #expect(try metrics.expectGauge(WorkerMetrics.concurrency).lastValue == Double(WorkerHarness.fastConfiguration().concurrency))
        #expect(try metrics.expectTimer(WorkerMetrics.claimDuration).values.count >= 3)
        #expect(metrics.counterTotal(label: WorkerMetrics.leaseRescues) == 0)
    }

    @Test("the rescuer counts the jobs it puts back after their lease expired")
    func rescuesCounted() async throws {
        let metrics = TestMetrics()
        try await TestDatabase.withFresh { client, _ in
            let queue = JobQueue(client: client, logger: .test())
            try await client.execute("SELECT tuku.enqueue('noop', 'acme', '{}') FROM generate_series(1, 2)")
            let vanished = try await queue.registerWorker(host: "gone", pid: 1, version: "test", concurrency: 2)
            #expect(try await queue.claim(workerID: vanished, limit: 2, lease: .milliseconds(200)).count == 2)
            try await withMetricsFactory(metrics) {
                try await WorkerHarness.withWorker(client: client, handlers: Self.scriptedHandlers()) { _ in
                    try await client.waitUntil("SELECT count(*) = 2 FROM tuku.jobs WHERE state = 'succeeded'", timeout: .seconds(30))
                }
            }
        }
        #expect(metrics.counterTotal(label: WorkerMetrics.leaseRescues) == 2)
        #expect(metrics.counterTotal(label: WorkerMetrics.jobsFinished, dimensions: [("kind", "noop"), ("outcome", "succeeded")]) == 2)
    }

    @Test("the rate limiter times each wait for a slot by key, and counts the cool-downs it sets and honours")
    func pacing() async throws {
        let metrics = TestMetrics()
        try await TestDatabase.withFresh { client, _ in
            try await client.execute("SELECT tuku.set_rate('gw', 1)")
            try await withMetricsFactory(metrics) {
                let limiter = RateLimiter(client: client, logger: .test())
                // The first call takes two slots (1.05 s apart at 1/s), so the second waits about 2.1 s for its own.
                try await limiter.acquire(key: "gw", jobID: 1, workerID: nil)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await limiter.acquire(key: "gw", jobID: 2, workerID: nil) }
                    // While it waits, call 1 is refused with Retry-After 4 s: the cool-down outlasts its slot, so
                    // it reserves again, after the cool-down.
                    // (Once call 2 holds its reservation: a loaded machine can start the child task late.)
                    let reservedBy = ContinuousClock.now + .seconds(10)
                    while try await client.scalar("SELECT in_flight FROM tuku.rate_limit_status WHERE key = 'gw'", as: Int64.self) < 2,
                        ContinuousClock.now < reservedBy
                    {
                        try await Task.sleep(for: .milliseconds(20))
                    }
                    try await limiter.release(key: "gw", jobID: 1, httpStatus: 429, retryAfter: .seconds(4))
                    try await group.waitForAll()
                }
                try await limiter.release(key: "gw", jobID: 2, httpStatus: 503, retryAfter: nil)  // no Retry-After: no cool-down
                try await limiter.release(key: "gw", jobID: 2, httpStatus: 200, retryAfter: nil)
            }
        }
        let waits = try metrics.expectTimer(PacingMetrics.wait, [("key", "gw")]).values
        #expect(waits.count == 2)
        // At once, but for the database round trips, which a loaded machine stretches (the second waits over 3.5 s).
        #expect(waits[0] < 1_500_000_000, "the first call has its slot at once")
        #expect(waits[1] >= 3_500_000_000, "the second waits out the cool-down (\(waits[1]) ns)")
        #expect(metrics.counterTotal(label: PacingMetrics.cooldowns, dimensions: [("key", "gw"), ("event", "set")]) == 1)
        // At least once: its next slot falls at the cool-down's very end, and the check 15 ms before it still sees the
        // last 15 ms of the cool-down, so the limiter may reserve once more (counted again).
        #expect(metrics.counterTotal(label: PacingMetrics.cooldowns, dimensions: [("key", "gw"), ("event", "honoured")]) >= 1)
    }
}
