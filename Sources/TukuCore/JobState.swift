/// Where a job is in its life. The transitions are documented in `docs/job-states.md`.
public enum JobState: String, Sendable, Hashable, CaseIterable, Codable {
    /// Ready to be claimed now.
    case available
    /// Waiting for its `run_at` (inserted for later, or throttled by the gateway).
    case scheduled
    /// Claimed by a worker that holds a lease on it.
    case running
    /// Failed an attempt and waits for its backoff to pass.
    case retryable
    /// Done. For gateway kinds: the gateway accepted it.
    case succeeded
    /// Bad input; never retried on its own.
    case rejected
    /// Every attempt failed.
    case dead
    /// Stopped by an operator.
    case cancelled

    /// Whether the job has ended and will not run again unless an operator retries it.
    public var isFinal: Bool {
        switch self {
        case .succeeded, .rejected, .dead, .cancelled: true
        case .available, .scheduled, .running, .retryable: false
        }
    }
}
