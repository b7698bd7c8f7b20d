import Logging
import Metrics
import Prometheus
import TukuMetrics
import TukuPostgres
import TukuWorker

extension WorkerCommand {
    /// With `--metrics-port`: bootstraps swift-metrics with a Prometheus registry (histogram buckets from the
    /// instrumented modules) and returns the server that exposes it. Without it, metrics stay no-ops.
    func makeMetricsServer(logger: Logger) -> MetricsServer? {
        guard let port = self.metricsPort else { return nil }
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets = WorkerMetrics.durationBuckets.merging(PacingMetrics.durationBuckets) { first, _ in first }
        MetricsSystem.bootstrap(factory)
        return MetricsServer(registry: registry, configuration: .init(host: self.metricsHost, port: port), logger: logger)
    }
}
