import Logging
import TukuCore

/// Runs the jobs of one kind.
///
/// The worker decodes the job's JSON payload into `Payload` first; a payload that does not decode ends the
/// job `rejected` with the decoding problems, and the handler is never called. A handler returns a
/// ``JobOutcome``; an error it throws is treated as `retry` with the kind's backoff.
public protocol JobHandler: Sendable {
    /// What the handler takes.
    associatedtype Payload: Decodable & Sendable

    /// The `tuku.jobs.kind` this handler runs.
    var kind: String { get }

    /// Backoff between failed attempts. Defaults to ``RetryPolicy/init(base:cap:jitter:)``'s defaults.
    var retryPolicy: RetryPolicy { get }

    /// Runs one attempt of a job.
    func run(_ payload: Payload, job: ClaimedJob, context: JobContext) async throws -> JobOutcome
}

extension JobHandler {
    public var retryPolicy: RetryPolicy { RetryPolicy() }
}
