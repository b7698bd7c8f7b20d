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

    /// Reports what the run learned about whether a request may have reached the gateway unanswered; the last
    /// report other than ``GatewaySettlement/unchanged`` is stored with the ack (`tuku.jobs.unsettled_since`).
    /// Reported as it happens, so that a run cut short (a released lease) still hands it on.
    public func report(_ settlement: GatewaySettlement) {
        guard settlement != .unchanged else { return }
        self.recorder.settlement.withLock { $0 = settlement }
    }

    /// The run's settlement so far: ``GatewaySettlement/unchanged`` until the handler reports one.
    public var settlement: GatewaySettlement {
        self.recorder.settlement.withLock { $0 }
    }

    /// Sets what the job produced for upstream, as JSON text (an object or any JSON value); the last one set is
    /// stored with the ack in `tuku.jobs.result` if the run ends `succeeded`, and dropped otherwise.
    public func setResult(_ json: String) {
        self.recorder.result.withLock { $0 = json }
    }

    /// The result set so far, if any.
    public var result: String? {
        self.recorder.result.withLock { $0 }
    }

    private final class Recorder: Sendable {
        let exchanges = Mutex<[ExchangeRecord]>([])
        let settlement = Mutex<GatewaySettlement>(.unchanged)
        let result = Mutex<String?>(nil)
    }
}
