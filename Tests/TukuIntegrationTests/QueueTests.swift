import Foundation
import Logging
import PostgresNIO
import Synchronization
import Testing
import TukuCore
import TukuPostgres
import TukuTestSupport

@Suite("Queue driver against PostgreSQL")
struct QueueTests {
    let logger = Logger.test()

    func lines(_ count: Int, kind: String = "noop", payload: String = "{}") -> [JobLine] {
        (0..<count).map { index in
            try! JobLine.parse(#"{"kind":"\#(kind)","tenant":"t\#(index % 5)","payload":\#(payload)}"#)
        }
    }

    func ack(_ job: ClaimedJob, _ outcome: JobOutcome) -> JobAck {
        JobAck(
            jobID: job.id, leaseToken: job.leaseToken, outcome: .init(outcome, attempt: job.attempt, policy: RetryPolicy()),
            startedAt: Date())
    }

    @Test("8 concurrent claimers over 10,000 jobs claim each exactly once")
    func concurrentClaimers() async throws {
        try await TestDatabase.withFresh { client, _ in
            let queue = JobQueue(client: client, logger: self.logger)
            for chunk in stride(from: 0, to: 10_000, by: 1000) {
                _ = chunk
                let result = try await queue.enqueue(self.lines(1000))
                #expect(result.inserted == 1000)
            }
            let claimedIDs = try await withThrowingTaskGroup(of: [Int64].self) { group in
                for claimer in 0..<8 {
                    group.addTask {
                        let workerID = try await queue.registerWorker(host: "test", pid: claimer, version: "test", concurrency: 1)
                        var mine: [Int64] = []
                        while true {
                            let jobs = try await queue.claim(workerID: workerID, limit: 37, lease: .seconds(60))
                            if jobs.isEmpty { break }
                            mine += jobs.map(\.id)
                            let accepted = try await queue.acknowledge(jobs.map { self.ack($0, .succeeded) }, workerID: workerID)
                            #expect(accepted.count == jobs.count)
                        }
                        return mine
                    }
                }
                return try await group.reduce(into: [Int64]()) { $0 += $1 }
            }
            #expect(claimedIDs.count == 10_000)
            #expect(Set(claimedIDs).count == 10_000)
            #expect(
                try await client.scalar("SELECT count(*)::int8 FROM tuku.jobs WHERE state = 'succeeded' AND attempt = 1", as: Int64.self)
                    == 10_000)
            #expect(try await client.scalar("SELECT count(DISTINCT job_id)::int8 FROM tuku.attempts", as: Int64.self) == 10_000)
            #expect(try await client.scalar("SELECT count(*)::int8 FROM tuku.attempts", as: Int64.self) == 10_000)
        }
    }

