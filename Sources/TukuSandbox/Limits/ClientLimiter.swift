import Synchronization

/// Enforces a request rate and a maximum concurrency per client, as IRD does per service provider.
///
/// The rate is a sliding window: with rate `r`, at most `n = max(1, ⌊r⌋)` calls are admitted in any window of
/// `n / r` seconds (for `r ≥ 1` that is "at most ⌊r⌋ calls in any one second", exactly what a pacing measurement
/// from the arrivals log checks). Only admitted calls count, so a client that keeps retrying is not locked out.
/// Concurrency counts calls admitted and not yet answered.
public final class ClientLimiter: Sendable {
    /// The limits.
    public struct Configuration: Sendable, Hashable {
        /// Calls per second per client; `nil` for no rate limit. Defaults to `nil`.
        public var rate: Double?
        /// Calls in flight per client; `nil` for no limit. Defaults to `nil`.
        public var maximumConcurrency: Int?

        /// Creates limits.
        public init(rate: Double? = nil, maximumConcurrency: Int? = nil) {
            self.rate = rate
            self.maximumConcurrency = maximumConcurrency
        }
    }

    /// The answer to ``admit(_:now:)``.
    public enum Decision: Sendable, Hashable {
        /// The call may proceed; call ``ClientLimiter/release(_:)`` when it is answered.
        case admitted
        /// The client is over its rate; it may try again after the given delay.
        case rateExceeded(retryAfter: Duration)
        /// The client has too many calls in flight.
        case concurrencyExceeded
    }

    private struct ClientState {
        var admitted: [ContinuousClock.Instant] = []
        var head = 0
        var inFlight = 0
    }

    /// The limits.
    public let configuration: Configuration
    private let windowCount: Int
    private let window: Duration
    private let clients = Mutex<[String: ClientState]>([:])

    /// Creates a limiter.
    public init(configuration: Configuration) {
        self.configuration = configuration
        if let rate = configuration.rate, rate > 0 {
            let count = max(1, Int(rate.rounded(.down)))
            self.windowCount = count
            self.window = .nanoseconds(Int64((Double(count) / rate * 1e9).rounded(.up)))
        } else {
            self.windowCount = 0
            self.window = .zero
        }
    }

    /// Admits a call from `client` or says why not. Admitted calls hold a concurrency slot until ``release(_:)``.
    public func admit(_ client: String, now: ContinuousClock.Instant = .now) -> Decision {
        clients.withLock { clients in
            var state = clients[client] ?? ClientState()
            defer { clients[client] = state }
            if let maximum = configuration.maximumConcurrency, state.inFlight >= maximum {
                return .concurrencyExceeded
            }
            if windowCount > 0 {
                let windowStart = now - window
                while state.head < state.admitted.count, state.admitted[state.head] <= windowStart {
                    state.head += 1
                }
                if state.head > 1024 {
                    state.admitted.removeFirst(state.head)
                    state.head = 0
                }
                if state.admitted.count - state.head >= windowCount {
                    return .rateExceeded(retryAfter: state.admitted[state.head] + window - now)
                }
                // Requests are admitted by arrival time, which can be slightly out of order: keep the window sorted.
                var index = state.admitted.count
                while index > state.head, state.admitted[index - 1] > now { index -= 1 }
                state.admitted.insert(now, at: index)
            }
            state.inFlight += 1
            return .admitted
        }
    }

    /// The calls admitted and not yet answered, over every client.
    public var callsInFlight: Int {
        clients.withLock { clients in clients.values.reduce(0) { $0 + $1.inFlight } }
    }

    /// Frees the concurrency slot of an admitted call.
    public func release(_ client: String) {
        clients.withLock { clients in
            clients[client]?.inFlight -= 1
        }
    }
}
