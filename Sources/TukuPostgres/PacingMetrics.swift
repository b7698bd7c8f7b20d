import CoreMetrics
import Metrics

/// What fleet-wide pacing (``RateLimiter``) counts and times, through swift-metrics (a no-op until the process
/// bootstraps a backend). The only label is the limit key (e.g. `ird.gateway`), which comes from the kind definitions.
public enum PacingMetrics {
    /// Histogram `tuku_pacing_wait_seconds{key}`: how long each call waited for its send slot.
    public static let wait = "tuku_pacing_wait_seconds"
    /// Counter `tuku_pacing_cooldowns_total{key,event}`. `event="set"`: a call of this worker was pushed back (429, or
    /// 503 with Retry-After) and paused the key for the whole fleet. `event="honoured"`: a cool-down began while this
    /// worker waited for its slot, so it reserved a later one. (A wait that starts during a cool-down is placed after
    /// it by the database, and shows in `tuku_pacing_wait_seconds`.)
    public static let cooldowns = "tuku_pacing_cooldowns_total"

    /// Histogram buckets in seconds, by metric name, for backends that need them. Waits run to tens of seconds when
    /// many jobs queue behind a low rate or a cool-down.
    public static let durationBuckets: [String: [Duration]] = [
        Self.wait: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120].map {
            .nanoseconds(Int64(($0 * 1e9).rounded()))
        }
    ]

    /// A call under `key` got its slot after waiting `waited`.
    static func waited(_ waited: Duration, key: String) {
        CoreMetrics.Timer(label: Self.wait, dimensions: [("key", key)]).record(duration: waited)
    }

    /// A reservation under `key` ended with `httpStatus`: counts the cool-down it starts, if any (the same rule as
    /// `tuku.release_slot`).
    static func released(key: String, httpStatus: Int?, retryAfter: Duration?) {
        guard httpStatus == 429 || (httpStatus == 503 && retryAfter != nil) else { return }
        Counter(label: Self.cooldowns, dimensions: [("key", key), ("event", "set")]).increment()
    }

    /// A cool-down under `key` began while this worker waited for its slot.
    static func honouredCooldown(key: String) {
        Counter(label: Self.cooldowns, dimensions: [("key", key), ("event", "honoured")]).increment()
    }
}
