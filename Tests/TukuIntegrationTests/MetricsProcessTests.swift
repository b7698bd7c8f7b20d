import AsyncHTTPClient
import Foundation
import PostgresNIO
import Testing
import TukuTestSupport

@Suite("tuku worker --metrics-port")
struct MetricsProcessTests {
    @Test("a worker process serves Prometheus metrics counting the jobs it claimed and finished, by kind and outcome")
    func scrape() async throws {
        try await TestDatabase.withFresh { client, database in
            try await client.execute("SELECT tuku.enqueue('noop', 'acme', '{}') FROM generate_series(1, 3)")
            try await client.execute("SELECT tuku.enqueue('noop', 'acme', '{\"delay_ms\": -1}')")  // rejected: out of range
            let worker = try TukuProcess(["worker", "--metrics-port", "0", "--poll-interval-ms", "100"], databaseURL: database.url)
            let address = try await worker.metricsAddress()
            #expect(address.hasPrefix("127.0.0.1:"))
            try await client.waitUntil("SELECT count(*) = 4 FROM tuku.jobs WHERE state IN ('succeeded', 'rejected')")
            // Finished runs are counted before their ack is written, jobs in hand after: wait for the gauge.
            let text = try await Self.scrape("http://\(address)/metrics", until: "tuku_jobs_in_hand 0.0\n")
            #expect(text.contains("# TYPE tuku_jobs_claimed_total counter\n"))
            #expect(text.contains("tuku_jobs_claimed_total{kind=\"noop\"} 4\n"), "\(text)")
            #expect(text.contains("tuku_jobs_finished_total{kind=\"noop\",outcome=\"succeeded\"} 3\n"))
            #expect(text.contains("tuku_jobs_finished_total{kind=\"noop\",outcome=\"rejected\"} 1\n"))
            #expect(text.contains("tuku_jobs_finished_total{kind=\"noop\",outcome=\"dead\"} 0\n"))
            #expect(text.contains("tuku_worker_concurrency 100.0\n"))
            #expect(text.contains("tuku_lease_rescues_total 0\n"))
            // The worker's own buckets (from 1 ms), not the library's defaults (from 5 ms).
            #expect(text.contains("tuku_claim_duration_seconds_bucket{le=\"0.001\"} "))
            #expect(!text.contains("tenant") && !text.contains("acme"))

            // A second worker cannot take the same port: it says why, stops gracefully and exits non-zero.
            let port = address.split(separator: ":").last.map(String.init) ?? ""
            let second = try TukuProcess(["worker", "--metrics-port", port], databaseURL: database.url)
            #expect(try await second.waitForExit(timeout: .seconds(60)) != 0)
            #expect(second.log.contains("bind_failed: cannot listen on 127.0.0.1:\(port): Address already in use"), "\(second.log)")

            worker.signal(SIGTERM)
            #expect(try await worker.waitForExit(timeout: .seconds(30)) == 0, "\(worker.log)")
            #expect(try await client.scalar("SELECT count(*)::int8 FROM tuku.attempts", as: Int64.self) == 4)
        }
    }

    /// Scrapes `url` until the exposition contains `marker` (or 15 s pass), and returns the last one.
    static func scrape(_ url: String, until marker: String) async throws -> String {
        let deadline = ContinuousClock.now + .seconds(15)
        while true {
            let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(10))
            #expect(response.status == .ok)
            #expect(response.headers.first(name: "Content-Type") == "text/plain; version=0.0.4; charset=utf-8")
            let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
            if text.contains(marker) || ContinuousClock.now >= deadline { return text }
            try await Task.sleep(for: .milliseconds(100))
        }
    }
}

extension TukuProcess {
    /// The `HOST:PORT` the worker's metrics server logged once it listened.
    func metricsAddress(timeout: Duration = .seconds(30)) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        while true {
            for line in self.log.split(separator: "\n") where line.contains("Metrics server listening") {
                if let field = line.split(separator: " ").first(where: { $0.hasPrefix("metrics.address=") }) {
                    return String(field.dropFirst("metrics.address=".count))
                }
            }
            guard ContinuousClock.now < deadline, self.process.isRunning else {
                throw TestSupportError("the worker did not log its metrics address; log:\n\(self.log)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}
