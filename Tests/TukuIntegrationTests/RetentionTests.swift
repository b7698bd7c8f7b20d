import Foundation
import Logging
import PostgresNIO
import Testing
import TukuCore
import TukuPostgres
import TukuTestSupport

@Suite("Retention: bodies, payloads and finished jobs")
struct RetentionTests {
    /// A job of `tenant` that finished `days` ago in `state`, with one attempt and one exchange from then.
    static func finishedJob(_ client: PostgresClient, _ name: String, state: String, daysAgo days: Int) async throws {
        try await client.execute(
            "SELECT tuku.enqueue('noop', 'acme', jsonb_build_object('employee', \(name)::text), \(name))")
        try await client.execute(
            """
            UPDATE tuku.jobs SET state = \(state), attempt = 1, finished_at = now() - make_interval(days => \(Int32(days)))
            WHERE idempotency_key = \(name)
            """)
        try await client.execute(
            """
            INSERT INTO tuku.attempts (job_id, attempt, started_at, finished_at, outcome, resulting_state)
            SELECT id, 1, finished_at, finished_at, 'succeeded', state FROM tuku.jobs WHERE idempotency_key = \(name)
            """)
        try await client.execute(
            """
            INSERT INTO tuku.exchanges (job_id, attempt, purpose, endpoint, action, started_at, http_status, outcome,
                                        request_body, response_body, response_body_bytes, gateway_id)
            SELECT id, 1, 'submit', 'https://gw/', 'File', finished_at, 200, 'succeeded', '<personal/>', '<reply/>',
                   '\\x3c7265706c79ff2f3e'::bytea, \(name)
            FROM tuku.jobs WHERE idempotency_key = \(name)
            """)
    }

    @Test("bodies and payloads past their retention are removed, metadata kept; old finished jobs are deleted; waiting jobs are untouched")
    func sweep() async throws {
        try await TestDatabase.withFresh { client, _ in
            try await client.execute("UPDATE tuku.settings SET value = '90' WHERE name IN ('exchange_body_retention_days', 'payload_retention_days')")
            try await client.execute("UPDATE tuku.settings SET value = '400' WHERE name = 'finished_job_retention_days'")
            try await Self.finishedJob(client, "recent", state: "succeeded", daysAgo: 10)
            try await Self.finishedJob(client, "old", state: "dead", daysAgo: 100)
            try await Self.finishedJob(client, "ancient", state: "succeeded", daysAgo: 500)
            try await client.execute("SELECT tuku.enqueue('noop', 'acme', '{\"employee\": \"waiting\"}', 'waiting')")
            try await client.execute("UPDATE tuku.jobs SET created_at = now() - interval '500 days' WHERE idempotency_key = 'waiting'")

            let queue = JobQueue(client: client, logger: .test())
            let first = try await queue.sweepRetention()
            #expect(first == JobQueue.RetentionSweep(bodiesRemoved: 2, payloadsRemoved: 2, jobsPruned: 1))
            #expect(try await queue.sweepRetention().isEmpty)

            let jobs = try await client.scalar(
                """
                SELECT string_agg(idempotency_key || ':' || state || ':' || payload::text || ':' || (payload_removed_at IS NOT NULL), ' ' ORDER BY id)
                FROM tuku.jobs
                """, as: String.self)
            #expect(jobs == #"recent:succeeded:{"employee": "recent"}:false old:dead:{}:true waiting:available:{"employee": "waiting"}:false"#)
            let exchanges = try await client.scalar(
                """
                SELECT string_agg(gateway_id || ':' || (request_body IS NULL) || ':' || (response_body_bytes IS NULL) || ':' || http_status, ' ' ORDER BY id)
                FROM tuku.exchanges
                """,
                as: String.self)
            #expect(exchanges == "recent:false:false:200 old:true:true:200")
            #expect(try await client.scalar("SELECT count(*) FROM tuku.attempts", as: Int64.self) == 2)

            // A job whose payload is gone cannot be retried into an empty submission.
            let refused = await client.sqlState(of: "SELECT tuku.retry(id) FROM tuku.jobs WHERE idempotency_key = 'old'")
            #expect(refused == "55000")
            #expect(try await client.scalar("SELECT tuku.retry_jobs('dead')", as: Int32.self) == 0)
        }
    }

    @Test("a retention setting below its minimum is refused when it is set, never 'keep nothing' (migration 0015)")
    func refusesZeroDays() async throws {
        try await TestDatabase.withFresh { client, _ in
            #expect(await client.sqlState(of: "UPDATE tuku.settings SET value = '0' WHERE name = 'finished_job_retention_days'") == "23514")
            #expect(await client.sqlState(of: "UPDATE tuku.settings SET value = '-1' WHERE name = 'exchange_body_retention_days'") == "23514")
            #expect(await client.sqlState(of: "SELECT * FROM tuku.sweep_retention()") == nil)
        }
    }

    @Test("only one caller sweeps at a time; the others get an empty sweep")
    func oneAtATime() async throws {
        try await TestDatabase.withFresh { client, _ in
            try await Self.finishedJob(client, "old", state: "succeeded", daysAgo: 100)
            try await client.withTransaction(logger: .test()) { connection in
                try await connection.execute("SELECT pg_advisory_xact_lock(8391731632849384549)", logger: .test())
                #expect(try await JobQueue(client: client, logger: .test()).sweepRetention().isEmpty)
            }
            #expect(try await JobQueue(client: client, logger: .test()).sweepRetention().payloadsRemoved == 1)
        }
    }
}
