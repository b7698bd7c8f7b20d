import Foundation
import Logging
import PostgresNIO
import Testing
import TukuCore
import TukuPostgres
import TukuTestSupport

/// A durable PostgreSQL cluster of the test's own (scripts/lib/postgres.sh with TUKU_PG_DURABLE=1), so that it can be
/// restarted without disturbing the other tests' shared server.
private struct PrivateCluster: Sendable {
    let directory: URL
    let url: String

    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func with<Result: Sendable>(_ body: @Sendable (PrivateCluster) async throws -> Result) async throws -> Result {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tuku-restart-\(UInt32.random(in: 0...UInt32.max))")
        let url = try await Self.shell(
            "source scripts/lib/postgres.sh && TUKU_PG_DURABLE=1 tuku_pg_start \"$1\" >&2 && echo \"$TUKU_DATABASE_URL\"",
            directory.path
        ).trimmingCharacters(in: .whitespacesAndNewlines)
        let cluster = PrivateCluster(directory: directory, url: url)
        do {
            let result = try await body(cluster)
            try await cluster.stop()
            return result
        } catch {
            try? await cluster.stop()
            throw error
        }
    }

    /// `pg_ctl restart -m MODE`, keeping the cluster's options and port.
    func restart(mode: String) async throws {
        _ = try await Self.shell("source scripts/lib/postgres.sh && tuku_pg_restart \"$1\" \"$2\"", self.directory.path, mode)
    }

    func stop() async throws {
        try await Self.shell("source scripts/lib/postgres.sh && tuku_pg_stop \"$1\"", self.directory.path)
        try? FileManager.default.removeItem(at: self.directory)
    }

    /// Runs `script` with bash (arguments as `$1`, `$2`) in the repository and returns its standard output. Waits by
    /// polling the child's pid (`ChildProcess`), not with `system()`: see ChildProcess for the hang that caused.
    @discardableResult
    static func shell(_ script: String, _ arguments: String...) async throws -> String {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("tuku-shell-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: output) }
        // The repository root is the script's $0.
        let status = try await ChildProcess.run(
            ["bash", "-c", "set -euo pipefail; cd \"$0\"; " + script, Self.repositoryRoot.path] + arguments,
            standardOutput: output.path)
        let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
        guard status == 0 else { throw TestSupportError("`\(script)` failed with status \(status): \(text)") }
        return text
    }
}

/// Polls `query` until it is true, riding out the errors of a database that is restarting.
private func eventually(
    _ client: PostgresClient, _ query: PostgresQuery, timeout: Duration, _ worker: TukuProcess
) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if (try? await client.scalar(query, as: Bool.self)) == true { return }
        try await Task.sleep(for: .milliseconds(200))
    }
    throw TestSupportError("timed out after \(timeout) waiting for: \(query.sql)\nworker log:\n\(worker.log)")
}

@Suite("PostgreSQL restarts under a working worker", .serialized)
struct DatabaseRestartTests {
    @Test(
        "a restart with jobs in hand (pg_ctl restart -m fast / -m immediate): every job ends succeeded once, no lease is renewed for a job the worker lost track of, the failures show in tuku.workers, and SIGTERM exits within the grace period",
        arguments: ["fast", "immediate"])
    func restartWithJobsInHand(mode: String) async throws {
        try await PrivateCluster.with { cluster in
            var configuration = try PostgresClient.Configuration(url: cluster.url)
            configuration.options.maximumConnections = 4
            try await TestDatabase.withClient(configuration) { client in
                try await Migrator(client: client, logger: .test()).migrate()
                #expect(try await client.scalar("SELECT current_setting('synchronous_commit')", as: String.self) == "on")
                // 240 jobs of 2 s at 30 at a time: about 16 s of work, so that a test slowed by a loaded machine still
                // finds jobs in hand to restart under (with 5 s of work, a starved poll once saw them all finished).
                let jobs = 240
                try await client.execute("SELECT tuku.enqueue('noop', 'acme', '{\"delay_ms\": 2000}') FROM generate_series(1, \(jobs))")
                let worker = try TukuProcess(
                    [
                        "worker", "--concurrency", "30", "--claim-batch", "10", "--lease", "6", "--poll-interval-ms", "100",
                        "--shutdown-grace", "4", "--log-level", "info",
                    ], databaseURL: cluster.url)
                try await eventually(
                    client,
                    """
                    SELECT count(*) FILTER (WHERE state = 'succeeded') >= 20 AND count(*) FILTER (WHERE state = 'running') >= 10
                    FROM tuku.jobs
                    """, timeout: .seconds(60), worker)

                try await cluster.restart(mode: mode)

                // Every job ends succeeded: none left running under a lease renewed for a call that never returned.
                try await eventually(
                    client, "SELECT count(*) = \(jobs) FROM tuku.jobs WHERE state = 'succeeded'", timeout: .seconds(120), worker)
                #expect(try await client.scalar("SELECT count(*)::int8 FROM tuku.jobs WHERE state = 'running'", as: Int64.self) == 0)
                // Each job succeeded exactly once (a job whose claim the restart cut off is rescued after its lease,
                // and runs again then; that run is its only success).
                #expect(
                    try await client.scalar(
                        "SELECT count(DISTINCT job_id)::int8 FROM tuku.attempts WHERE outcome = 'succeeded'", as: Int64.self) == Int64(jobs))
                #expect(
                    try await client.scalar("SELECT count(*)::int8 FROM tuku.attempts WHERE outcome = 'succeeded'", as: Int64.self)
                        == Int64(jobs))
                // The worker found the database durable and recorded it. (Whether its calls failed during the restart
                // depends on timing: most just wait for a connection; the heartbeat test covers the error columns.)
                try await eventually(client, "SELECT database_durable FROM tuku.workers", timeout: .seconds(15), worker)

                let stopAsked = ContinuousClock.now
                worker.signal(SIGTERM)
                let status = try await worker.waitForExit(timeout: .seconds(20))
                // Grace 4 s, plus the ack flush (5 s) at most.
                #expect(ContinuousClock.now - stopAsked < .seconds(10), "log:\n\(worker.log)")
                #expect(status == 0, "log:\n\(worker.log)")
                #expect(try await client.scalar("SELECT state FROM tuku.workers", as: String.self) == "stopped")
            }
        }
    }
}
