import Foundation
import Logging
import PostgresNIO
import Testing
import TukuCore
import TukuPostgres
import TukuTestSupport
import TukuWorker

@Suite("Pausing kinds and tenants, and setting rates")
struct PauseTests {
    @Test("a paused tenant's jobs wait while others run, show as paused, and run once resumed")
    func pauseAndResumeTenant() async throws {
        try await TestDatabase.withFresh { client, _ in
            #expect(try await client.scalar("SELECT tuku.pause(tenant => 'acme', reason => 'employer asked to hold')", as: Bool.self))
            #expect(try await client.scalar("SELECT tuku.pause(tenant => 'acme')", as: Bool.self) == false)
            try await client.execute("SELECT tuku.enqueue('noop', t, '{}') FROM unnest(ARRAY['acme', 'acme', 'kiwi', 'kiwi']) t")
            var handlers = HandlerRegistry()
            handlers.register(NoopHandler())
            try await WorkerHarness.withWorker(client: client, handlers: handlers) { _ in
                try await client.waitUntil("SELECT count(*) = 2 FROM tuku.jobs WHERE tenant = 'kiwi' AND state = 'succeeded'")
                // Several claim rounds later, acme's jobs still wait.
                try await Task.sleep(for: .milliseconds(500))
                #expect(try await client.scalar("SELECT count(*) FROM tuku.jobs WHERE tenant = 'acme' AND state = 'available'", as: Int64.self) == 2)
                #expect(try await client.scalar("SELECT bool_and(paused) FROM tuku.queue_depth WHERE tenant = 'acme'", as: Bool.self))
                #expect(try await client.scalar("SELECT jobs_held FROM tuku.pause_status WHERE tenant = 'acme'", as: Int64.self) == 2)

                #expect(try await client.scalar("SELECT tuku.resume(tenant => 'acme')", as: Bool.self))
                try await client.waitUntil("SELECT count(*) = 4 FROM tuku.jobs WHERE state = 'succeeded'", timeout: .seconds(10))
            }
            #expect(try await client.scalar("SELECT tuku.resume(tenant => 'acme')", as: Bool.self) == false)
        }
    }

    @Test("pausing a kind, or a kind for one tenant, holds back exactly those jobs")
    func pauseScopes() async throws {
        try await TestDatabase.withFresh { client, _ in
            try await client.execute("SELECT tuku.pause(kind => 'noop', tenant => 'kiwi')")
            try await client.execute("SELECT tuku.pause(kind => 'ird.ei.file')")
            try await client.execute(
                "SELECT tuku.enqueue(k, t, '{}') FROM (VALUES ('noop', 'acme'), ('noop', 'kiwi'), ('ird.ei.file', 'acme')) v(k, t)")
            // What autoscalers read: only the job a worker could claim now.
            #expect(try await client.scalar("SELECT jobs FROM tuku.ready_job_count", as: Int64.self) == 1)
            let queue = JobQueue(client: client, logger: .test())
            let workerID = try await queue.registerWorker(host: "test", pid: 1, version: "test", concurrency: 10)
            let claimed = try await queue.claim(workerID: workerID, limit: 10, lease: .seconds(30))
            #expect(claimed.map { "\($0.kind)/\($0.tenant)" } == ["noop/acme"])
            #expect(await client.sqlState(of: "SELECT tuku.pause()") == "22023")
            #expect(try await client.scalar(
                "SELECT string_agg(reason, ',') FROM tuku.jobs_needing_attention", as: String?.self) == nil)
            try await client.execute("UPDATE tuku.jobs SET run_at = now() - interval '1 hour' WHERE state = 'available'")
            #expect(try await client.scalar(
                "SELECT string_agg(DISTINCT reason, ',') FROM tuku.jobs_needing_attention", as: String.self) == "paused (see tuku.pause_status)")
        }
    }

    @Test("set_rate changes what it is given and keeps the rest; max_in_flight 0 removes the cap")
    func setRateKeepsWhatItIsNotGiven() async throws {
        try await TestDatabase.withFresh { client, _ in
            try await client.execute("SELECT tuku.set_rate('gw', 5, 3, 4)")
            try await client.execute("SELECT tuku.set_rate('gw', 10)")
            #expect(try await client.scalar(
                "SELECT requests_per_second || '/' || burst || '/' || max_in_flight FROM tuku.rate_limits WHERE key = 'gw'", as: String.self) == "10/3/4")
            try await client.execute("SELECT tuku.set_rate('gw', 10, max_in_flight => 0)")
            #expect(try await client.scalar("SELECT max_in_flight IS NULL AND burst = 3 FROM tuku.rate_limits WHERE key = 'gw'", as: Bool.self))
            try await client.execute("SELECT tuku.set_rate('new', 2)")
            #expect(try await client.scalar("SELECT burst || '/' || (max_in_flight IS NULL) FROM tuku.rate_limits WHERE key = 'new'", as: String.self) == "1/true")
        }
    }
}
