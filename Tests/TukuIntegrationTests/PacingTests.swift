import Foundation
import Logging
import PostgresNIO
import Synchronization
import Testing
import TukuCore
import TukuPostgres
import TukuTestSupport

@Suite("Fleet-wide pacing in PostgreSQL")
struct PacingTests {
    /// The most events (seconds from the first) in any window of `window` seconds starting at an event.
    static func maximumInWindow(_ times: [Double], window: Double) -> Int {
        let sorted = times.sorted()
        var best = 0
        var start = 0
        for end in sorted.indices {
            while sorted[end] - sorted[start] >= window { start += 1 }
            best = max(best, end - start + 1)
        }
        return best
    }

    @Test("eight concurrent callers get send slots spaced 1/rate apart: no one-second window exceeds the rate")
    func evenSpacing() async throws {
        try await TestDatabase.withFresh { client, _ in
            try await client.execute("SELECT tuku.set_rate('gw', 20)")
            let limiter = RateLimiter(client: client, logger: .test())
            let sent = SendTimes()
            let slots = SlotTimes()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for caller in 0..<8 {
                    group.addTask {
                        for call in 0..<6 {
                            let job = Int64(caller * 100 + call)
                            let grant = try await limiter.acquire(key: "gw", jobID: job, workerID: nil)
                            sent.times.withLock { $0.append(.now) }
                            slots.times.withLock { $0.append(grant.slot) }
                            try await limiter.release(key: "gw", jobID: job, httpStatus: 200, retryAfter: nil, sentAt: grant.leftAt)
                        }
                    }
                }
                try await group.waitForAll()
            }
            let instants = sent.times.withLock { $0 }.sorted()
            #expect(instants.count == 48)
            // The slots the database handed out never put more than 20 into any second ...
            let granted = slots.times.withLock { $0 }.sorted()
            let gaps = zip(granted.dropFirst(), granted).map { $0.timeIntervalSince($1) }
            #expect(gaps.allSatisfy { $0 >= 0.0504 }, "slot gaps (1.01 / 20 s with the default margin) \(gaps.min() ?? 0)")
            #expect(Set(granted).count == 48)
            #expect(Self.maximumInWindow(granted.map { $0.timeIntervalSince(granted[0]) }, window: 1) <= 20)
            // ... and the sends, which trail their slots by however late each caller woke, still do: each caller
            // confirmed against the sends reported before it. Measured here by this process's own clock at the
            // moment each caller left; the limiter may let a caller go up to 3 ms early (inside its 10 ms guard),
            // so the check allows 5 ms: 21 sends inside 995 ms would mean the confirmation failed.
            let leaving = instants.map { ($0 - instants[0]).inSeconds }
            #expect(Self.maximumInWindow(leaving, window: 0.995) <= 20)
            // 48 calls with at most 20 in any second span at least two seconds (call 41 is a second after call 21,
            // which is a second after call 1), however late the first one left.
            #expect(instants.last! - instants.first! >= .milliseconds(2000))
            #expect(try await client.scalar("SELECT in_flight FROM tuku.rate_limit_status WHERE key = 'gw'", as: Int64.self) == 0)
        }
    }

    @Test("a confirmation holds a call back until the sends reported and the calls in flight leave its window within the limit")
    func confirmationKeepsWindows() async throws {
        try await TestDatabase.withFresh { client, _ in
            try await client.execute("SELECT tuku.set_rate('w', 2)")
            let t0 = "2030-01-01 00:00:00+00"
            // Two sends at t0 and t0 + 0.1 s: a call due at t0 + 0.6 s would be the third in one second.
            try await client.execute(
                "INSERT INTO tuku.rate_limit_sends (key, sent_at) VALUES ('w', \(t0)::timestamptz), ('w', \(t0)::timestamptz + interval '0.1 s')")
            try await client.execute("INSERT INTO tuku.rate_limit_calls (key, job_id, slot_at) VALUES ('w', 7, \(t0)::timestamptz + interval '0.6 s')")
            let wait = try await client.scalar(
                "SELECT wait_seconds FROM tuku.confirm_slot('w', 7, \(t0)::timestamptz + interval '0.6 s')", as: Double.self)
            #expect(abs(wait - 0.410) < 0.0001, "\(wait)")
            // Its own row now says when it leaves, for the calls confirming after it.
            #expect(try await client.scalar(
                "SELECT send_at = \(t0)::timestamptz + interval '1.010 s' FROM tuku.rate_limit_calls WHERE job_id = 7", as: Bool.self))

            // A call still in flight counts at its expected send: t0 + 1.010 (job 7) and t0 + 0.1 are the two
            // before t0 + 1.05, so job 8 leaves at t0 + 1.110 (10 ms guard).
            // A reservation that has not confirmed yet (job 8's own, and job 10's just before it) does not count.
            try await client.execute(
                """
                INSERT INTO tuku.rate_limit_calls (key, job_id, slot_at)
                VALUES ('w', 8, \(t0)::timestamptz + interval '1.05 s'), ('w', 10, \(t0)::timestamptz + interval '1.04 s')
                """)
            let second = try await client.scalar(
                "SELECT wait_seconds FROM tuku.confirm_slot('w', 8, \(t0)::timestamptz + interval '1.05 s')", as: Double.self)
            #expect(abs(second - 0.060) < 0.0001, "\(second)")

            // Room in the window: no wait. A cool-down: reported instead, and the caller reserves again.
            #expect(try await client.scalar(
                "SELECT wait_seconds FROM tuku.confirm_slot('w', 9, \(t0)::timestamptz + interval '5 s')", as: Double.self) == 0)
            // Sends are decided in order: a call due at t0 + 6 s does not slip in before one already decided for
            // t0 + 7 s, whose windows were checked without it.
            try await client.execute(
                "INSERT INTO tuku.rate_limit_calls (key, job_id, slot_at, send_at) VALUES ('w', 11, \(t0)::timestamptz + interval '7 s', \(t0)::timestamptz + interval '7 s')")
            #expect(try await client.scalar(
                "SELECT send_at = \(t0)::timestamptz + interval '7 s' FROM tuku.confirm_slot('w', 12, \(t0)::timestamptz + interval '6 s')",
                as: Bool.self))
            try await client.execute("UPDATE tuku.rate_limits SET cooldown_until = now() + interval '10 s'")
            #expect(try await client.scalar(
                "SELECT cooldown_seconds BETWEEN 1 AND 10 FROM tuku.confirm_slot('w', 9, now())", as: Bool.self))
        }
    }

    @Test("a call in flight on a new connection counts as arriving at any moment until it is answered")
    func connectingCallsCountUntilAnswered() async throws {
        try await TestDatabase.withFresh { client, _ in
            try await client.execute("SELECT tuku.set_rate('c', 2)")
            // Fixed times in the future, so that the machine's speed cannot move anything.
            let t0 = "2030-01-01 00:00:00+00"
            try await client.execute("INSERT INTO tuku.rate_limit_sends (key, sent_at) VALUES ('c', \(t0)::timestamptz - interval '0.5 s')")
            // Job 1 decided its send five seconds before t0 and is still unanswered; on a warm connection it is long
            // out of any window that ends at t0.
            try await client.execute(
                """
                INSERT INTO tuku.rate_limit_calls (key, job_id, slot_at, send_at)
                VALUES ('c', 1, \(t0)::timestamptz - interval '5 s', \(t0)::timestamptz - interval '5 s')
                """)
            #expect(try await client.scalar(
                "SELECT send_at = \(t0)::timestamptz FROM tuku.confirm_slot('c', 2, \(t0)::timestamptz)", as: Bool.self))
            // Opening a connection, it may only now be reaching the gateway: with the send half a second before t0,
            // the window is full until that send is a window (1.01 s) old.
            try await client.execute("UPDATE tuku.rate_limit_calls SET connecting = true WHERE job_id = 1")
            #expect(try await client.scalar(
                "SELECT send_at = \(t0)::timestamptz + interval '0.51 s' FROM tuku.confirm_slot('c', 3, \(t0)::timestamptz)",
                as: Bool.self))
        }
    }

    @Test("a 429 pauses every caller until Retry-After; a second within 30 s also halves the effective rate, which then climbs back")
    func sharedCooldown() async throws {
        try await TestDatabase.withFresh { client, _ in
            try await client.execute("SELECT tuku.set_rate('gw', 10)")
            try await client.execute("UPDATE tuku.rate_limits SET recovery_seconds = 20")
            let limiter = RateLimiter(client: client, logger: .test())
            try await limiter.acquire(key: "gw", jobID: 1, workerID: nil)
            let started = ContinuousClock.now  // before the release, whose database time starts the cool-down
            try await limiter.release(key: "gw", jobID: 1, httpStatus: 429, retryAfter: .milliseconds(1200))
            // A lone refusal costs only the cool-down ...
            #expect(try await client.scalar("SELECT effective_rate::float8 FROM tuku.rate_limit_status WHERE key = 'gw'", as: Double.self) == 10)
            // ... a repeated one lowers the rate too.
            try await limiter.release(key: "gw", jobID: 1, httpStatus: 429, retryAfter: .milliseconds(1200))
            let halved = try await client.scalar("SELECT effective_rate::float8 FROM tuku.rate_limit_status WHERE key = 'gw'", as: Double.self)
            #expect(halved >= 5 && halved < 5.5)
            #expect(try await client.scalar("SELECT throttles_last_hour FROM tuku.rate_limit_status WHERE key = 'gw'", as: Int64.self) == 2)
            try await limiter.acquire(key: "gw", jobID: 2, workerID: nil)
            // Without the cool-down the next slot would be 0.1 s away.
            #expect(ContinuousClock.now - started >= .milliseconds(1150))
            try await limiter.release(key: "gw", jobID: 2, httpStatus: 200, retryAfter: nil)
            try await Task.sleep(for: .seconds(1))
            let recovering = try await client.scalar("SELECT effective_rate::float8 FROM tuku.rate_limit_status WHERE key = 'gw'", as: Double.self)
            #expect(recovering > halved && recovering < 10)
        }
    }

    @Test("a cool-down that begins while a caller sleeps on its slot stops that caller too")
    func cooldownReachesSleepers() async throws {
        try await TestDatabase.withFresh { client, _ in
            // Slots 2 s apart, so that the refusal surely lands while the second caller sleeps on its slot, even
            // on a loaded machine (at 0.5 s apart, a slow start once let the caller go before the refusal came).
            try await client.execute("SELECT tuku.set_rate('gw', 0.5)")
            let limiter = RateLimiter(client: client, logger: .test())
            try await limiter.acquire(key: "gw", jobID: 1, workerID: nil)  // slot now; the next is 2 s later
            async let sleeper = limiter.acquire(key: "gw", jobID: 2, workerID: nil)
            try await Task.sleep(for: .milliseconds(150))
            let refused = ContinuousClock.now  // before the release, whose database time starts the cool-down
            try await limiter.release(key: "gw", jobID: 1, httpStatus: 429, retryAfter: .seconds(3))
            _ = try await sleeper
            // Its slot was due within 2 s; the cool-down held it 3 s from the refusal.
            #expect(ContinuousClock.now - refused >= .milliseconds(2900))
        }
    }

    @Test("the fleet-wide in-flight cap holds a call until another finishes")
    func inFlightCap() async throws {
        try await TestDatabase.withFresh { client, _ in
            try await client.execute("SELECT tuku.set_rate('gw', 1000, 1, 2)")
            let limiter = RateLimiter(client: client, logger: .test())
            try await limiter.acquire(key: "gw", jobID: 1, workerID: nil)
            try await limiter.acquire(key: "gw", jobID: 2, workerID: nil)
            async let third = limiter.acquire(key: "gw", jobID: 3, workerID: nil)
            try await Task.sleep(for: .milliseconds(400))
            #expect(try await client.scalar("SELECT in_flight FROM tuku.rate_limit_status WHERE key = 'gw'", as: Int64.self) == 2)
            try await limiter.release(key: "gw", jobID: 1, httpStatus: 200, retryAfter: nil)
            let waited = try await third.waited
            #expect(waited >= .milliseconds(380))
            #expect(try await client.scalar("SELECT in_flight FROM tuku.rate_limit_status WHERE key = 'gw'", as: Int64.self) == 2)
        }
    }

    @Test("a key with no limit row is not paced, and operators change a rate live")
    func liveChanges() async throws {
        try await TestDatabase.withFresh { client, _ in
            let limiter = RateLimiter(client: client, logger: .test())
            // Not paced: the wait is the database round trip alone (a paced call after it would wait a whole slot).
            #expect(try await limiter.acquire(key: "unlimited", jobID: 1, workerID: nil).waited < .seconds(1))
            try await client.execute("SELECT tuku.set_rate('gw', 1)")
            try await limiter.acquire(key: "gw", jobID: 1, workerID: nil)
            try await client.execute("SELECT tuku.set_rate('gw', 100)")
            // The slot already promised (1 s after the first) stands; the one after follows the new rate.
            let second = try await limiter.acquire(key: "gw", jobID: 2, workerID: nil)
            let asked = Date()
            let third = try await limiter.acquire(key: "gw", jobID: 3, workerID: nil)
            // The slots the database granted: at the new rate the third follows the later of the second slot and
            // its own request by 10 ms; at the old rate it would be a whole second after the second slot. (A
            // machine so loaded that the request comes over a second late cannot tell the two apart.)
            #expect(third.slot.timeIntervalSince(max(second.slot, asked)) < 0.5)
        }
    }
}

/// When each call was let through.
final class SendTimes: Sendable {
    let times = Mutex<[ContinuousClock.Instant]>([])
}

/// The slots the database granted.
final class SlotTimes: Sendable {
    let times = Mutex<[Date]>([])
}
