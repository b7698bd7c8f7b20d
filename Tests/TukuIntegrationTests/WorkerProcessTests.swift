import Foundation
import Logging
import PostgresNIO
import Testing
import TukuCore
import TukuPostgres
import TukuTestSupport
import TukuWorker

@Suite("tuku worker processes")
struct WorkerProcessTests {
    @Test("SIGTERM stops claiming, hands back unfinished leases without spending an attempt, and exits 0")
    func gracefulShutdownReleasesLeases() async throws {
        try await TestDatabase.withFresh { client, database in
            // Two quick jobs and three that outlast the grace period.
            try await client.execute("SELECT tuku.enqueue('noop', 'acme', '{\"delay_ms\": 100}') FROM generate_series(1, 2)")
            try await client.execute("SELECT tuku.enqueue('noop', 'acme', '{\"delay_ms\": 60000}') FROM generate_series(1, 3)")
            let worker = try TukuProcess(["worker", "--shutdown-grace", "2", "--poll-interval-ms", "100"], databaseURL: database.url)
            try await client.waitUntil(
                "SELECT count(*) = 3 FROM tuku.jobs WHERE state = 'running' AND payload->>'delay_ms' = '60000'", timeout: .seconds(30))
            try await client.waitUntil("SELECT count(*) = 2 FROM tuku.jobs WHERE state = 'succeeded'", timeout: .seconds(30))
            worker.signal(SIGTERM)
            let status = try await worker.waitForExit(timeout: .seconds(30))
            #expect(status == 0, "log:\n\(worker.log)")
            #expect(
                try await client.scalar(
                    "SELECT count(*)::int8 FROM tuku.jobs WHERE state = 'available' AND attempt = 0 AND lease_owner IS NULL", as: Int64.self
                ) == 3)
            #expect(try await client.scalar("SELECT count(*)::int8 FROM tuku.attempts WHERE outcome = 'released'", as: Int64.self) == 3)
            #expect(try await client.scalar("SELECT state FROM tuku.workers", as: String.self) == "stopped")
        }
    }

    @Test("a worker killed with SIGKILL mid-job has its jobs rescued after the lease expires and finished by another")
    func killedWorkerIsRescued() async throws {
        try await TestDatabase.withFresh { client, database in
            // Long enough that no job finishes between the worker holding all five and the kill, however loaded the machine.
            try await client.execute("SELECT tuku.enqueue('noop', 'acme', '{\"delay_ms\": 6000}') FROM generate_series(1, 5)")
            let doomed = try TukuProcess(["worker", "--lease", "3", "--poll-interval-ms", "100"], databaseURL: database.url)
            try await client.waitUntil("SELECT count(*) = 5 FROM tuku.jobs WHERE state = 'running'", timeout: .seconds(30))
            let doomedID = try await client.scalar("SELECT id FROM tuku.workers", as: Int64.self)
            doomed.signal(SIGKILL)
            _ = try await doomed.waitForExit()

            var handlers = HandlerRegistry()
            handlers.register(NoopHandler())
            try await WorkerHarness.withWorker(client: client, handlers: handlers) { rescuerID in
                try await client.waitUntil("SELECT count(*) = 5 FROM tuku.jobs WHERE state = 'succeeded'", timeout: .seconds(40))
                let history = try await client.scalar(
                    """
                    SELECT string_agg(DISTINCT outcome || '@' || attempt || '/' || CASE worker_id WHEN \(doomedID) THEN 'killed' WHEN \(rescuerID) THEN 'rescuer' END, ',')
                    FROM tuku.attempts
                    """, as: String.self)
                #expect(history == "lease_expired@1/killed,succeeded@2/rescuer")
            }
            #expect(try await client.scalar("SELECT count(*)::int8 FROM tuku.attempts", as: Int64.self) == 10)
            #expect(try await client.scalar("SELECT state FROM tuku.workers WHERE id = \(doomedID)", as: String.self) != "stopped")
        }
    }
    @Test("a database outage (the worker's connections cut, new ones refused for 3 s) is logged and outlived: every job finishes once, none lost")
    func outlivesDatabaseOutage() async throws {
        try await TestDatabase.withFresh { client, database in
            try await TestLogin.with("tuku_worker", on: database, admin: client) { _, login in
                try await client.execute("SELECT tuku.enqueue('noop', 'acme', '{\"delay_ms\": 300}') FROM generate_series(1, 40)")
                let worker = try TukuProcess(
                    ["worker", "--concurrency", "4", "--poll-interval-ms", "100", "--log-level", "info"], databaseURL: login.url)
                try await client.waitUntil("SELECT count(*) >= 8 FROM tuku.jobs WHERE state = 'succeeded'", timeout: .seconds(30))

                // The outage: the login may not connect, and its open sessions are ended (as a restart or failover
                // would end them), with jobs in hand.
                try await client.execute(PostgresQuery(unsafeSQL: "ALTER ROLE \(login.name) NOLOGIN"))
                try await client.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = \(login.name) AND datname = current_database()")
                let cutAt = try await client.scalar("SELECT count(*)::int8 FROM tuku.jobs WHERE state = 'succeeded'", as: Int64.self)
                try await Task.sleep(for: .seconds(3))
                #expect(try await client.scalar("SELECT count(*)::int8 FROM tuku.jobs WHERE state = 'succeeded'", as: Int64.self) == cutAt)
                try await client.execute(PostgresQuery(unsafeSQL: "ALTER ROLE \(login.name) LOGIN"))

                try await client.waitUntil("SELECT count(*) = 40 FROM tuku.jobs WHERE state = 'succeeded'", timeout: .seconds(60))
                // Each job ran once: the outage was shorter than the lease, so nothing was rescued or run again.
                #expect(try await client.scalar("SELECT count(*)::int8 FROM tuku.attempts", as: Int64.self) == 40)
                #expect(try await client.scalar("SELECT count(*)::int8 FROM tuku.attempts WHERE outcome = 'succeeded'", as: Int64.self) == 40)
                let log = worker.log
                // What an operator sees: the worker noticed (its LISTEN session was cut) and PostgresNIO's refused
                // connection attempts; the claims and acks meanwhile waited for a connection rather than failing.
                #expect(log.contains("LISTEN connection lost"), "the outage left no trace in the worker's log:\n\(log)")
                #expect(log.contains("is not permitted to log in"), "log:\n\(log)")
                let password = try #require(URLComponents(string: login.url)?.password)
                #expect(!log.contains(password), "the log holds the database password")
                worker.signal(SIGTERM)
                #expect(try await worker.waitForExit(timeout: .seconds(30)) == 0, "log:\n\(log)")
            }
        }
    }
}
