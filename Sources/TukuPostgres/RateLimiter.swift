import Foundation
import Logging
import PostgresNIO
import Synchronization
import TukuCore

/// Fleet-wide pacing through `tuku.rate_limits` (see `sql/migrations/0003_pacing.up.sql` and `docs/pacing.md`).
///
/// Before each gateway call a worker reserves a send slot and sleeps until it; slots are handed out 1/rate
/// apart by the database, so the fleet's calls are spread evenly whatever the number of workers. After the
/// call the reservation is released, and a 429 (or 503 with Retry-After) sets a cool-down that every worker
/// honours and halves the effective rate, which then climbs back.
public struct RateLimiter: Sendable {
    private let client: PostgresClient
    private let logger: Logger
    private let warmedKeys = WarmedKeys()
    private let unpaced = UnpacedKeys()
    /// How long a key found without a limit row is sent unpaced before asking again. Defaults to 2 seconds.
    public var unpacedRecheckInterval: Duration = .seconds(2)

    /// The keys this process has already sent under (its connections are open).
    private final class WarmedKeys: Sendable {
        let keys = Mutex<Set<String>>([])
    }

    /// Keys with no limit row, and until when this process takes that as given.
    private final class UnpacedKeys: Sendable {
        let until = Mutex<[String: ContinuousClock.Instant]>([:])
    }
    /// How long to wait before asking again when the fleet is at its in-flight cap. Defaults to 50 ms.
    public var inFlightPollInterval: Duration = .milliseconds(50)
    /// How long before its slot a caller checks for a fleet-wide cool-down. Defaults to 15 ms.
    public var confirmAhead: Duration = .milliseconds(15)

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// A granted send slot.
    public struct Grant: Sendable {
        /// The slot, by the database's clock.
        public var slot: Date
        /// How long the caller waited for it.
        public var waited: Duration
    }

    /// Waits until this call may be sent under `key`; the wait goes into `tuku_pacing_wait_seconds`.
    @discardableResult
    public func acquire(key: String, jobID: Int64, workerID: Int64?) async throws -> Grant {
        let grant = try await self.waitForSlot(key: key, jobID: jobID, workerID: workerID)
        PacingMetrics.waited(grant.waited, key: key)
        return grant
    }

    private func waitForSlot(key: String, jobID: Int64, workerID: Int64?) async throws -> Grant {
        let started = ContinuousClock.now
        if let until = self.unpaced.until.withLock({ $0[key] }), started < until {
            return Grant(slot: Date(), waited: .zero)
        }
        do {
            while true {
                // This process's first call under the key opens a TLS connection and leaves late: keep the slot
                // after it free so that lateness cannot crowd the next call.
                let first = self.warmedKeys.keys.withLock { $0.insert(key).inserted }
                guard let (slot, wait) = try await self.reserve(key: key, jobID: jobID, workerID: workerID, slots: first ? 2 : 1) else {
                    try await Task.sleep(for: self.inFlightPollInterval)
                    continue
                }
                if slot == .distantPast {
                    // No limit row: not paced; skip the round trips for a little while.
                    self.unpaced.until.withLock { $0[key] = ContinuousClock.now + self.unpacedRecheckInterval }
                    return Grant(slot: Date(), waited: ContinuousClock.now - started)
                }
                let sendAt = ContinuousClock.now + .microseconds(Int64((wait * 1_000_000).rounded(.up)))
                guard wait > 0 else { return Grant(slot: slot, waited: ContinuousClock.now - started) }
                // A cool-down set while we slept (another worker was throttled) stops us too: check shortly before
                // the slot, then wait out the rest by the local clock, so the check's latency does not shift the send.
                try await Task.sleep(until: sendAt - self.confirmAhead, clock: .continuous)
                let cooldown = try await self.scalar("SELECT tuku.cooldown_remaining(\(key))")
                if cooldown <= 0 {
                    try await Task.sleep(until: sendAt, clock: .continuous)
                    return Grant(slot: slot, waited: ContinuousClock.now - started)
                }
                self.logger.debug("Cool-down began while waiting for a slot; reserving again", metadata: ["rate_limit.key": "\(key)"])
                PacingMetrics.honouredCooldown(key: key)
            }
        } catch {
            try? await self.release(key: key, jobID: jobID, httpStatus: nil, retryAfter: nil)
            throw error
        }
    }

    /// Ends the call's reservation; `httpStatus` 429 (or 503 with `retryAfter`) starts a fleet-wide cool-down.
    public func release(key: String, jobID: Int64, httpStatus: Int?, retryAfter: Duration?) async throws {
        if let until = self.unpaced.until.withLock({ $0[key] }), ContinuousClock.now < until { return }
        try await self.client.execute(
            "SELECT tuku.release_slot(\(key), \(jobID), \(httpStatus.map { Int32(clamping: $0) }), \(retryAfter?.inSeconds))",
            logger: self.logger)
        PacingMetrics.released(key: key, httpStatus: httpStatus, retryAfter: retryAfter)
    }

    /// The slot and how many seconds away it is, or `nil` at the in-flight cap.
    private func reserve(key: String, jobID: Int64, workerID: Int64?, slots: Int) async throws -> (Date, Double)? {
        let rows = try await self.client.query(
            """
            SELECT slot = '-infinity', CASE WHEN slot = '-infinity' THEN now() ELSE slot END,
                   CASE WHEN slot = '-infinity' THEN 0 ELSE greatest(extract(epoch FROM slot - now()), 0) END::float8
            FROM tuku.reserve_slot(\(key), \(jobID), \(workerID), \(Int32(slots))) AS slot
            WHERE slot IS NOT NULL
            """, logger: self.logger)
        for try await (unlimited, slot, wait) in rows.decode((Bool, Date, Double).self) {
            return (unlimited ? .distantPast : slot, wait)
        }
        return nil
    }

    private func scalar(_ query: PostgresQuery) async throws -> Double {
        for try await value in try await self.client.query(query, logger: self.logger).decode(Double.self) { return value }
        return 0
    }
}
