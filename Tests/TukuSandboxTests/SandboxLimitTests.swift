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
            // Eight calls at once: on a loaded machine sequential calls can each take over a third of a second and
            // never exceed the rate, so they are sent together and only the shape is fixed: at least three pass,
            // some are refused, and nothing but 200 or 429 comes back.
            let responses = try await withThrowingTaskGroup(of: GatewayHTTPResponse.self) { group in
                for _ in 0..<8 { group.addTask { try await sandbox.send(envelope, authorization: "Bearer \(token)") } }
                return try await group.reduce(into: [GatewayHTTPResponse]()) { $0.append($1) }
            }
            for response in responses {
                statuses.append(response.status.code)
                if response.status.code == 429, throttled == nil { throttled = response }
            }
            #expect(statuses.filter { $0 == 200 }.count >= 3)
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
            $0.slowDelay = .seconds(6)
        }) { sandbox in
            let token = try await sandbox.grant().access
            let envelope = try sandbox.envelope("ird.ei.status", "by-payday")
            async let slow = sandbox.send(envelope, authorization: "Bearer \(token)")
            // Waits until the slow call was admitted (handshake included), however loaded the machine.
            let deadline = ContinuousClock.now + .seconds(30)
            while sandbox.server.router.limiter.callsInFlight == 0, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            try #require(sandbox.server.router.limiter.callsInFlight == 1, "the slow call never arrived")
            let second = try await sandbox.send(envelope, authorization: "Bearer \(token)")
            #expect(second.status.code == 429)
            #expect(second.headers.first(name: "Retry-After") != nil)
            #expect(try await slow.status == .ok)
            // The slot is free again once the slow call was answered.
            #expect(try await sandbox.send(envelope, authorization: "Bearer \(token)").status == .ok)
        }
    }
}
