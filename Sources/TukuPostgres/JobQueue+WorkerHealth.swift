import Foundation
import Logging
import PostgresNIO

extension JobQueue {
    /// How a worker's database calls have been going, written to its `tuku.workers` row with each heartbeat
    /// (migration 0013).
    public struct DatabaseHealth: Sendable, Hashable {
        /// Database calls that failed or timed out since the worker started.
        public var errors: Int
        /// When the latest of them failed.
        public var lastErrorAt: Date?
        /// What it said (safe to show: no bound values, no credentials).
        public var lastError: String?
        /// Set while calls keep failing; `nil` once one succeeds.
        public var failingSince: Date?

        /// A report.
        public init(errors: Int = 0, lastErrorAt: Date? = nil, lastError: String? = nil, failingSince: Date? = nil) {
            self.errors = errors
            self.lastErrorAt = lastErrorAt
            self.lastError = lastError
            self.failingSince = failingSince
        }
    }

    /// Records the worker's heartbeat and its database health, and extends the leases of the jobs named by
    /// `leaseTokens` only: the jobs whose work is still progressing. A job left out (its run overran and was
    /// abandoned) keeps its lease until it expires or its ack lands. Jobs whose rows another transaction holds
    /// locked (an ack in flight) are skipped, never waited for. Returns how many leases were extended.
    @discardableResult
    public func heartbeat(workerID: Int64, lease: Duration, leaseTokens: [Int64], health: DatabaseHealth) async throws -> Int {
        let rows = try await self.client.query(
            """
            WITH beat AS (
                UPDATE tuku.workers
                SET heartbeat_at = now(), database_errors = \(Int64(health.errors)), database_error_at = \(health.lastErrorAt),
                    database_error = \(health.lastError), database_failing_since = \(health.failingSince)
                WHERE id = \(workerID)
            ), held AS (
                -- Rows an ack (or an operator) has locked are being finished: skip them rather than wait. Waiting
                -- here, while an ack batch locks the same rows in another order, deadlocked the two (SQLSTATE
                -- 40P01, seen in the queue benchmark); a skipped lease is renewed by the next heartbeat if the
                -- ack does not land.
                SELECT id FROM tuku.jobs
                WHERE lease_owner = \(workerID) AND state = 'running' AND lease_token = ANY(\(leaseTokens)::int8[])
                ORDER BY id
                FOR NO KEY UPDATE SKIP LOCKED
            ), extended AS (
                UPDATE tuku.jobs j SET lease_expires_at = now() + make_interval(secs => \(lease.inSeconds))
                FROM held WHERE j.id = held.id
                RETURNING 1
            )
            SELECT count(*)::int8 FROM extended
            """, logger: self.logger)
        for try await count in rows.decode(Int64.self) { return Int(count) }
        return 0
    }

    /// Records the durability settings the worker found at start in its `tuku.workers` row.
    public func recordDatabaseSettings(_ settings: DatabaseSettings, workerID: Int64) async throws {
        try await self.client.execute(
            """
            UPDATE tuku.workers SET database_durable = \(settings.isDurable), database_settings = \(settings.description)
            WHERE id = \(workerID)
            """, logger: self.logger)
    }
}
