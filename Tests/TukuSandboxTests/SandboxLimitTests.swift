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
            for _ in 0..<5 {
                let response = try await sandbox.send(envelope, authorization: "Bearer \(token)")
                statuses.append(response.status.code)
                if response.status.code == 429, throttled == nil { throttled = response }
            }
            #expect(statuses.prefix(3) == [200, 200, 200])
            #expect(statuses.dropFirst(3).allSatisfy { $0 == 429 })
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
            #expect(sandbox.server.router.currentStatistics.faults["rate-limit"] == 2)
        }
    }

    @Test("over the maximum concurrency, a call gets HTTP 429 while another is in flight")
    func concurrencyLimit() async throws {
        try await Sandbox.run({
            $0.limits.maximumConcurrency = 1
            $0.faults = FaultPlan(script: [.slow])
            $0.slowDelay = .milliseconds(800)
        }) { sandbox in
            let token = try await sandbox.grant().access
            let envelope = try sandbox.envelope("ird.ei.status", "by-payday")
            async let slow = sandbox.send(envelope, authorization: "Bearer \(token)")
            try await Task.sleep(for: .milliseconds(300))
            let second = try await sandbox.send(envelope, authorization: "Bearer \(token)")
            #expect(second.status.code == 429)
            #expect(second.headers.first(name: "Retry-After") != nil)
            #expect(try await slow.status == .ok)
            // The slot is free again once the slow call was answered.
            #expect(try await sandbox.send(envelope, authorization: "Bearer \(token)").status == .ok)
        }
    }
}
