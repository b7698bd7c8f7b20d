import Foundation
import Logging
import PostgresNIO
import Synchronization
import Testing
import TukuCore
import TukuPostgres
import TukuTestSupport
import TukuWorker

/// A handler that fails every attempt, to drive backoff and dead-lettering.
struct AlwaysFailingHandler: JobHandler {
    struct Payload: Decodable, Sendable {}
    let kind = "test.fail"
    let retryPolicy = RetryPolicy(base: .milliseconds(200), cap: .seconds(2), jitter: 0)

    func run(_ payload: Payload, job: ClaimedJob, context: JobContext) async throws -> JobOutcome {
        .retry(after: nil, error: JobError(code: "gateway_unavailable", message: "attempt \(job.attempt) failed"))
    }
}

/// A handler that throws, to show that an unclassified error is retried, never lost.
struct ThrowingHandler: JobHandler {
    struct Payload: Decodable, Sendable {}
    struct Boom: Error {}
    let kind = "test.throw"
    let retryPolicy = RetryPolicy(base: .milliseconds(100), cap: .milliseconds(100), jitter: 0)

    func run(_ payload: Payload, job: ClaimedJob, context: JobContext) async throws -> JobOutcome {
        throw Boom()
    }
}

@Suite("Worker service against PostgreSQL")
struct WorkerTests {
    var handlers: HandlerRegistry {
        var registry = HandlerRegistry()
        registry.register(NoopHandler())
        registry.register(AlwaysFailingHandler())
        registry.register(ThrowingHandler())
        return registry
    }

    @Test("failing jobs back off exponentially and end dead after max_attempts, every attempt recorded")
    func backoffAndDeadLetter() async throws {
        try await TestDatabase.withFresh { client, _ in
            try await client.execute("SELECT tuku.enqueue('test.fail', 'acme', '{}', max_attempts => 4)")
            try await client.execute("SELECT tuku.enqueue('test.throw', 'acme', '{}', max_attempts => 2)")
            try await WorkerHarness.withWorker(client: client, handlers: self.handlers) { _ in
                try await client.waitUntil("SELECT count(*) = 2 FROM tuku.jobs WHERE state = 'dead'", timeout: .seconds(30))
            }
            let attempts = try await client.scalar(
                "SELECT string_agg(a.attempt || ':' || outcome || '>' || resulting_state, ',' ORDER BY a.id) FROM tuku.attempts a JOIN tuku.jobs j ON j.id = a.job_id WHERE j.kind = 'test.fail'",
                as: String.self)
            #expect(attempts == "1:retry>retryable,2:retry>retryable,3:retry>retryable,4:retry>dead")
            // Each retry is scheduled by the policy, exactly (no jitter): 0.2 s, 0.4 s, 0.8 s after the run's ack. The
            // next run starts no earlier than that, and is picked up soon after; how soon depends on the machine's load,
            // so the upper bound is loose and the policy itself is read from retry_at.
            let scheduled = try await client.scalar(
                """
                SELECT array_agg(extract(epoch FROM a.retry_at - a.finished_at)::float8 ORDER BY a.id)
                FROM tuku.attempts a JOIN tuku.jobs j ON j.id = a.job_id WHERE j.kind = 'test.fail' AND a.retry_at IS NOT NULL
                """, as: [Double].self)
            let pickedUp = try await client.scalar(
                """
                SELECT array_agg(gap ORDER BY id) FROM (
                    SELECT a.id, extract(epoch FROM lead(a.started_at) OVER (ORDER BY a.id) - a.retry_at)::float8 AS gap
                    FROM tuku.attempts a JOIN tuku.jobs j ON j.id = a.job_id WHERE j.kind = 'test.fail'
                ) gaps WHERE gap IS NOT NULL
                """, as: [Double].self)
            #expect(scheduled.count == 3, "the last run ended dead, with no retry scheduled")
            #expect(pickedUp.count == 3)
            for (delay, expected) in zip(scheduled, [0.2, 0.4, 0.8]) {
                #expect(abs(delay - expected) < 0.005, "retry scheduled \(delay) s after the ack; the policy says \(expected) s")
            }
            for gap in pickedUp {
                #expect(gap >= -0.02 && gap < 10, "the next run started \(gap) s after its retry_at")
            }
            let thrown = try await client.scalar("SELECT last_error->>'code' FROM tuku.jobs WHERE kind = 'test.throw'", as: String.self)
            #expect(thrown == "handler_error")
        }
    }

