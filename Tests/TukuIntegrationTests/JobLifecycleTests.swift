import Foundation
import Logging
import PostgresNIO
import Testing
import TukuCore
import TukuPostgres
import TukuTestSupport

/// The job lifecycle of `docs/job-states.md`: the transition table, cancellation on every path, and
/// "may have reached the gateway" (`tuku.jobs.unsettled_since`).
@Suite("Job lifecycle against PostgreSQL")
struct JobLifecycleTests {
    let logger = Logger.test()

    /// One row of the transition table, as the doc prints it.
    struct Transition: Hashable, Comparable, CustomStringConvertible {
        var from: String, event: String, cancelRequested: String, lastAttempt: String, due: String
        var to: String, attempt: String, gateway: String

        var description: String {
            "\(from) \(event) cancel:\(cancelRequested) last:\(lastAttempt) due:\(due) → \(to) \(attempt) \(gateway)"
        }

        static func < (lhs: Transition, rhs: Transition) -> Bool { lhs.description < rhs.description }
    }

    /// The rows of the table under `### Transition table` in docs/job-states.md.
    static func documentedTransitions() throws -> [Transition] {
        let url = TestCertificates.repositoryRoot.appendingPathComponent("docs/job-states.md")
        let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        let heading = try #require(lines.firstIndex(of: "### Transition table"))
        let table = lines[heading...].drop { !$0.hasPrefix("|") }.prefix { $0.hasPrefix("|") }.dropFirst(2)
        return try table.map { line in
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "`", with: "") }
            try #require(cells.count == 8, "a transition row has 8 cells: \(line)")
            return Transition(
                from: cells[0], event: cells[1], cancelRequested: cells[2], lastAttempt: cells[3], due: cells[4], to: cells[5],
                attempt: cells[6], gateway: cells[7])
        }
    }

    @Test("docs/job-states.md's transition table is tuku.job_transitions, row by row")
    func documentMatchesTable() async throws {
        let documented = try Self.documentedTransitions()
        #expect(documented.count >= 20)
        try await TestDatabase.withFresh { client, _ in
            let rows = try await client.query(
                """
                SELECT from_state, event,
                       CASE cancel_requested WHEN true THEN 'yes' WHEN false THEN 'no' ELSE 'any' END,
                       CASE last_attempt WHEN true THEN 'yes' WHEN false THEN 'no' ELSE 'any' END,
                       CASE due WHEN true THEN 'yes' WHEN false THEN 'no' ELSE 'any' END,
                       to_state, CASE WHEN attempt_change > 0 THEN '+' ELSE '' END || attempt_change, gateway
                FROM tuku.job_transitions
                """, logger: self.logger)
            var stored: [Transition] = []
            for try await (from, event, cancel, last, due, to, attempt, gateway) in rows.decode(
                (String, String, String, String, String, String, String, String).self
            ) {
                stored.append(
                    Transition(
                        from: from, event: event, cancelRequested: cancel, lastAttempt: last, due: due, to: to, attempt: attempt,
                        gateway: gateway))
            }
            #expect(documented.sorted() == stored.sorted())
            #expect(Set(documented).count == documented.count)
        }
    }

    @Test("every running job meets exactly one transition for each ack outcome and for the rescuer; no other state can be acked")
    func tableIsComplete() async throws {
        try await TestDatabase.withFresh { client, _ in
            // Every combination of state, event and conditions, with how many rows it matches.
            let rows = try await client.query(
                """
                WITH states(s) AS (VALUES ('available'), ('scheduled'), ('running'), ('retryable'), ('succeeded'),
                                          ('rejected'), ('dead'), ('cancelled')),
                     events(e) AS (VALUES ('claim'), ('succeeded'), ('retry'), ('throttled'), ('rejected'), ('dead'),
                                          ('released'), ('lease_expired'), ('operator_cancel'), ('operator_retry')),
                     flags(f) AS (VALUES (true), (false))
                SELECT s, e, c.f, l.f, d.f, (SELECT count(*) FROM tuku.job_transition(s, e, c.f, l.f, d.f))::int8
                FROM states, events, flags c, flags l, flags d
                """, logger: self.logger)
            let acks: Set<String> = ["succeeded", "retry", "throttled", "rejected", "dead", "released", "lease_expired"]
            var problems: [String] = []
            for try await (state, event, cancel, last, due, matches) in rows.decode((String, String, Bool, Bool, Bool, Int64).self) {
                let expected: ClosedRange<Int64> =
                    if acks.contains(event) { state == "running" ? 1...1 : 0...0 } else { 0...1 }
                if !expected.contains(matches) {
                    problems.append("\(state) \(event) cancel:\(cancel) last:\(last) due:\(due) matches \(matches)")
                }
            }
            #expect(problems.isEmpty, "\(problems)")
        }
    }

    // MARK: Cancellation

    /// A claimed job on which an operator called tuku.cancel().
    func cancelledWhileRunning(_ queue: JobQueue, _ client: PostgresClient, lease: Duration = .seconds(60)) async throws -> (ClaimedJob, Int64) {
        _ = try await queue.enqueue([try JobLine.parse(#"{"kind":"noop","tenant":"acme","payload":{}}"#)])
        let worker = try await queue.registerWorker(host: "test", pid: 1, version: "test", concurrency: 1)
        let job = try #require(try await queue.claim(workerID: worker, limit: 1, lease: lease).first)
        #expect(try await client.scalar("SELECT tuku.cancel(\(job.id))", as: String.self) == "running")
        return (job, worker)
    }

    @Test("a cancelled running job whose worker died ends cancelled, never retryable, and is never claimed again")
    func rescuerRespectsCancel() async throws {
        try await TestDatabase.withFresh { client, _ in
            let queue = JobQueue(client: client, logger: self.logger)
            let (job, worker) = try await self.cancelledWhileRunning(queue, client, lease: .milliseconds(200))
            try await Task.sleep(for: .milliseconds(400))
            #expect(try await queue.rescueExpiredLeases(workerLostAfter: .seconds(3600)) == [job.id])
            #expect(try await client.scalar("SELECT state FROM tuku.jobs WHERE id = \(job.id)", as: String.self) == "cancelled")
            #expect(try await client.scalar("SELECT finished_at IS NOT NULL FROM tuku.jobs WHERE id = \(job.id)", as: Bool.self))
            #expect(
                try await client.scalar("SELECT outcome || ':' || resulting_state FROM tuku.attempts WHERE job_id = \(job.id)", as: String.self)
                    == "lease_expired:cancelled")
            #expect(try await queue.claim(workerID: worker, limit: 10, lease: .seconds(60)).isEmpty)
        }
    }

    @Test(
        "an ack of anything but success on a cancel-requested job ends it cancelled",
        arguments: [
            JobAck.Outcome(.rejected(JobError(code: "gateway_rejected", message: "no")), attempt: 1, policy: RetryPolicy()),
            JobAck.Outcome(.dead(JobError(code: "gave_up", message: "no")), attempt: 1, policy: RetryPolicy()),
            JobAck.Outcome(.retry(after: .zero, error: JobError(code: "x", message: "y")), attempt: 1, policy: RetryPolicy()),
            JobAck.Outcome(.throttled(after: .seconds(30), error: JobError(code: "gateway_throttled", message: "slow")), attempt: 1, policy: RetryPolicy()),
            .released,
        ])
    func acksRespectCancel(_ outcome: JobAck.Outcome) async throws {
        try await TestDatabase.withFresh { client, _ in
            let queue = JobQueue(client: client, logger: self.logger)
            let (job, worker) = try await self.cancelledWhileRunning(queue, client)
            let accepted = try await queue.acknowledge(
                [JobAck(jobID: job.id, leaseToken: job.leaseToken, outcome: outcome, startedAt: Date())], workerID: worker)
            #expect(accepted == [job.id])
            #expect(try await client.scalar("SELECT state FROM tuku.jobs WHERE id = \(job.id)", as: String.self) == "cancelled")
            #expect(try await client.scalar("SELECT resulting_state FROM tuku.attempts WHERE job_id = \(job.id)", as: String.self) == "cancelled")
            #expect(try await queue.claim(workerID: worker, limit: 10, lease: .seconds(60)).isEmpty)
        }
    }

    @Test("a success wins over a cancel request: the work was done")
    func successWinsOverCancel() async throws {
        try await TestDatabase.withFresh { client, _ in
            let queue = JobQueue(client: client, logger: self.logger)
            let (job, worker) = try await self.cancelledWhileRunning(queue, client)
            _ = try await queue.acknowledge(
                [JobAck(jobID: job.id, leaseToken: job.leaseToken, outcome: .init(name: "succeeded", error: nil, delay: nil), startedAt: Date())],
                workerID: worker)
            #expect(try await client.scalar("SELECT state FROM tuku.jobs WHERE id = \(job.id)", as: String.self) == "succeeded")
        }
    }

    @Test("a waiting job cannot carry a cancel request, so a cancelled job made waiting by hand is refused; tuku.retry clears it")
    func cancelledNeverClaimed() async throws {
        try await TestDatabase.withFresh { client, _ in
            let queue = JobQueue(client: client, logger: self.logger)
            _ = try await queue.enqueue([try JobLine.parse(#"{"kind":"noop","tenant":"acme","payload":{}}"#)])
            let id = try await client.scalar("SELECT id FROM tuku.jobs", as: Int64.self)
            #expect(try await client.scalar("SELECT tuku.cancel(\(id))", as: String.self) == "cancelled")
            #expect(await client.sqlState(of: "UPDATE tuku.jobs SET state = 'available', finished_at = NULL WHERE id = \(id)") == "23514")
            let worker = try await queue.registerWorker(host: "test", pid: 1, version: "test", concurrency: 1)
            #expect(try await queue.claim(workerID: worker, limit: 10, lease: .seconds(60)).isEmpty)
            #expect(try await client.scalar("SELECT tuku.retry(\(id))", as: String.self) == "available")
            #expect(try await queue.claim(workerID: worker, limit: 10, lease: .seconds(60)).map(\.id) == [id])
            // Ended jobs refuse a cancel; running and succeeded ones refuse a retry, as before.
            await #expect(throws: (any Error).self) { try await client.execute("SELECT tuku.retry(\(id))") }
        }
    }

    // MARK: May have reached the gateway

    func ack(_ job: ClaimedJob, _ outcome: JobAck.Outcome, _ settlement: GatewaySettlement) -> JobAck {
        JobAck(jobID: job.id, leaseToken: job.leaseToken, outcome: outcome, startedAt: Date(), settlement: settlement)
    }

    @Test("'may have reached the gateway' holds through throttles, released leases, rescues, other errors and retries until a run settles it")
    func unsettledHolds() async throws {
        try await TestDatabase.withFresh { client, _ in
            let queue = JobQueue(client: client, logger: self.logger)
            _ = try await queue.enqueue([try JobLine.parse(#"{"kind":"noop","tenant":"acme","payload":{},"max_attempts":2}"#)])
            let worker = try await queue.registerWorker(host: "test", pid: 1, version: "test", concurrency: 1)
            func claim(lease: Duration = .seconds(60)) async throws -> ClaimedJob {
                try await client.execute("UPDATE tuku.jobs SET run_at = now() WHERE state IN ('scheduled', 'retryable')")
                return try #require(try await queue.claim(workerID: worker, limit: 1, lease: lease).first)
            }
            let policy = RetryPolicy()
            var job = try await claim()
            #expect(!job.mayHaveReachedGateway)
            let unknown = JobError(code: "outcome_unknown", message: "504")
            _ = try await queue.acknowledge([self.ack(job, .init(.retry(after: .zero, error: unknown), attempt: 1, policy: policy), .unsettled)], workerID: worker)

            job = try await claim()
            #expect(job.mayHaveReachedGateway)
            let throttled = JobError(code: "gateway_throttled", message: "429")
            _ = try await queue.acknowledge([self.ack(job, .init(.throttled(after: .zero, error: throttled), attempt: 2, policy: policy), .unchanged)], workerID: worker)
            #expect(try await client.scalar("SELECT last_error->>'code' FROM tuku.jobs", as: String.self) == "gateway_throttled")

            job = try await claim()
            #expect(job.mayHaveReachedGateway)
            _ = try await queue.acknowledge([self.ack(job, .released, .unchanged)], workerID: worker)

            job = try await claim(lease: .milliseconds(100))
            #expect(job.mayHaveReachedGateway)
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await queue.rescueExpiredLeases(workerLostAfter: .seconds(3600)) == [job.id])
            // The lease was lost on the last attempt: dead, and still unsettled when an operator retries it.
            #expect(try await client.scalar("SELECT state FROM tuku.jobs", as: String.self) == "dead")
            #expect(try await client.scalar("SELECT tuku.retry(\(job.id))", as: String.self) == "available")

            job = try await claim()
            #expect(job.mayHaveReachedGateway)
            let other = JobError(code: "auth_unavailable", message: "no token")
            _ = try await queue.acknowledge([self.ack(job, .init(.retry(after: .zero, error: other), attempt: 3, policy: policy), .settled)], workerID: worker)
            #expect(try await client.scalar("SELECT unsettled_since IS NULL FROM tuku.jobs", as: Bool.self))
            #expect(try await client.scalar("SELECT tuku.retry(\(job.id))", as: String.self) == "available")
            job = try await claim()
            #expect(!job.mayHaveReachedGateway)
        }
    }

    @Test("a running job whose lease expired may have reached the gateway: the rescuer says so")
    func rescueUnsettles() async throws {
        try await TestDatabase.withFresh { client, _ in
            let queue = JobQueue(client: client, logger: self.logger)
            _ = try await queue.enqueue([try JobLine.parse(#"{"kind":"noop","tenant":"acme","payload":{}}"#)])
            let worker = try await queue.registerWorker(host: "test", pid: 1, version: "test", concurrency: 1)
            let first = try #require(try await queue.claim(workerID: worker, limit: 1, lease: .milliseconds(100)).first)
            #expect(!first.mayHaveReachedGateway)
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await queue.rescueExpiredLeases(workerLostAfter: .seconds(3600)) == [first.id])
            let second = try #require(try await queue.claim(workerID: worker, limit: 1, lease: .seconds(60)).first)
            #expect(second.mayHaveReachedGateway)
            #expect(second.attempt == 2)
        }
    }
}
