import Foundation
import Testing
import TukuGateway
import TukuSandbox

@Suite("Sandbox: fault injection")
struct SandboxFaultTests {
    @Test("each scripted fault produces what it should; 504-after-store stores the filing")
    func scriptedFaults() async throws {
        let script: [SandboxFault?] = [
            .tooManyRequests, .serviceUnavailable, .gatewayTimeoutAfterStore, nil, nil, .connectionReset, .slow, .malformed, .htmlErrorPage,
            nil,
        ]
        try await Sandbox.run({
            $0.faults = FaultPlan(script: script)
            $0.slowDelay = .seconds(4)
        }) { sandbox in
            let token = try await sandbox.grant().access
            let bearer = "Bearer \(token)"
            let file = try sandbox.envelope("ird.ei.file", "three-employees")
            let status = try sandbox.envelope("ird.ei.status", "by-payday")

            // 429: throttled with Retry-After and the UnAuthorised fault; nothing stored.
            let throttled = try await sandbox.send(file, authorization: bearer)
            #expect(throttled.status.code == 429 && throttled.headers.first(name: "Retry-After") == "1")
            guard case .fault(let fault) = try GatewayResponseParser.parse(Data(throttled.bodyBytes)).content else {
                Issue.record("429 should carry a SOAP fault")
                return
            }
            #expect(fault.isUnauthorised)
            // 503 with Retry-After; nothing stored.
            let unavailable = try await sandbox.send(file, authorization: bearer)
            #expect(unavailable.status.code == 503 && unavailable.headers.first(name: "Retry-After") != nil)
            #expect(sandbox.server.router.filings.count == 0)

            // 504 after store: the answer is lost, the filing is not.
            let timedOut = try await sandbox.send(file, authorization: bearer)
            #expect(timedOut.status.code == 504)
            #expect(sandbox.server.router.filings.count == 1)
            let seen = try await sandbox.result(status, token: token)
            #expect(
                seen.returnStatuses.count == 1
                    && seen.returnStatuses[0].submissionKey == sandbox.server.router.filings.storedReturns.first?.submissionKey)
            #expect(try await sandbox.result(file, token: token).firstError?.statusCode == 160)

            // reset: a connection error, and the request may have reached the gateway.
            do {
                _ = try await sandbox.send(status, authorization: bearer)
                Issue.record("a reset connection should fail the call")
            } catch let error as TransportError {
                #expect(error.code == .connectionDroppedAfterSend)
                #expect(error.requestMayHaveReachedGateway)
            }

            // slow: longer than the client's deadline. The deadline leaves the sandbox (in this busy test process)
            // ample time to read the request before the client gives up, so that the script stays in step.
            let started = ContinuousClock.now
            do {
                _ = try await sandbox.send(status, authorization: bearer, timeout: .milliseconds(1500))
                Issue.record("the slow call should time out")
            } catch let error as TransportError {
                #expect(error.code == .timedOutAfterSend)
            }
            #expect(ContinuousClock.now - started < .seconds(4))

            // malformed: HTTP 200 with a body that is not XML.
            let malformed = try await sandbox.send(status, authorization: bearer)
            #expect(malformed.status == .ok)
            #expect(throws: GatewayError.self) { try GatewayResponseParser.parse(Data(malformed.bodyBytes)) }

            // html: an HTML error page.
            let html = try await sandbox.send(status, authorization: bearer)
            #expect(html.status.code == 502)
            do {
                _ = try GatewayResponseParser.parse(Data(html.bodyBytes))
                Issue.record("an HTML page should not parse")
            } catch let error as GatewayError {
                #expect(error.code == .htmlResponse)
            }

            // After the script: normal service.
            #expect(try await sandbox.result(status, token: token).isSuccess)
            let faults = sandbox.server.router.currentStatistics.faults
            #expect(faults == ["429": 1, "503": 1, "504-after-store": 1, "reset": 1, "slow": 1, "malformed": 1, "html": 1])
        }
    }

    @Test("the arrivals log has one JSON line per request with at (RFC 3339, microseconds, UTC), client, action and status")
    func arrivalsLog() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("arrivals-\(UUID().uuidString).jsonl").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try await Sandbox.run({
            $0.arrivalsPath = path
            $0.faults = FaultPlan(script: [nil, nil, .connectionReset])
        }) { sandbox in
            let token = try await sandbox.grant().access
            let file = try sandbox.envelope("ird.ei.file", "three-employees")
            _ = try await sandbox.result(file, token: token)
            _ = try await sandbox.result(file, token: token)
            _ = try? await sandbox.send(file, authorization: "Bearer \(token)")
        }
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 4)
        let objects = try lines.map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        let pattern = try Regex(#"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$"#)
        for object in objects {
            let at = try #require(object["at"] as? String)
            #expect(at.wholeMatch(of: pattern) != nil)
            #expect((object["client"] as? String)?.contains("CN=tuku-test-client") == true)
            #expect(object["action"] is String && object["status"] is Int)
        }
        #expect(objects.map { $0["action"] as? String } == ["sandbox.grant", "File", "File", "File"])
        #expect(objects.map { $0["status"] as? Int } == [200, 200, 200, 0])
        #expect(objects[2]["duplicate"] as? String == "identical-within-hour")
        #expect(objects[3]["fault"] as? String == "reset")
    }
}
