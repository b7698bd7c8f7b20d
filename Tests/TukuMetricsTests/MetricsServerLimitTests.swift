import Foundation
import Logging
import Prometheus
import ServiceLifecycle
import Testing
import TukuMetrics

#if canImport(Glibc)
import Glibc
#endif

/// The metrics endpoint cannot take the worker's file descriptors: connections are capped, and idle or slow ones
/// are closed.
@Suite("MetricsServer limits")
struct MetricsServerLimitTests {
    /// A raw TCP connection to 127.0.0.1, for sending partial requests and watching the server close it.
    final class RawConnection {
        let fd: Int32

        init(port: Int) throws {
            self.fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(self.fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard result == 0 else { throw CancellationError() }
        }

        func send(_ text: String) {
            _ = text.withCString { Glibc.send(self.fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
        }

        /// Whether the server has closed the connection, waiting up to `timeout` (reading and discarding any answer).
        /// Polls without blocking and sleeps between polls: the server's connection tasks share the cooperative pool.
        func closedByServer(within timeout: Duration) async throws -> Bool {
            let deadline = ContinuousClock.now + timeout
            var buffer = [UInt8](repeating: 0, count: 4096)
            while ContinuousClock.now < deadline {
                var poller = pollfd(fd: self.fd, events: Int16(POLLIN), revents: 0)
                if poll(&poller, 1, 0) > 0 {
                    let count = recv(self.fd, &buffer, buffer.count, 0)
                    if count <= 0 { return true }
                    continue
                }
                try await Task.sleep(for: .milliseconds(20))
            }
            return false
        }

        deinit { close(self.fd) }
    }

    static func withServer(
        _ configuration: MetricsServer.Configuration, _ body: @Sendable (MetricsServer, Int) async throws -> Void
    ) async throws {
        var logger = Logger(label: "tuku.test.metrics")
        logger.logLevel = .critical
        let server = MetricsServer(registry: PrometheusCollectorRegistry(), configuration: configuration, logger: logger)
        let group = ServiceGroup(services: [server], logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let port = try #require(try await server.listeningAddress().port)
            do {
                try await body(server, port)
            } catch {
                await group.triggerGracefulShutdown()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    @Test("connections beyond the cap are closed at once; those within it stay open and are served")
    func cap() async throws {
        try await Self.withServer(.init(port: 0, maximumConnections: 4, requestTimeout: .seconds(30))) { server, port in
            let held = try (0..<4).map { _ in try RawConnection(port: port) }
            // Wait until the server has accepted and registered the four, however loaded the machine.
            let registeredBy = ContinuousClock.now + .seconds(30)
            while server.openConnections < 4, ContinuousClock.now < registeredBy { try await Task.sleep(for: .milliseconds(20)) }
            try #require(server.openConnections == 4)
            let extra = try (0..<20).map { _ in try RawConnection(port: port) }
            for connection in extra { #expect(try await connection.closedByServer(within: .seconds(15))) }
            #expect(try await !held[0].closedByServer(within: .milliseconds(200)))
            held[1].send("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(try await held[1].closedByServer(within: .seconds(15)))  // answered, then closed as asked
            // A slot is free again: a new connection is served.
            let freedBy = ContinuousClock.now + .seconds(30)
            while server.openConnections > 3, ContinuousClock.now < freedBy { try await Task.sleep(for: .milliseconds(20)) }
            let fresh = try RawConnection(port: port)
            fresh.send("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            var buffer = [UInt8](repeating: 0, count: 64)
            var poller = pollfd(fd: fresh.fd, events: Int16(POLLIN), revents: 0)
            let answerBy = ContinuousClock.now + .seconds(10)
            while poll(&poller, 1, 0) <= 0, ContinuousClock.now < answerBy { try await Task.sleep(for: .milliseconds(20)) }
            #expect(poller.revents & Int16(POLLIN) != 0)
            let count = recv(fresh.fd, &buffer, buffer.count, 0)
            #expect(count > 0 && String(decoding: buffer[0..<max(count, 0)], as: UTF8.self).hasPrefix("HTTP/1.1 200"))
        }
    }

    @Test("an idle connection and one that sends its request slowly are closed after the request timeout")
    func idleAndSlow() async throws {
        try await Self.withServer(.init(port: 0, requestTimeout: .milliseconds(700))) { _, port in
            let idle = try RawConnection(port: port)
            let slow = try RawConnection(port: port)
            let started = ContinuousClock.now
            slow.send("GET /metr")
            try await Task.sleep(for: .milliseconds(300))
            slow.send("ics HTTP/1.1\r\n")
            #expect(try await idle.closedByServer(within: .seconds(15)))
            #expect(try await slow.closedByServer(within: .seconds(15)))
            #expect(ContinuousClock.now - started >= .milliseconds(600))
            // A keep-alive connection that was answered is closed once it has idled for the timeout too.
            let keptAlive = try RawConnection(port: port)
            keptAlive.send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try await keptAlive.closedByServer(within: .seconds(15)))
        }
    }
}
