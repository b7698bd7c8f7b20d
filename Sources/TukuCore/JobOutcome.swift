/// How one run of a job ended, as a handler reports it. The worker turns it into the job's next state.
public enum JobOutcome: Sendable, Hashable {
    /// The work is done.
    case succeeded
    /// The attempt failed; run again after the given delay (or the kind's backoff when `nil`).
    /// Once the attempts are exhausted the job is `dead`.
    case retry(after: Duration?, error: JobError)
    /// The far side asked us to slow down. The job runs again after `after` and the run costs no attempt.
    case throttled(after: Duration, error: JobError)
    /// The input is bad; retrying cannot help. The job ends `rejected`.
    case rejected(JobError)
    /// Give up now without spending the remaining attempts. The job ends `dead`.
    case dead(JobError)

    /// The name stored in `tuku.attempts.outcome`.
    public var name: String {
        switch self {
        case .succeeded: "succeeded"
        case .retry: "retry"
        case .throttled: "throttled"
        case .rejected: "rejected"
        case .dead: "dead"
        }
    }

    /// The error recorded with this outcome, if any.
    public var error: JobError? {
        switch self {
        case .succeeded: nil
        case .retry(_, let error), .throttled(_, let error), .rejected(let error), .dead(let error): error
        }
    }
}
