import CoreMetrics
import Metrics
import TukuCore

/// What a worker counts and times, through swift-metrics.
///
/// The process chooses the backend: `tuku worker --metrics-port` bootstraps Prometheus; without a bootstrap every
/// call here is a no-op. Labels stay low-cardinality: a job's kind (`unknown` for kinds this worker has no handler
/// for, since upstream systems choose those), its outcome, a gateway action and HTTP status. Never a tenant, a job
/// id, a token or anything from a payload.
public struct WorkerMetrics: Sendable {
    /// Counter `tuku_jobs_claimed_total{kind}`: jobs this worker claimed.
    public static let jobsClaimed = "tuku_jobs_claimed_total"
    /// Counter `tuku_jobs_finished_total{kind,outcome}`: runs that ended, by the outcome the worker reported:
    /// `succeeded`, `retry`, `throttled`, `rejected`, `dead` (given up, or a retry with no attempt left) or `released`
    /// (handed back unfinished at shutdown).
    public static let jobsFinished = "tuku_jobs_finished_total"
    /// Gauge `tuku_jobs_in_hand`: jobs claimed and not yet acknowledged.
    public static let jobsInHand = "tuku_jobs_in_hand"
    /// Gauge `tuku_worker_concurrency`: the most jobs the worker holds at once (`--concurrency`).
    public static let concurrency = "tuku_worker_concurrency"
    /// Histogram `tuku_claim_duration_seconds`: how long each claim statement took (successful claims).
    public static let claimDuration = "tuku_claim_duration_seconds"
    /// Counter `tuku_lease_rescues_total`: jobs whose lease had expired that this worker's rescuer put back.
    public static let leaseRescues = "tuku_lease_rescues_total"
    /// Counter `tuku_acks_refused_total`: acks the database refused because the job's lease had been lost.
    public static let acksRefused = "tuku_acks_refused_total"
    /// Histogram `tuku_gateway_call_duration_seconds{action,status}`: the latency of each recorded exchange (HTTP
    /// call), by SOAP action (its last two path segments, e.g. `Return/File`) and HTTP status code (or the transport
    /// error's code, e.g. `timed_out_after_send`, when no response arrived).
    public static let gatewayCallDuration = "tuku_gateway_call_duration_seconds"
    /// Counter `tuku_database_errors_total{operation}`: the worker's own database calls (`claim`, `ack batch`,
    /// `heartbeat`, `rescue`, `retention sweep`, `worker state`) that failed or passed their deadline.
    public static let databaseErrors = "tuku_database_errors_total"
    /// Gauge `tuku_database_failing`: 1 while the worker's database calls keep failing (three or more in a row),
    /// 0 once one succeeds.
    public static let databaseFailing = "tuku_database_failing"
    /// Gauge `tuku_database_durable`: 1 when the database the worker was given keeps committed work through a
    /// crash (fsync, synchronous_commit and full_page_writes on; see docs/queue.md), 0 when it does not.
    public static let databaseDurable = "tuku_database_durable"
    /// Counter `tuku_jobs_abandoned_total{kind}`: runs that overran their kind's run timeout and were handed back.
    public static let jobsAbandoned = "tuku_jobs_abandoned_total"

    /// The operations `tuku_database_errors_total` counts.
    public static let databaseOperations = ["claim", "ack batch", "heartbeat", "rescue", "retention sweep", "worker state"]

    /// The outcomes `tuku_jobs_finished_total` counts.
    public static let outcomes = ["succeeded", "retry", "throttled", "rejected", "dead", "released"]

