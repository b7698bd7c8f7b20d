import Logging
import Synchronization
import TukuCore

/// What a handler gets besides its payload: a logger with the job's metadata, and a place to record the
/// HTTP calls it makes (they are stored with the attempt, in `tuku.exchanges`).
public struct JobContext: Sendable {
    /// Carries `job.id`, `job.kind` and `job.attempt`.
    public var logger: Logger
    private let recorder: Recorder

    public init(logger: Logger) {
        self.logger = logger
        self.recorder = Recorder()
    }

    /// Records one HTTP call and its outcome.
    public func record(_ exchange: ExchangeRecord) {
        self.recorder.exchanges.withLock { $0.append(exchange) }
    }

    /// Everything recorded so far, in order.
    public var exchanges: [ExchangeRecord] {
        self.recorder.exchanges.withLock { $0 }
    }

    private final class Recorder: Sendable {
        let exchanges = Mutex<[ExchangeRecord]>([])
    }
}