    @Test("bad payloads and unknown kinds end rejected with a reason while the good jobs around them succeed")
    func rejectsBadRowsKeepsGoing() async throws {
        try await TestDatabase.withFresh { client, _ in
            try await client.execute(
                """
                INSERT INTO tuku.jobs (kind, tenant, payload)
                SELECT CASE WHEN i % 10 = 3 THEN 'ird.unknown' ELSE 'noop' END, 'acme',
                       CASE WHEN i % 10 = 7 THEN '{"delay_ms": "soon"}'::jsonb ELSE '{}'::jsonb END
                FROM generate_series(1, 200) i
                """)
            try await WorkerHarness.withWorker(client: client, handlers: self.handlers) { _ in
                try await client.waitUntil("SELECT count(*) = 200 FROM tuku.jobs WHERE finished_at IS NOT NULL")
            }
            #expect(try await client.scalar("SELECT count(*)::int8 FROM tuku.jobs WHERE state = 'succeeded'", as: Int64.self) == 160)
            #expect(
                try await client.scalar(
                    "SELECT count(*)::int8 FROM tuku.jobs WHERE state = 'rejected' AND last_error->>'code' = 'unknown_kind'", as: Int64.self
                ) == 20)
            #expect(
                try await client.scalar(
                    "SELECT count(*)::int8 FROM tuku.jobs WHERE state = 'rejected' AND last_error->>'code' = 'payload_undecodable' AND last_error->'problems'->0->>'path' = 'delay_ms'",
                    as: Int64.self) == 20)
            #expect(try await client.scalar("SELECT count(*)::int8 FROM tuku.attempts", as: Int64.self) == 200)
        }
    }

    @Test("an idle worker picks up a new job within milliseconds, woken by NOTIFY rather than the poll")
    func notifyWakesWorker() async throws {
        try await TestDatabase.withFresh { client, _ in
            var configuration = WorkerHarness.fastConfiguration()
            configuration.pollInterval = .seconds(30)
            try await WorkerHarness.withWorker(client: client, handlers: self.handlers, configuration: configuration) { _ in
                try await Task.sleep(for: .milliseconds(300))  // let the LISTEN connection settle
                try await client.execute("SELECT tuku.enqueue('noop', 'acme', '{}')")
                try await client.waitUntil("SELECT count(*) = 1 FROM tuku.jobs WHERE state = 'succeeded'", timeout: .seconds(5))
            }
        }
    }
}

/// A handler whose call is cut off by shutdown after the request may have gone out.
struct CutOffHandler: JobHandler {
    struct Payload: Decodable, Sendable {}
    let kind = "test.cutoff"

    func run(_ payload: Payload, job: ClaimedJob, context: JobContext) async throws -> JobOutcome {
        try? await Task.sleep(for: .seconds(60))
        return .retry(after: nil, error: JobError(code: JobError.outcomeUnknownCode, message: "the call was cut off after sending"))
    }
}

@Suite("Shutdown during an ambiguous call")
struct ShutdownAmbiguityTests {
    @Test("a call cut off by shutdown is released without spending an attempt, keeping outcome_unknown so the next run reconciles")
    func keepsOutcomeUnknown() async throws {
        try await TestDatabase.withFresh { client, _ in
            try await client.execute("SELECT tuku.enqueue('test.cutoff', 'acme', '{}')")
            var handlers = HandlerRegistry()
            handlers.register(CutOffHandler())
            var configuration = WorkerHarness.fastConfiguration()
            configuration.shutdownGracePeriod = .milliseconds(300)
            try await WorkerHarness.withWorker(client: client, handlers: handlers, configuration: configuration) { _ in
                try await client.waitUntil("SELECT state = 'running' FROM tuku.jobs")
            }
            #expect(try await client.scalar(
                "SELECT state || ':' || attempt || ':' || (last_error->>'code') FROM tuku.jobs", as: String.self) == "available:0:outcome_unknown")
            #expect(try await client.scalar("SELECT outcome FROM tuku.attempts", as: String.self) == "released")
        }
    }
}
