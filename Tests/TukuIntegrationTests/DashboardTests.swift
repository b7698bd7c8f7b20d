import Foundation
import Logging
import PostgresNIO
import Testing
import TukuCore
import TukuPostgres
import TukuTestSupport
import TukuWorker

@Suite("Dashboard views")
struct DashboardTests {
    @Test("the views answer what is waiting, what ran, how long it took, who is working and what needs attention")
    func views() async throws {
        try await TestDatabase.withFresh { client, _ in
            try await client.execute("SELECT tuku.enqueue('noop', 'acme', '{}') FROM generate_series(1, 5)")
            try await client.execute("SELECT tuku.enqueue('ird.unknown', 'acme', '{}')")
            try await client.execute("SELECT tuku.enqueue('noop', 'kiwi', '{}', run_at => now() + interval '1 day')")
            var handlers = HandlerRegistry()
            handlers.register(NoopHandler())
            try await WorkerHarness.withWorker(client: client, handlers: handlers) { workerID in
                try await client.waitUntil("SELECT count(*) = 6 FROM tuku.jobs WHERE finished_at IS NOT NULL")
                #expect(try await client.scalar(
                    "SELECT jobs_in_hand FROM tuku.worker_status WHERE id = \(workerID) AND heartbeat_age < interval '10 seconds'",
                    as: Int64.self) == 0)
            }
            #expect(try await client.scalar(
                "SELECT string_agg(state || ':' || tenant || ':' || jobs, ',') FROM tuku.queue_depth", as: String.self) == "scheduled:kiwi:1")
            #expect(try await client.scalar(
                "SELECT sum(runs)::int8 FROM tuku.throughput_per_minute WHERE resulting_state = 'succeeded'", as: Int64.self) == 5)
            #expect(try await client.scalar(
                "SELECT reason || ':' || error_code FROM tuku.jobs_needing_attention", as: String.self) == "ended rejected:unknown_kind")
            #expect(try await client.scalar(
                "SELECT samples FROM tuku.latency_last_hour WHERE measure = 'enqueue_to_finish' AND kind = 'noop'", as: Int64.self) == 5)
        }
    }
}
