import Foundation
import Testing
import TukuGateway
import TukuSandbox

@Suite("Sandbox: rate and concurrency limits")
struct SandboxLimitTests {
    @Test("over the rate, a call gets HTTP 429 with Retry-After and IRD's UnAuthorised fault; calls in the window stay within the rate")
    func rateLimit() async throws {
        try await Sandbox.run({ $0.limits.rate = 3 }) { sandbox in
            let token = try await sandbox.grant().access
            let envelope = try sandbox.envelope("ird.ei.status", "by-payday")
            var statuses: [UInt] = []
            var throttled: GatewayHTTPResponse?
            for _ in 0..<8 {
                let response = try await sandbox.send(envelope, authorization: "Bearer \(token)")
                statuses.append(response.status.code)
                if response.status.code == 429, throttled == nil { throttled = response }
            }
            // Sequential calls on a loaded machine may straddle a window edge, so only the shape is fixed: the first
            // three pass, some of the rest are refused, and nothing but 200 or 429 comes back.
            #expect(statuses.prefix(3) == [200, 200, 200])
            #expect(statuses.contains(429))
            #expect(statuses.allSatisfy { $0 == 200 || $0 == 429 })
            let response = try #require(throttled)
            let retryAfter = try #require(response.headers.first(name: "Retry-After").flatMap { Int($0) })
            #expect((1...1).contains(retryAfter))
            guard case .fault(let fault) = try GatewayResponseParser.parse(Data(response.bodyBytes)).content else {
                Issue.record("expected a SOAP fault")
                return
            }
            #expect(fault.isUnauthorised)
            // After the window, calls are admitted again.
            try await Task.sleep(for: .milliseconds(1100))
            #expect(try await sandbox.send(envelope, authorization: "Bearer \(token)").status == .ok)
            #expect(sandbox.server.router.currentStatistics.faults["rate-limit"] == statuses.filter { $0 == 429 }.count)
        }
    }

    @Test("over the maximum concurrency, a call gets HTTP 429 while another is in flight")
    func concurrencyLimit() async throws {
        try await Sandbox.run({
            $0.limits.maximumConcurrency = 1
            $0.faults = FaultPlan(script: [.slow])
            $0.slowDelay = .seconds(4)
        }) { sandbox in
            let token = try await sandbox.grant().access
            let envelope = try sandbox.envelope("ird.ei.status", "by-payday")
            async let slow = sandbox.send(envelope, authorization: "Bearer \(token)")
            // Long enough for the slow call to be in flight even on a loaded machine (handshake included).
            try await Task.sleep(for: .milliseconds(1500))
            let second = try await sandbox.send(envelope, authorization: "Bearer \(token)")
            #expect(second.status.code == 429)
            #expect(second.headers.first(name: "Retry-After") != nil)
            #expect(try await slow.status == .ok)
            // The slot is free again once the slow call was answered.
            #expect(try await sandbox.send(envelope, authorization: "Bearer \(token)").status == .ok)
        }
    }
}
