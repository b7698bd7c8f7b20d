/// Exponential backoff with jitter, capped: `min(cap, base × 2^(attempt−1))`, then spread by ±`jitter`.
public struct RetryPolicy: Sendable, Hashable, Codable {
    /// The delay after the first failed attempt. Defaults to 5 seconds.
    public var base: Duration
    /// The longest delay. Defaults to 1 hour.
    public var cap: Duration
    /// The fraction by which a delay is randomly spread either way (0.1 = ±10 %). Defaults to 0.1.
    public var jitter: Double

    public init(base: Duration = .seconds(5), cap: Duration = .seconds(3600), jitter: Double = 0.1) {
        precondition(base > .zero && cap >= base, "backoff needs 0 < base ≤ cap")
        precondition((0..<1).contains(jitter), "jitter is a fraction in [0, 1)")
        self.base = base
        self.cap = cap
        self.jitter = jitter
    }

    /// The delay before the run after failed attempt number `attempt` (1-based).
    public func delay(afterAttempt attempt: Int, using generator: inout some RandomNumberGenerator) -> Duration {
        let exponent = max(0, min(attempt - 1, 62))
        let baseSeconds = self.base.inSeconds
        let capSeconds = self.cap.inSeconds
        let raw = min(capSeconds, baseSeconds * Double(sign: .plus, exponent: exponent, significand: 1))
        let spread = self.jitter == 0 ? 1 : Double.random(in: (1 - self.jitter)...(1 + self.jitter), using: &generator)
        return .milliseconds(Int64((raw * spread * 1000).rounded()))
    }

    /// The delay before the run after failed attempt number `attempt`, with the system's random numbers.
    public func delay(afterAttempt attempt: Int) -> Duration {
        var generator = SystemRandomNumberGenerator()
        return self.delay(afterAttempt: attempt, using: &generator)
    }
}
