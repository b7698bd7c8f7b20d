import AsyncHTTPClient
import Logging
import NIOCore
import NIOHTTP1
import Prometheus
import ServiceLifecycle
import Testing
import TukuMetrics

@Suite("MetricsServer over loopback HTTP")
struct MetricsServerTests {
    static func logger() -> Logger {
        var logger = Logger(label: "tuku.test.metrics")
        logger.logLevel = .critical
        return logger
    }

    /// Runs a server on a free loopback port in a `ServiceGroup` while `body` runs, then shuts it down gracefully and
    /// checks that `run()` returned.
    static func withServer<Result: Sendable>(
        _ registry: PrometheusCollectorRegistry,
        _ body: @Sendable (_ baseURL: String, _ http: HTTPClient) async throws -> Result
    ) async throws -> Result {
        let server = MetricsServer(registry: registry, configuration: .init(port: 0), logger: Self.logger())
        let group = ServiceGroup(services: [server], logger: Self.logger())
        let http = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup)
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            do {
                let port = try #require(try await server.listeningAddress().port)
                let result = try await body("http://127.0.0.1:\(port)", http)
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
                try await http.shutdown()
                return result
            } catch {
                await group.triggerGracefulShutdown()
                try? await tasks.waitForAll()
                try? await http.shutdown()
                throw error
            }
        }
    }

    static func get(
        _ url: String, method: HTTPMethod = .GET, _ http: HTTPClient, timeout: TimeAmount = .seconds(10)
    ) async throws -> (HTTPClientResponse, String) {
        var request = HTTPClientRequest(url: url)
        request.method = method
        let response = try await http.execute(request, timeout: timeout)
        let body = try await response.body.collect(upTo: 1 << 20)
        return (response, String(buffer: body))
    }

    @Test("GET /metrics answers 200 with the registry's current exposition, as text format 0.0.4")
    func servesExposition() async throws {
        let registry = PrometheusCollectorRegistry()
        let counter = registry.makeCounter(
            descriptor: MetricNameDescriptor(namespace: "tuku", metricName: "test", unitName: "total", helpText: "A test counter."),
            labels: [("kind", "noop")])
        counter.increment(by: Int64(3))
        try await Self.withServer(registry) { base, http in
            let (first, text) = try await Self.get("\(base)/metrics", http)
            #expect(first.status == .ok)
            #expect(first.headers.first(name: "Content-Type") == "text/plain; version=0.0.4; charset=utf-8")
            #expect(text.contains("# HELP tuku_test_total A test counter.\n# TYPE tuku_test_total counter\n"))
            #expect(text.contains("tuku_test_total{kind=\"noop\"} 3\n"), "\(text)")
            // Each scrape reads the registry afresh (here over the same keep-alive connection), query strings included.
            counter.increment()
            let (_, again) = try await Self.get("\(base)/metrics?name[]=tuku_test_total", http)
            #expect(again.contains("tuku_test_total{kind=\"noop\"} 4\n"), "\(again)")
        }
    }

    @Test("other paths answer 404, other methods on /metrics 405 with Allow, and HEAD sends no body")
    func routes() async throws {
        try await Self.withServer(PrometheusCollectorRegistry()) { base, http in
            #expect(try await Self.get("\(base)/", http).0.status == .notFound)
            #expect(try await Self.get("\(base)/metricsx", http).0.status == .notFound)
            #expect(try await Self.get("\(base)/metrics/", http).0.status == .notFound)
            let (post, _) = try await Self.get("\(base)/metrics", method: .POST, http)
            #expect(post.status == .methodNotAllowed)
            #expect(post.headers.first(name: "Allow") == "GET, HEAD")
            #expect(try await Self.get("\(base)/metrics", method: .DELETE, http).0.status == .methodNotAllowed)
            let (head, body) = try await Self.get("\(base)/metrics", method: .HEAD, http)
            #expect(head.status == .ok)
            #expect(body.isEmpty)
        }
    }

    @Test("graceful shutdown closes idle keep-alive connections at once, run() returns, and the port stops accepting")
    func gracefulShutdown() async throws {
        let registry = PrometheusCollectorRegistry()
        let server = MetricsServer(registry: registry, configuration: .init(port: 0), logger: Self.logger())
        let group = ServiceGroup(services: [server], logger: Self.logger())
        let http = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup)
        defer { _ = http.shutdown() }
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let port = try #require(try await server.listeningAddress().port)
            // Leaves an idle keep-alive connection in the client's pool.
            #expect(try await Self.get("http://127.0.0.1:\(port)/metrics", http).0.status == .ok)
            let started = ContinuousClock.now
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            // Idle connections close at once; only busy ones wait, for up to the 2-second grace.
            #expect(ContinuousClock.now - started < .milliseconds(1500))
            let fresh = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup)
            await #expect(throws: (any Error).self) {
                // (The client keeps trying to connect until the deadline: keep it short.)
                _ = try await Self.get("http://127.0.0.1:\(port)/metrics", fresh, timeout: .seconds(1))
            }
            try await fresh.shutdown()
        }
    }

    @Test("cancelling run() stops the server")
    func cancellation() async throws {
        let server = MetricsServer(registry: PrometheusCollectorRegistry(), configuration: .init(port: 0), logger: Self.logger())
        let task = Task { try await server.run() }
        _ = try await server.listeningAddress()
        task.cancel()
        try await task.value
    }

    @Test("a port already in use fails with bind_failed, naming the address and the reason")
    func bindFailure() async throws {
        try await Self.withServer(PrometheusCollectorRegistry()) { base, _ in
            let port = Int(base.split(separator: ":").last!)!
            let second = MetricsServer(
                registry: PrometheusCollectorRegistry(), configuration: .init(host: "127.0.0.1", port: port), logger: Self.logger())
            let error = await #expect(throws: MetricsError.self) { try await second.run() }
            #expect(error?.code == .bindFailed)
            #expect(error?.description == "bind_failed: cannot listen on 127.0.0.1:\(port): Address already in use")
            await #expect(throws: MetricsError.self) { _ = try await second.listeningAddress() }
        }
    }

    @Test("a port out of range fails with invalid_configuration")
    func portOutOfRange() async throws {
        let server = MetricsServer(registry: PrometheusCollectorRegistry(), configuration: .init(port: 70000), logger: Self.logger())
        let error = await #expect(throws: MetricsError.self) { try await server.run() }
        #expect(error?.code == .invalidConfiguration)
    }
}
