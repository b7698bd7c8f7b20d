import Foundation
import Logging
import Metrics
import MetricsTestKit
import Testing
import TukuCore

@testable import TukuWorker

@Suite("Worker metrics: names and labels")
struct WorkerMetricsTests {
    func job(kind: String = "noop", attempt: Int = 1, maxAttempts: Int = 3) -> ClaimedJob {
        ClaimedJob(id: 7, kind: kind, tenant: "acme-ltd", payload: "{}", attempt: attempt, maxAttempts: maxAttempts, leaseToken: 1)
    }

    func exchange(latency: Duration?, httpStatus: Int?, transportError: String? = nil) -> ExchangeRecord {
        ExchangeRecord(
            purpose: .submit, endpoint: "https://gateway.example/gws/returns/",
            action: "https://services.ird.govt.nz/GWS/Returns/Return/File",
            startedAt: Date(), latency: latency, httpStatus: httpStatus, transportError: transportError, outcome: "succeeded",
            requestBody: "<secret/>", responseBody: nil)
    }

    @Test("each recorded exchange is timed by action and HTTP status, or by transport error code when no answer came")
    func exchangesAreTimed() throws {
        let metrics = TestMetrics()
        withMetricsFactory(metrics) {
            let context = JobContext(logger: Logger(label: "t"))
            context.record(self.exchange(latency: .milliseconds(250), httpStatus: 200))
            context.record(self.exchange(latency: .seconds(60), httpStatus: nil, transportError: "timed_out_after_send"))
            context.record(self.exchange(latency: nil, httpStatus: nil, transportError: "connect_failed"))
        }
        let ok = try metrics.expectTimer(WorkerMetrics.gatewayCallDuration, [("action", "Return/File"), ("status", "200")])
        #expect(ok.values == [250_000_000])
        let timedOut = try metrics.expectTimer(
            WorkerMetrics.gatewayCallDuration, [("action", "Return/File"), ("status", "timed_out_after_send")])
        #expect(timedOut.values == [60_000_000_000])
        // No latency, nothing to time; and nothing else (tenant, endpoint, bodies) ever becomes a label.
        #expect(metrics.timers.count == 2)
        #expect(metrics.timers.allSatisfy { $0.dimensions.map(\.0) == ["action", "status"] })
    }

    @Test("finished runs count by kind and outcome; a retry with no attempt left counts as dead, as the ack makes it")
    func finishedOutcomes() throws {
        let metrics = TestMetrics()
        withMetricsFactory(metrics) {
            let worker = WorkerMetrics(kinds: ["noop"])
            worker.finished(self.job(), outcome: .init(.succeeded, attempt: 1, policy: RetryPolicy()))
            worker.finished(
                self.job(attempt: 2),
                outcome: .init(.retry(after: nil, error: .init(code: "x", message: "x")), attempt: 2, policy: RetryPolicy()))
            worker.finished(
                self.job(attempt: 3),
                outcome: .init(.retry(after: nil, error: .init(code: "x", message: "x")), attempt: 3, policy: RetryPolicy()))
            worker.finished(self.job(), outcome: .released)
            worker.finished(
                self.job(kind: "made.up.by.upstream"),
                outcome: .init(.rejected(.unknownKind("made.up.by.upstream")), attempt: 1, policy: RetryPolicy()))
        }
        func finished(_ kind: String, _ outcome: String) -> Int64 {
            metrics.counterTotal(label: WorkerMetrics.jobsFinished, dimensions: [("kind", kind), ("outcome", outcome)])
        }
        #expect(finished("noop", "succeeded") == 1)
        #expect(finished("noop", "retry") == 1)
        #expect(finished("noop", "dead") == 1)
        #expect(finished("noop", "released") == 1)
        // Upstream systems choose kinds: one without a handler here is `unknown`, so labels stay few.
        #expect(finished("unknown", "rejected") == 1)
        #expect(metrics.counters(label: WorkerMetrics.jobsFinished).allSatisfy { $0.dimensions.map(\.1).first != "made.up.by.upstream" })
    }

    @Test("every per-job series exists at zero from the start; claims and acks move the jobs-in-hand gauge; refused acks count")
    func claimsAndAcks() throws {
        let metrics = TestMetrics()
        withMetricsFactory(metrics) {
            let worker = WorkerMetrics(kinds: ["noop", "ird.ei.file"])
            worker.started(concurrency: 40)
            worker.claimed([self.job(), self.job(), self.job(kind: "ird.ei.file")], took: .milliseconds(3))
            worker.claimed([], took: .milliseconds(1))
            worker.acknowledged(2, accepted: 1)
            worker.rescued(4)
        }
        #expect(try metrics.expectGauge(WorkerMetrics.concurrency).lastValue == 40)
        // Two kinds and `unknown`, each with every outcome.
        #expect(metrics.counters(label: WorkerMetrics.jobsFinished).count == 3 * WorkerMetrics.outcomes.count)
        #expect(metrics.counters(label: WorkerMetrics.jobsClaimed).count == 3)
        #expect(metrics.counterTotal(label: WorkerMetrics.jobsClaimed, dimensions: [("kind", "noop")]) == 2)
        #expect(metrics.counterTotal(label: WorkerMetrics.jobsClaimed, dimensions: [("kind", "ird.ei.file")]) == 1)
        #expect(try metrics.expectTimer(WorkerMetrics.claimDuration).values == [3_000_000, 1_000_000])
        #expect(try metrics.expectMeter(WorkerMetrics.jobsInHand).lastValue == 1)
        #expect(metrics.counterTotal(label: WorkerMetrics.acksRefused) == 1)
        #expect(metrics.counterTotal(label: WorkerMetrics.leaseRescues) == 4)
    }

    @Test("every histogram has buckets in seconds, ascending")
    func buckets() {
        for (name, buckets) in WorkerMetrics.durationBuckets {
            #expect(name.hasSuffix("_seconds"))
            #expect(buckets == buckets.sorted() && Set(buckets).count == buckets.count && buckets.first! > .zero, "\(name)")
        }
        #expect(WorkerMetrics.durationBuckets[WorkerMetrics.gatewayCallDuration]?.last == .seconds(60))
    }
}