    @Test("a stale worker's ack is refused after its lease expired and another worker took the job")
    func fencedAcks() async throws {
        try await TestDatabase.withFresh { client, _ in
            let queue = JobQueue(client: client, logger: self.logger)
            _ = try await queue.enqueue(self.lines(1))
            let stale = try await queue.registerWorker(host: "a", pid: 1, version: "test", concurrency: 1)
            let fresh = try await queue.registerWorker(host: "b", pid: 2, version: "test", concurrency: 1)
            let first = try #require(try await queue.claim(workerID: stale, limit: 1, lease: .milliseconds(200)).first)
            try await Task.sleep(for: .milliseconds(400))

            let rescued = try await queue.rescueExpiredLeases(workerLostAfter: .seconds(3600))
            #expect(rescued == [first.id])
            #expect(try await client.scalar("SELECT state FROM tuku.jobs WHERE id = \(first.id)", as: String.self) == "retryable")
            #expect(
                try await client.scalar("SELECT last_error->>'code' FROM tuku.jobs WHERE id = \(first.id)", as: String.self)
                    == "lease_expired")

            let second = try #require(try await queue.claim(workerID: fresh, limit: 1, lease: .seconds(60)).first)
            #expect(second.id == first.id)
            #expect(second.attempt == 2)
            #expect(second.leaseToken != first.leaseToken)

            // The stale worker wakes up and reports failure: refused, the job stays with the new owner.
            let refused = try await queue.acknowledge(
                [self.ack(first, .rejected(JobError(code: "late", message: "too late")))], workerID: stale)
            #expect(refused.isEmpty)
            #expect(try await client.scalar("SELECT state FROM tuku.jobs WHERE id = \(first.id)", as: String.self) == "running")
            #expect(try await client.scalar("SELECT lease_owner FROM tuku.jobs WHERE id = \(first.id)", as: Int64.self) == fresh)

            let accepted = try await queue.acknowledge([self.ack(second, .succeeded)], workerID: fresh)
            #expect(accepted == [first.id])
            #expect(try await client.scalar("SELECT state FROM tuku.jobs WHERE id = \(first.id)", as: String.self) == "succeeded")
            let outcomes = try await client.scalar(
                "SELECT string_agg(outcome || '@' || attempt || '/' || worker_id, ',' ORDER BY id) FROM tuku.attempts WHERE job_id = \(first.id)",
                as: String.self)
            #expect(outcomes == "lease_expired@1/\(stale),succeeded@2/\(fresh)")
        }
    }

    @Test("a job whose lease expires on its last attempt is dead, not retried")
    func rescueOnLastAttempt() async throws {
        try await TestDatabase.withFresh { client, _ in
            let queue = JobQueue(client: client, logger: self.logger)
            _ = try await queue.enqueue([try JobLine.parse(#"{"kind":"noop","tenant":"t","payload":{},"max_attempts":1}"#)])
            let worker = try await queue.registerWorker(host: "a", pid: 1, version: "test", concurrency: 1)
            _ = try await queue.claim(workerID: worker, limit: 1, lease: .milliseconds(100))
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await queue.rescueExpiredLeases(workerLostAfter: .milliseconds(100)).count == 1)
            #expect(try await client.scalar("SELECT state FROM tuku.jobs", as: String.self) == "dead")
            #expect(try await client.scalar("SELECT state FROM tuku.workers WHERE id = \(worker)", as: String.self) == "lost")
        }
    }

    @Test("heartbeats extend the leases of the jobs a worker holds, so the rescuer leaves them alone")
    func heartbeatsExtendLeases() async throws {
        try await TestDatabase.withFresh { client, _ in
            let queue = JobQueue(client: client, logger: self.logger)
            _ = try await queue.enqueue(self.lines(3))
            let worker = try await queue.registerWorker(host: "a", pid: 1, version: "test", concurrency: 3)
            // Six heartbeats 600 ms apart outlast the 2-second lease almost twice over; a loaded machine's late
            // sleep still lands well within a lease.
            _ = try await queue.claim(workerID: worker, limit: 3, lease: .seconds(2))
            for _ in 0..<6 {
                try await Task.sleep(for: .milliseconds(600))
                #expect(try await queue.heartbeat(workerID: worker, lease: .seconds(2)) == 3)
            }
            #expect(try await queue.rescueExpiredLeases(workerLostAfter: .seconds(60)).isEmpty)
            #expect(try await client.scalar("SELECT count(*)::int8 FROM tuku.jobs WHERE state = 'running'", as: Int64.self) == 3)
        }
    }

    @Test("the same idempotency key is one job, whether by tuku.enqueue(), plain INSERT or the bulk loader")
    func idempotentEnqueue() async throws {
        try await TestDatabase.withFresh { client, _ in
            let first = try await client.scalar("SELECT tuku.enqueue('noop', 'acme', '{\"n\":1}', 'payday-2026-11')", as: Int64.self)
            let again = try await client.scalar("SELECT tuku.enqueue('noop', 'acme', '{\"n\":2}', 'payday-2026-11')", as: Int64.self)
            #expect(first == again)
            try await client.execute(
                "INSERT INTO tuku.jobs (kind, tenant, payload, idempotency_key) VALUES ('noop', 'acme', '{}', 'payday-2026-11')")
            let queue = JobQueue(client: client, logger: self.logger)
            let bulk = try await queue.enqueue([
                try JobLine.parse(#"{"kind":"noop","tenant":"acme","payload":{},"idempotency_key":"payday-2026-11"}"#),
                try JobLine.parse(#"{"kind":"noop","tenant":"other","payload":{},"idempotency_key":"payday-2026-11"}"#),
                try JobLine.parse(#"{"kind":"noop","tenant":"other","payload":{},"idempotency_key":"payday-2026-11"}"#),
            ])
            #expect(bulk.inserted == 1 && bulk.duplicates == 2)
            #expect(try await client.scalar("SELECT count(*)::int8 FROM tuku.jobs WHERE tenant = 'acme'", as: Int64.self) == 1)
            #expect(try await client.scalar("SELECT payload->>'n' FROM tuku.jobs WHERE id = \(first)", as: String.self) == "1")
        }
    }

    @Test("plain INSERT takes the defaults, future run_at starts scheduled, and an insert notifies")
    func plainInsertDefaults() async throws {
        try await TestDatabase.withFresh { client, _ in
            let notified = try await client.withConnection { listener in
                try await listener.listen(on: JobQueue.notificationChannel) { notifications in
                    try await client.execute("INSERT INTO tuku.jobs (kind, tenant, payload) VALUES ('noop', 'acme', '{}')")
                    try await client.execute(
                        "INSERT INTO tuku.jobs (kind, tenant, payload, run_at) VALUES ('noop', 'acme', '{}', now() + interval '1 hour')")
                    var iterator = notifications.makeAsyncIterator()
                    return try await iterator.next() != nil
                }
            }
            #expect(notified)
            let states = try await client.scalar(
                "SELECT string_agg(state || ':' || priority || ':' || max_attempts, ',' ORDER BY id) FROM tuku.jobs", as: String.self)
            #expect(states == "available:100:10,scheduled:100:10")
            await #expect(throws: (any Error).self) {
                try await client.execute("INSERT INTO tuku.jobs (kind, tenant, payload, state) VALUES ('noop', 'acme', '{}', 'succeeded')")
            }
            await #expect(throws: (any Error).self) {
                try await client.execute("INSERT INTO tuku.jobs (kind, tenant, payload) VALUES ('noop', 'acme', '[1]')")
            }
        }
    }

    @Test("scheduled jobs are not claimed before run_at; priority orders the claim")
    func claimOrder() async throws {
        try await TestDatabase.withFresh { client, _ in
            let queue = JobQueue(client: client, logger: self.logger)
            _ = try await queue.enqueue([
                try JobLine.parse(#"{"kind":"noop","tenant":"t","payload":{"n":"late"},"priority":1,"run_at":"2999-01-01T00:00:00Z"}"#),
                try JobLine.parse(#"{"kind":"noop","tenant":"t","payload":{"n":"low"},"priority":500}"#),
                try JobLine.parse(#"{"kind":"noop","tenant":"t","payload":{"n":"high"},"priority":2}"#),
            ])
            let worker = try await queue.registerWorker(host: "a", pid: 1, version: "test", concurrency: 1)
            let first = try await queue.claim(workerID: worker, limit: 1, lease: .seconds(30))
            #expect(first.first?.payload.contains("high") == true)
            let rest = try await queue.claim(workerID: worker, limit: 10, lease: .seconds(30))
            #expect(rest.map(\.payload).contains { $0.contains("low") } && rest.count == 1)
        }
    }

    @Test("throttled runs cost no attempt; retries count until the job is dead")
    func throttledAndDead() async throws {
        try await TestDatabase.withFresh { client, _ in
            let queue = JobQueue(client: client, logger: self.logger)
            _ = try await queue.enqueue([try JobLine.parse(#"{"kind":"noop","tenant":"t","payload":{},"max_attempts":2}"#)])
            let worker = try await queue.registerWorker(host: "a", pid: 1, version: "test", concurrency: 1)
            let error = JobError(code: "gateway", message: "try later")
            var job = try #require(try await queue.claim(workerID: worker, limit: 1, lease: .seconds(30)).first)
            _ = try await queue.acknowledge([self.ack(job, .throttled(after: .zero, error: error))], workerID: worker)
            #expect(try await client.scalar("SELECT attempt FROM tuku.jobs", as: Int32.self) == 0)
            job = try #require(try await queue.claim(workerID: worker, limit: 1, lease: .seconds(30)).first)
            #expect(job.attempt == 1)
            _ = try await queue.acknowledge([self.ack(job, .retry(after: .zero, error: error))], workerID: worker)
            #expect(try await client.scalar("SELECT state FROM tuku.jobs", as: String.self) == "retryable")
            job = try #require(try await queue.claim(workerID: worker, limit: 1, lease: .seconds(30)).first)
            #expect(job.attempt == 2)
            _ = try await queue.acknowledge([self.ack(job, .retry(after: .zero, error: error))], workerID: worker)
            #expect(
                try await client.scalar(
                    "SELECT state || ':' || attempt || ':' || (finished_at IS NOT NULL) FROM tuku.jobs", as: String.self) == "dead:2:true")
            let outcomes = try await client.scalar(
                "SELECT string_agg(outcome || '>' || resulting_state, ',' ORDER BY id) FROM tuku.attempts", as: String.self)
            #expect(outcomes == "throttled>available,retry>retryable,retry>dead")
        }
    }

    @Test("operators retry and cancel with SQL functions; succeeded and running jobs are protected")
    func operatorFunctions() async throws {
        try await TestDatabase.withFresh { client, _ in
            let queue = JobQueue(client: client, logger: self.logger)
            _ = try await queue.enqueue(self.lines(4))
            let worker = try await queue.registerWorker(host: "a", pid: 1, version: "test", concurrency: 2)
            let held = try await queue.claim(workerID: worker, limit: 2, lease: .seconds(30))
            _ = try await queue.acknowledge([self.ack(held[0], .succeeded)], workerID: worker)
            let running = held[1]

            await #expect(throws: (any Error).self) { try await client.execute("SELECT tuku.retry(\(held[0].id))") }
            await #expect(throws: (any Error).self) { try await client.execute("SELECT tuku.retry(\(running.id))") }
            await #expect(throws: (any Error).self) { try await client.execute("SELECT tuku.cancel(999999)") }

            // Cancelling a running job waits for its worker: a failure then ends it cancelled, not retryable.
            #expect(try await client.scalar("SELECT tuku.cancel(\(running.id))", as: String.self) == "running")
            _ = try await queue.acknowledge(
                [self.ack(running, .retry(after: .zero, error: JobError(code: "x", message: "y")))], workerID: worker)
            #expect(try await client.scalar("SELECT state FROM tuku.jobs WHERE id = \(running.id)", as: String.self) == "cancelled")

            #expect(try await client.scalar("SELECT tuku.cancel_jobs(state => 'available')", as: Int32.self) == 2)
            #expect(try await client.scalar("SELECT tuku.retry_jobs(state => 'cancelled')", as: Int32.self) == 3)
            #expect(
                try await client.scalar(
                    "SELECT count(*)::int8 FROM tuku.jobs WHERE state = 'available' AND finished_at IS NULL", as: Int64.self) == 3)
            await #expect(throws: (any Error).self) { try await client.execute("SELECT tuku.cancel_jobs()") }
        }
    }

    @Test("operators retry or cancel by the last error's code (a LIKE pattern), leaving jobs that failed otherwise alone")
    func filtersByErrorCode() async throws {
        try await TestDatabase.withFresh { client, _ in
            let queue = JobQueue(client: client, logger: self.logger)
            _ = try await queue.enqueue(self.lines(5))
            let worker = try await queue.registerWorker(host: "a", pid: 1, version: "test", concurrency: 5)
            let held = try await queue.claim(workerID: worker, limit: 5, lease: .seconds(30)).sorted { $0.id < $1.id }
            let codes = ["auth_missing", "auth_refresh_failed", "gateway_rejected", "payload_invalid", "gateway_retry"]
            _ = try await queue.acknowledge(
                zip(held, codes).map { job, code in
                    code == "gateway_retry"
                        ? self.ack(job, .retry(after: .seconds(3600), error: JobError(code: code, message: "later")))
                        : self.ack(job, .rejected(JobError(code: code, message: "no")))
                }, workerID: worker)

            // Rejected for a token problem: both auth_ codes, not the payload or IRD's refusal.
            #expect(try await client.scalar("SELECT tuku.retry_jobs('rejected', error_code => 'auth\\_%')", as: Int32.self) == 2)
            #expect(
                try await client.scalar(
                    "SELECT string_agg(last_error->>'code', ',' ORDER BY id) FROM tuku.jobs WHERE state = 'available'", as: String.self)
                    == "auth_missing,auth_refresh_failed")
            #expect(try await client.scalar("SELECT tuku.retry_jobs('rejected', error_code => 'no_such_code')", as: Int32.self) == 0)
            // Cancel takes the filter alone.
            #expect(try await client.scalar("SELECT tuku.cancel_jobs(error_code => 'gateway_retry')", as: Int32.self) == 1)
            #expect(
                try await client.scalar(
                    "SELECT string_agg(state, ',' ORDER BY id) FROM tuku.jobs", as: String.self)
                    == "available,available,rejected,rejected,cancelled")
        }
    }
}

@Suite("Exchanges stored with acks")
struct ExchangeStorageTests {
    @Test("every recorded HTTP exchange is stored with its attempt, NULLs kept as NULLs, and a refused ack stores none")
    func exchangesPersisted() async throws {
        try await TestDatabase.withFresh { client, _ in
            let queue = JobQueue(client: client, logger: .test())
            _ = try await queue.enqueue([try JobLine.parse(#"{"kind":"ird.ei.file","tenant":"acme","payload":{}}"#)])
            let worker = try await queue.registerWorker(host: "a", pid: 1, version: "test", concurrency: 1)
            let job = try #require(try await queue.claim(workerID: worker, limit: 1, lease: .seconds(30)).first)
            let reconcile = ExchangeRecord(
                purpose: .reconcile, endpoint: "https://gw.example/gateway/GWS/Returns", action: "RetrieveStatus",
                startedAt: Date(), latency: .milliseconds(12), httpStatus: nil, transportError: "timed_out_after_send",
                outcome: "outcome_unknown", requestBody: "<env/>", responseBody: nil)
            let submit = ExchangeRecord(
                purpose: .submit, endpoint: "https://gw.example/gateway/GWS/Returns", action: "File",
                startedAt: Date(), latency: .milliseconds(40), httpStatus: 200, transportError: nil,
                statuses: [.init(code: 0, message: "Success")], gatewayID: "GW-1", submissionKey: 987_654,
                outcome: "succeeded", requestBody: "<env>File</env>", responseBody: "")
            let ack = JobAck(
                jobID: job.id, leaseToken: job.leaseToken, outcome: .init(.succeeded, attempt: 1, policy: RetryPolicy()),
                startedAt: Date(), exchanges: [reconcile, submit])
            // A stale copy of the ack (wrong token) is refused and stores nothing.
            var stale = ack
            stale.leaseToken += 1_000
            #expect(try await queue.acknowledge([stale], workerID: worker).isEmpty)
            #expect(try await client.scalar("SELECT count(*)::int8 FROM tuku.exchanges", as: Int64.self) == 0)

            #expect(try await queue.acknowledge([ack], workerID: worker) == [job.id])
            let rows = try await client.scalar(
                """
                SELECT string_agg(concat_ws('|', purpose, action, coalesce(http_status::text, 'null'), coalesce(transport_error, 'null'),
                    gateway_status::text, coalesce(gateway_id, 'null'), coalesce(submission_key::text, 'null'), outcome,
                    coalesce(response_body, 'null'), (attempt_id = (SELECT id FROM tuku.attempts))::text, attempt), ' / ' ORDER BY id)
                FROM tuku.exchanges WHERE job_id = \(job.id)
                """, as: String.self)
            #expect(
                rows == """
                    reconcile|RetrieveStatus|null|timed_out_after_send|[]|null|null|outcome_unknown|null|true|1 / \
                    submit|File|200|null|[{"code": 0, "message": "Success"}]|GW-1|987654|succeeded||true|1
                    """)
        }
    }
}
