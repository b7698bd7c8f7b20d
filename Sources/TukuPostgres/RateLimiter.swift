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
    private let unpaced = UnpacedKeys()
    /// How long a key found without a limit row is sent unpaced before asking again. Defaults to 2 seconds.
    public var unpacedRecheckInterval: Duration = .seconds(2)

    /// Keys with no limit row, and until when this process takes that as given.
    private final class UnpacedKeys: Sendable {
        let until = Mutex<[String: ContinuousClock.Instant]>([:])
    }
    /// How long to wait before asking again when the fleet is at its in-flight cap. Defaults to 50 ms.
    public var inFlightPollInterval: Duration = .milliseconds(50)
    /// How late a caller may wake for its send before it confirms again. Defaults to 3 ms.
    public var lateWakeTolerance: Duration = .milliseconds(3)
    /// How long before its slot a caller confirms it (a fleet-wide cool-down, the sends around it). Defaults to 15 ms.
    public var confirmAhead: Duration = .milliseconds(15)
    /// The deadline of each reservation, confirmation and release (``DatabaseDeadline``). Defaults to 10 seconds.
    /// A confirmation that does not answer in time is a send not made: the call fails before anything is sent.
    public var callTimeout: Duration = DatabaseDeadline.defaultTimeout
    /// How long a release that reports a send keeps trying while the database does not answer. Defaults to 10
    /// seconds. A send that could not be reported still counts for the calls confirming after it (its
    /// reservation keeps its confirmed send time) until the rescuer sweeps the reservation.
    public var reportSendFor: Duration = .seconds(10)

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
        /// When the wait ended, by the database's clock (the slot, plus any wait the confirmation asked for,
        /// plus this process's wake-up delay). Add the time until the request was written to report the send.
        public var leftAt: Date
    }

    /// Waits until this call may be sent under `key`; the wait goes into `tuku_pacing_wait_seconds`.
    ///
    /// `connecting` says the call will likely open a new connection: until it is answered, the calls confirming
    /// after it count it as arriving at any moment up to their own.
    @discardableResult
    public func acquire(key: String, jobID: Int64, workerID: Int64?, connecting: Bool = false) async throws -> Grant {
        let grant = try await self.waitForSlot(key: key, jobID: jobID, workerID: workerID, connecting: connecting)
        PacingMetrics.waited(grant.waited, key: key)
        return grant
    }

    private func waitForSlot(key: String, jobID: Int64, workerID: Int64?, connecting: Bool) async throws -> Grant {
        let started = ContinuousClock.now
        if let until = self.unpaced.until.withLock({ $0[key] }), started < until {
            return Grant(slot: Date(), waited: .zero, leftAt: Date())
        }
        do {
            while true {
                guard let (slot, wait) = try await self.reserve(key: key, jobID: jobID, workerID: workerID) else {
                    try await Task.sleep(for: self.inFlightPollInterval)
                    continue
                }
                if slot == .distantPast {
                    // No limit row: not paced; skip the round trips for a little while.
                    self.unpaced.until.withLock { $0[key] = ContinuousClock.now + self.unpacedRecheckInterval }
                    return Grant(slot: Date(), waited: ContinuousClock.now - started, leftAt: Date())
                }
                // Shortly before the slot: a cool-down set while we slept (another worker was throttled) stops us
                // too; otherwise the database says when to leave so that the sends reported around this one (some
                // leave late) keep every window within the limit. `wait` came with the reservation, whose clock
                // reading may be stale by now: only the confirmation's answer sets the moment of sending.
                try await Task.sleep(until: ContinuousClock.now + Self.duration(seconds: wait) - self.confirmAhead, clock: .continuous)
                var confirmation = try await self.confirm(key: key, jobID: jobID, slot: slot, connecting: connecting)
                var confirmations = 1
                while confirmation.cooldown <= 0 {
                    let target = confirmation.local(confirmation.sendAt)
                    // Within the tolerance, go at once: a sleep that short tends to overshoot on a busy machine,
                    // and leaving up to 3 ms early is inside the confirmation's 10 ms guard.
                    if target > ContinuousClock.now + self.lateWakeTolerance {
                        try await Task.sleep(until: target, clock: .continuous)
                        // Woken late (a busy machine): the calls confirmed meanwhile took this one to have left on
                        // time. Confirm again at the real moment (which answers "now" unless the window has filled
                        // since), so that the windows are checked as sent.
                        if ContinuousClock.now - target > self.lateWakeTolerance && confirmations < 10 {
                            confirmation = try await self.confirm(
                                key: key, jobID: jobID, slot: confirmation.sendAt, connecting: connecting)
                            confirmations += 1
                            continue
                        }
                    }
                    let leftAt = confirmation.database(ContinuousClock.now)
                    self.logger.debug(
                        "Send slot confirmed",
                        metadata: [
                            "rate_limit.key": "\(key)", "job.id": "\(jobID)", "pacing.slot": "\(slot.timeIntervalSince1970)",
                            "pacing.send_at": "\(confirmation.sendAt.timeIntervalSince1970)",
                            "pacing.left_at": "\(leftAt.timeIntervalSince1970)", "pacing.confirmations": "\(confirmations)",
                        ])
                    return Grant(slot: slot, waited: ContinuousClock.now - started, leftAt: leftAt)
                }
                self.logger.debug("Cool-down began while waiting for a slot; reserving again", metadata: ["rate_limit.key": "\(key)"])
                PacingMetrics.honouredCooldown(key: key)
            }
        } catch {
            try? await self.release(key: key, jobID: jobID, httpStatus: nil, retryAfter: nil, sentAt: nil)
            throw error
        }
    }

    private static func duration(seconds: Double) -> Duration {
        .microseconds(Int64((max(seconds, 0) * 1_000_000).rounded(.up)))
    }

    /// Ends the call's reservation; `httpStatus` 429 (or 503 with `retryAfter`) starts a fleet-wide cool-down.
    /// `sentAt` (by the database's clock) is when the request was written, if it was: the calls confirming
    /// after it keep their distance from it.
    public func release(key: String, jobID: Int64, httpStatus: Int?, retryAfter: Duration?, sentAt: Date? = nil) async throws {
        if let until = self.unpaced.until.withLock({ $0[key] }), ContinuousClock.now < until { return }
        let query: PostgresQuery = """
            SELECT tuku.release_slot(\(key), \(jobID), \(httpStatus.map { Int32(clamping: $0) }), \(retryAfter?.inSeconds), \(sentAt))
            """
        // A send is reported for the calls confirming after it: worth a few more tries through a short outage.
        let giveUpAt = ContinuousClock.now + (sentAt == nil ? .zero : self.reportSendFor)
        var delay = Duration.milliseconds(100)
        while true {
            do {
                try await DatabaseDeadline.run("slot release", timeout: self.callTimeout) { [client, logger] in
                    try await client.execute(query, logger: logger)
                }
                break
            } catch let error where !(error is CancellationError) && ContinuousClock.now + delay < giveUpAt {
                self.logger.warning(
                    "Could not report a send; retrying", metadata: ["rate_limit.key": "\(key)", "error": "\(QueueError.describe(error))"])
                try await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(2))
            }
        }
        PacingMetrics.released(key: key, httpStatus: httpStatus, retryAfter: retryAfter)
    }

    /// The slot and how many seconds away it is, or `nil` at the in-flight cap.
    private func reserve(key: String, jobID: Int64, workerID: Int64?) async throws -> (Date, Double)? {
        try await DatabaseDeadline.run("slot reservation", timeout: self.callTimeout) {
            try await self.reserveUnbounded(key: key, jobID: jobID, workerID: workerID)
        }
    }

    private func reserveUnbounded(key: String, jobID: Int64, workerID: Int64?) async throws -> (Date, Double)? {
        let rows = try await self.client.query(
            """
            SELECT slot = '-infinity', CASE WHEN slot = '-infinity' THEN now() ELSE slot END,
                   CASE WHEN slot = '-infinity' THEN 0 ELSE greatest(extract(epoch FROM slot - now()), 0) END::float8
            FROM tuku.reserve_slot(\(key), \(jobID), \(workerID)) AS slot
            WHERE slot IS NOT NULL
            """, logger: self.logger)
        for try await (unlimited, slot, wait) in rows.decode((Bool, Date, Double).self) {
            return (unlimited ? .distantPast : slot, wait)
        }
        return nil
    }

    /// A slot confirmed shortly before it, with the database's clock mapped onto this process's.
    ///
    /// The database read its clock somewhere between the moment we asked and the moment its answer was read, so a
    /// local instant maps to a range of database times. Both directions take the safe end: the send waits until
    /// the database's clock has surely passed the send time, and the send is reported at the latest time it can
    /// have been. On a loaded machine, where answers sit unread for a while, that costs a little pace, never a
    /// window.
    struct Confirmation: Sendable {
        /// Seconds of cool-down still to wait (then reserve again); 0 when none.
        var cooldown: Double
        /// When to send, by the database's clock.
        var sendAt: Date
        /// The database's clock as it answered.
        var databaseNow: Date
        /// When we asked, and when the answer was read.
        var asked: ContinuousClock.Instant
        var answered: ContinuousClock.Instant

        /// The first local instant at which the database's clock has surely reached `date`.
        func local(_ date: Date) -> ContinuousClock.Instant {
            let offset = date.timeIntervalSince(self.databaseNow)
            return self.answered + .nanoseconds(Int64((offset * 1e9).rounded(.up)))
        }

        /// The latest database time a local instant can be.
        func database(_ instant: ContinuousClock.Instant) -> Date {
            self.databaseNow.addingTimeInterval((instant - self.asked).inSeconds)
        }
    }

    private func confirm(key: String, jobID: Int64, slot: Date, connecting: Bool) async throws -> Confirmation {
        try await DatabaseDeadline.run("slot confirmation", timeout: self.callTimeout) {
            try await self.confirmUnbounded(key: key, jobID: jobID, slot: slot, connecting: connecting)
        }
    }

    private func confirmUnbounded(key: String, jobID: Int64, slot: Date, connecting: Bool) async throws -> Confirmation {
        let asked = ContinuousClock.now
        let rows = try await self.client.query(
            "SELECT cooldown_seconds, send_at, database_now FROM tuku.confirm_slot(\(key), \(jobID), \(slot), \(connecting))",
            logger: self.logger)
        for try await (cooldown, sendAt, databaseNow) in rows.decode((Double, Date, Date).self) {
            let answered = ContinuousClock.now
            self.logger.trace(
                "Slot confirmation",
                metadata: [
                    "job.id": "\(jobID)", "pacing.slot": "\(slot.timeIntervalSince1970)", "pacing.cooldown": "\(cooldown)",
                    "pacing.send_at": "\(sendAt.timeIntervalSince1970)", "pacing.database_now": "\(databaseNow.timeIntervalSince1970)",
                    "pacing.round_trip_ms": "\(Int((answered - asked).inSeconds * 1000))",
                ])
            return Confirmation(cooldown: cooldown, sendAt: sendAt, databaseNow: databaseNow, asked: asked, answered: answered)
        }
        // The function has OUT parameters, so it always answers one row; without one there is no clock to go by.
        throw QueueError(.queryFailed, "tuku.confirm_slot('\(key)') returned no row")
    }
}
