import Foundation
import Logging
import PostgresNIO
import Testing
import TukuPostgres
import TukuTestSupport

@Suite("Database call deadlines")
struct DatabaseDeadlineTests {
    @Test("a statement still running at its deadline gives the caller a database_timeout error at the deadline")
    func deadline() async throws {
        try await TestDatabase.withFresh { client, _ in
            let started = ContinuousClock.now
            // PostgresNIO does not stop waiting for a query's answer when its task is cancelled: without the
            // deadline this call would take the full 20 seconds.
            let error = await #expect(throws: QueueError.self) {
                try await DatabaseDeadline.run("test sleep", timeout: .milliseconds(500)) {
                    try await client.execute("SELECT pg_sleep(20)")
                }
            }
            #expect(error?.code == .timedOut)
            #expect(ContinuousClock.now - started < .seconds(5))
            // The answer of a call within its deadline comes through.
            let answer = try await DatabaseDeadline.run("test select") { try await client.scalar("SELECT 41 + 1", as: Int.self) }
            #expect(answer == 42)
        }
    }

    @Test("cancelling the caller ends the wait at once, whatever the statement does")
    func cancellation() async throws {
        try await TestDatabase.withFresh { client, _ in
            let started = ContinuousClock.now
            let call = Task {
                try await DatabaseDeadline.run("test sleep", timeout: .seconds(60)) {
                    try await client.execute("SELECT pg_sleep(20)")
                }
            }
            try await Task.sleep(for: .milliseconds(300))
            call.cancel()
            await #expect(throws: CancellationError.self) { try await call.value }
            #expect(ContinuousClock.now - started < .seconds(5))
        }
    }

    @Test("the database's durability settings are read and judged")
    func settings() async throws {
        try await TestDatabase.withFresh { client, _ in
            let settings = try await DatabaseSettings.read(from: client, logger: .test())
            #expect(["on", "off"].contains(settings.fsync))
            #expect(settings.isDurable == (settings.fsync == "on" && settings.synchronousCommit != "off" && settings.fullPageWrites == "on"))
        }
        let fast = DatabaseSettings(
            fsync: "off", synchronousCommit: "off", fullPageWrites: "off", sharedBuffers: "256MB", synchronousStandbyNames: "")
        #expect(!fast.isDurable && fast.problems.count == 3)
        let durable = DatabaseSettings(
            fsync: "on", synchronousCommit: "on", fullPageWrites: "on", sharedBuffers: "128MB", synchronousStandbyNames: "")
        #expect(durable.isDurable && durable.description == "fsync=on synchronous_commit=on full_page_writes=on shared_buffers=128MB")
    }
}
