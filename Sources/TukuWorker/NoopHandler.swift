import Logging
import TukuCore

/// The `noop` kind: succeeds at once, or after `delay_ms` milliseconds. For benchmarks and drills.
public struct NoopHandler: JobHandler {
    /// `{}` or `{"delay_ms": 250}`.
    public struct Payload: Decodable, Sendable {
        /// How long the job pretends to work, in milliseconds (0–600000).
        public var delayMilliseconds: Int?

        enum CodingKeys: String, CodingKey {
            case delayMilliseconds = "delay_ms"
        }
    }

    public let kind = "noop"
    public let retryPolicy: RetryPolicy

    public init(retryPolicy: RetryPolicy = RetryPolicy()) {
        self.retryPolicy = retryPolicy
    }

    public func run(_ payload: Payload, job: ClaimedJob, context: JobContext) async throws -> JobOutcome {
        if let delay = payload.delayMilliseconds {
            guard (0...600_000).contains(delay) else {
                return .rejected(
                    JobError(
                        code: "payload_invalid", message: "the payload is not a valid 'noop' payload",
                        problems: [.init(path: "delay_ms", reason: "must be from 0 to 600000")]))
            }
            try await Task.sleep(for: .milliseconds(delay))
        }
        return .succeeded
    }
}
