import Logging
import Synchronization
import TukuCore

/// What a handler gets besides its payload: a logger with the job's metadata, and a place to record the
/// HTTP calls it makes (they are stored with the attempt, in `tuku.exchanges`).
public struct JobContext: Sendable {
    /// Carries `job.id`, `job.kind` and `job.attempt`.
    public var logger: Logger
    /// The `tuku.workers.id` of the worker running the job.
    public var workerID: Int64?
    private let recorder: Recorder

    public init(logger: Logger, workerID: Int64? = nil) {
        self.logger = logger
        self.workerID = workerID
        self.recorder = Recorder()
    }

    /// Records one HTTP call and its outcome, and times it in `tuku_gateway_call_duration_seconds`.
    public func record(_ exchange: ExchangeRecord) {
        self.recorder.exchanges.withLock { $0.append(exchange) }
        WorkerMetrics.recorded(exchange)
    }

    /// Everything recorded so far, in order.
    public var exchanges: [ExchangeRecord] {
        self.recorder.exchanges.withLock { $0 }
    }

    private final class Recorder: Sendable {
        let exchanges = Mutex<[ExchangeRecord]>([])
    }
}
