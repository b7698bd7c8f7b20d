import Testing
import TukuCore

@Suite("Retry policy")
struct RetryPolicyTests {
    @Test("delays double per attempt within the jitter band, then stop at the cap")
    func exponentialWithCap() {
        let policy = RetryPolicy(base: .seconds(5), cap: .seconds(60), jitter: 0.1)
        for attempt in 1...10 {
            let expected = min(60.0, 5.0 * Double(1 << (attempt - 1)))
            for _ in 0..<50 {
                let delay = policy.delay(afterAttempt: attempt)
                let seconds = Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18
                #expect(seconds >= expected * 0.9 - 0.001 && seconds <= expected * 1.1 + 0.001, "attempt \(attempt): \(seconds)s")
            }
        }
    }

    @Test("jitter spreads delays rather than repeating one value")
    func jitterSpreads() {
        let policy = RetryPolicy(base: .seconds(10), cap: .seconds(10), jitter: 0.1)
        let delays = Set((0..<100).map { _ in policy.delay(afterAttempt: 1) })
        #expect(delays.count > 20)
    }

    @Test("no jitter gives the exact exponential value, and huge attempt numbers do not overflow")
    func exactWithoutJitter() {
        let policy = RetryPolicy(base: .milliseconds(100), cap: .seconds(3600), jitter: 0)
        #expect(policy.delay(afterAttempt: 1) == .milliseconds(100))
        #expect(policy.delay(afterAttempt: 4) == .milliseconds(800))
        #expect(policy.delay(afterAttempt: 10_000) == .seconds(3600))
    }
}
