import Synchronization

/// Decides, call by call, which fault (if any) a SOAP call gets, following a ``FaultPlan``.
///
/// Thread-safe: the script position and the random generator live in a `Mutex`, so concurrent calls each take
/// exactly one script entry or one draw.
public final class FaultInjector: Sendable {
    private struct State {
        var nextScriptIndex = 0
        var generator: SeededRandomNumberGenerator
    }

    /// The plan.
    public let plan: FaultPlan
    private let state: Mutex<State>

    /// Creates an injector for a plan.
    public init(plan: FaultPlan) {
        self.plan = plan
        self.state = Mutex(State(generator: SeededRandomNumberGenerator(seed: plan.seed)))
    }

    /// The fault for the next SOAP call, or `nil` for none.
    public func next() -> SandboxFault? {
        state.withLock { state in
            if state.nextScriptIndex < plan.script.count {
                defer { state.nextScriptIndex += 1 }
                return plan.script[state.nextScriptIndex]
            }
            guard !plan.rates.isEmpty else { return nil }
            let draw = Double.random(in: 0..<1, using: &state.generator)
            var cumulative = 0.0
            for rate in plan.rates {
                cumulative += rate.probability
                if draw < cumulative { return rate.fault }
            }
            return nil
        }
    }
}