    /// Histogram buckets in seconds, by metric name, for backends that need them.
    public static let durationBuckets: [String: [Duration]] = [
        Self.claimDuration: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5].map(Self.seconds),
        // Up to the kinds' 60-second call deadline.
        Self.gatewayCallDuration: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60].map(Self.seconds),
    ]

    // Per-job handles are made once, for every kind this worker handles plus `unknown`: the hot path does no
    // lookups in the backend's registry, and every series exists (at zero) from the start, so that rates count
    // the first event too.
    private let claimedByKind: [String: Counter]
    private let finishedByKind: [String: [String: Counter]]
    private let inHand: Meter
    private let claimTimer: CoreMetrics.Timer
    private let rescues: Counter
    private let refusedAcks: Counter
    private let abandonedByKind: [String: Counter]
    private let databaseErrorsByOperation: [String: Counter]
    private let failing: Gauge

    /// Metrics for a worker that has handlers for `kinds`, made with the current metrics factory.
    public init(kinds: [String]) {
        var claimed: [String: Counter] = [:]
        var finished: [String: [String: Counter]] = [:]
        for kind in Set(kinds).union(["unknown"]) {
            claimed[kind] = Counter(label: Self.jobsClaimed, dimensions: [("kind", kind)])
            for outcome in Self.outcomes {
                let dimensions = [("kind", kind), ("outcome", outcome)]
                finished[kind, default: [:]][outcome] = Counter(label: Self.jobsFinished, dimensions: dimensions)
            }
        }
        self.claimedByKind = claimed
        self.finishedByKind = finished
        self.inHand = Meter(label: Self.jobsInHand)
        self.claimTimer = CoreMetrics.Timer(label: Self.claimDuration)
        self.rescues = Counter(label: Self.leaseRescues)
        self.refusedAcks = Counter(label: Self.acksRefused)
        self.abandonedByKind = Dictionary(
            uniqueKeysWithValues: Set(kinds).union(["unknown"]).map { ($0, Counter(label: Self.jobsAbandoned, dimensions: [("kind", $0)])) })
        self.databaseErrorsByOperation = Dictionary(
            uniqueKeysWithValues: Self.databaseOperations.map {
                ($0, Counter(label: Self.databaseErrors, dimensions: [("operation", $0.replacingOccurrences(of: " ", with: "_"))]))
            })
        self.failing = Gauge(label: Self.databaseFailing)
    }

    /// A run of `job` overran its kind's run timeout and was handed back.
    func abandoned(_ job: ClaimedJob) {
        self.abandonedByKind[self.kindLabel(job.kind)]?.increment()
        self.finishedByKind[self.kindLabel(job.kind)]?["retry"]?.increment()
    }

    /// One of the worker's database calls (`operation`) failed or passed its deadline.
    func databaseError(operation: String) {
        self.databaseErrorsByOperation[operation]?.increment()
    }

    /// The worker's database calls keep failing (`true`), or succeed again.
    func databaseFailing(_ failing: Bool) {
        self.failing.record(failing ? 1 : 0)
    }

    /// Whether the database the worker was given keeps committed work through a crash.
    static func databaseDurable(_ durable: Bool) {
        Gauge(label: Self.databaseDurable).record(durable ? 1 : 0)
    }

    /// The worker started with `concurrency`.
    func started(concurrency: Int) {
        Gauge(label: Self.concurrency).record(concurrency)
        self.inHand.set(0)
        self.failing.record(0)
    }

    /// One claim statement returned `jobs` after `duration`.
    func claimed(_ jobs: [ClaimedJob], took duration: Duration) {
        self.claimTimer.record(duration: duration)
        guard !jobs.isEmpty else { return }
        var byKind: [String: Int] = [:]
        for job in jobs { byKind[self.kindLabel(job.kind), default: 0] += 1 }
        for (kind, count) in byKind {
            self.claimedByKind[kind]?.increment(by: count)
        }
        self.inHand.increment(by: Double(jobs.count))
    }

    /// A run of `job` ended with `outcome` (before its ack is written).
    func finished(_ job: ClaimedJob, outcome: JobAck.Outcome) {
        self.finishedByKind[self.kindLabel(job.kind)]?[Self.outcomeLabel(outcome, job: job)]?.increment()
    }

    /// A batch of `count` acks was written, of which `accepted` were accepted.
    func acknowledged(_ count: Int, accepted: Int) {
        self.inHand.decrement(by: Double(count))
        if accepted < count { self.refusedAcks.increment(by: count - accepted) }
    }

    /// The rescuer put back `count` jobs whose lease had expired.
    func rescued(_ count: Int) {
        self.rescues.increment(by: count)
    }

    /// Times one exchange a handler recorded; exchanges without a latency are not timed.
    static func recorded(_ exchange: ExchangeRecord) {
        guard let latency = exchange.latency else { return }
        let dimensions = [("action", Self.actionLabel(exchange.action)), ("status", Self.statusLabel(exchange))]
        CoreMetrics.Timer(label: Self.gatewayCallDuration, dimensions: dimensions).record(duration: latency)
    }

    // MARK: Labels

    /// The kind, or `unknown` for a kind with no handler here (upstream systems may insert any kind).
    func kindLabel(_ kind: String) -> String {
        self.claimedByKind[kind] == nil ? "unknown" : kind
    }

    /// The outcome's name, except that a retry with no attempt left is `dead` (as the ack makes it).
    static func outcomeLabel(_ outcome: JobAck.Outcome, job: ClaimedJob) -> String {
        outcome.name == "retry" && job.attempt >= job.maxAttempts ? "dead" : outcome.name
    }

    /// The last two path segments of a SOAP action: `https://…/GWS/Returns/Return/File` is `Return/File`.
    static func actionLabel(_ action: String) -> String {
        action.split(separator: "/").suffix(2).joined(separator: "/")
    }

    /// The HTTP status code, or the transport error's code when no response arrived.
    static func statusLabel(_ exchange: ExchangeRecord) -> String {
        exchange.httpStatus.map { String($0) } ?? exchange.transportError ?? "no_response"
    }

    private static func seconds(_ value: Double) -> Duration {
        .nanoseconds(Int64((value * 1e9).rounded()))
    }
}
