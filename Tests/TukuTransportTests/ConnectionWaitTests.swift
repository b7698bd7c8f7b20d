import Foundation
import Logging
import NIOCore
import Testing

@testable import TukuGateway

@Suite("Waiting for a pooled connection")
struct ConnectionWaitTests {
    private func transport(connections: Int, connectTimeout: Duration) throws -> GatewayTransport {
        let configuration = GatewayTransport.Configuration(
            tls: .init(clientIdentity: try identity("client"), trustRoots: .caBundle(path: try TestCertificates.path("ca.pem"))),
            timeouts: .init(connect: connectTimeout),
            connectionPool: .init(maximumConnectionsPerHost: connections))
        return try GatewayTransport(configuration: configuration, logger: Logger(label: "tuku.transport.test") { _ in SwiftLogNoOpLogHandler() })
    }

    @Test(
        "behind slow answers, calls beyond the pool wait for a connection as long as their own deadline allows, well past the connect timeout, and all succeed",
        .timeLimit(.minutes(1)))
    func callsQueueForConnections() async throws {
        try await TestTLSServer.with(tls: TestServerTLS.mutual(), behaviour: .slow(seconds: 4)) { server in
            // The connect timeout covers the TLS handshake too: 5 s leaves room for a fully loaded machine.
            let transport = try self.transport(connections: 2, connectTimeout: .seconds(5))
            let started = ContinuousClock.now
            let results = await withTaskGroup(of: Result<Int, TransportError>.self) { group in
                for _ in 0..<6 {
                    group.addTask {
                        do throws(TransportError) {
                            let response = try await transport.post(
                                url: server.url, body: ByteBuffer(string: "<Envelope/>"), headers: soapHeaders, timeout: .seconds(35))
                            return .success(Int(response.status.code))
                        } catch {
                            return .failure(error)
                        }
                    }
                }
                var results: [Result<Int, TransportError>] = []
                for await result in group { results.append(result) }
                return results
            }
            let failures = results.compactMap { result -> String? in
                if case .failure(let error) = result { return "\(error.code)" }
                return nil
            }
            #expect(failures.isEmpty, "calls failed: \(failures)")
            #expect(results.count == 6)
            // Three rounds of two 4-second answers: the last calls waited about 8 s for a connection, well past the
            // connect timeout, and never more than two connections were open.
            #expect(ContinuousClock.now - started >= .seconds(11))
            #expect(server.acceptedConnections <= 2)
            try await transport.shutdown()
        }
    }

    @Test("a call whose deadline passes while every connection is busy fails as no_connection_available, having sent nothing")
    func waitEndsAtTheCallsDeadline() async throws {
        try await TestTLSServer.with(tls: TestServerTLS.mutual(), behaviour: .slow(seconds: 3)) { server in
            let transport = try self.transport(connections: 1, connectTimeout: .seconds(10))
            let first = Task {
                try await transport.post(url: server.url, body: ByteBuffer(string: "first"), headers: soapHeaders, timeout: .seconds(20))
            }
            // The only connection is the first call's once the server has its request (a fixed sleep is not enough
            // on a loaded machine: the second call could reach the pool first and take the connection).
            let waitDeadline = ContinuousClock.now + .seconds(20)
            while server.receivedRequests < 1 && ContinuousClock.now < waitDeadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            try #require(server.receivedRequests == 1, "the first call never reached the server")
            let started = ContinuousClock.now
            do throws(TransportError) {
                _ = try await transport.post(url: server.url, body: ByteBuffer(string: "second"), headers: soapHeaders, timeout: .seconds(1))
                Issue.record("the second call got a connection although the only one was busy")
            } catch {
                #expect(error.code == .noConnectionAvailable)
                #expect(!error.requestMayHaveReachedGateway)
                #expect(ContinuousClock.now - started < .milliseconds(2500))
            }
            #expect(try await first.value.status == .ok)
            try await transport.shutdown()
        }
    }
}
