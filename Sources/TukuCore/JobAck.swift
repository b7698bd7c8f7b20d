import Foundation

/// What a worker reports back for one run of a job: the row values of a fenced acknowledgement.
public struct JobAck: Sendable, Hashable {
    /// `tuku.jobs.id`.
    public var jobID: Int64
    /// The fencing token from the claim. An ack whose token is stale changes nothing.
    public var leaseToken: Int64
    /// The run's outcome.
    public var outcome: Outcome
    /// When the run started, on the wall clock.
    public var startedAt: Date
    /// The HTTP calls the run made, in order.
    public var exchanges: [ExchangeRecord]
    /// What the run learned about whether a request may have reached the gateway unanswered.
    public var settlement: GatewaySettlement
    /// What the job produced for upstream, as a JSON value (for example the obligations an `hmrc.vat.obligations`
    /// job read); stored in `tuku.jobs.result` only when the job ends `succeeded`. `nil` for none.
    public var result: String?

    /// The outcome as stored: a name, an optional error, and the delay before the next run.
    public struct Outcome: Sendable, Hashable {
        /// One of `succeeded`, `retry`, `throttled`, `rejected`, `dead`, `released`.
        public var name: String
        public var error: JobError?
        /// For `retry` and `throttled`: how long until the job may run again.
        public var delay: Duration?

        public init(name: String, error: JobError?, delay: Duration?) {
            self.name = name
            self.error = error
            self.delay = delay
        }

        /// A lease handed back unfinished (graceful shutdown): the run costs no attempt.
        public static let released = Outcome(
            name: "released",
            error: JobError(code: "released", message: "the worker shut down before the job finished; it was put back"),
            delay: nil
        )

        /// Resolves a handler's outcome, filling in the retry delay from `policy` where the handler left it out.
        public init(_ outcome: JobOutcome, attempt: Int, policy: RetryPolicy) {
            switch outcome {
            case .succeeded:
                self.init(name: "succeeded", error: nil, delay: nil)
            case .retry(let after, let error):
                self.init(name: "retry", error: error, delay: after ?? policy.delay(afterAttempt: attempt))
            case .throttled(let after, let error):
                self.init(name: "throttled", error: error, delay: after)
            case .rejected(let error):
                self.init(name: "rejected", error: error, delay: nil)
            case .dead(let error):
                self.init(name: "dead", error: error, delay: nil)
            }
        }
    }

    public init(
        jobID: Int64, leaseToken: Int64, outcome: Outcome, startedAt: Date, exchanges: [ExchangeRecord] = [],
        settlement: GatewaySettlement = .unchanged, result: String? = nil
    ) {
        self.jobID = jobID
        self.leaseToken = leaseToken
        self.outcome = outcome
        self.startedAt = startedAt
        self.exchanges = exchanges
        self.settlement = settlement
        self.result = result
    }
}
