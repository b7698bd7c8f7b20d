import Foundation
import Testing
import TukuTestSupport

extension FleetTests {
    @Test("after a 504 on File, a throttled status check does not lead to a second File: the next run asks again and succeeds")
    func throttledReconciliation() async throws {
        let script = try Self.faultScript("504-after-store", "429", "ok", "ok")
        defer { try? FileManager.default.removeItem(at: script) }
        try await self.withFleet(
            jobs: 1, workers: 1, rate: 10, sandboxArguments: ["--fault-script", script.path, "--fault-retry-after", "1"]
        ) { client, sandbox in
            try await client.waitUntil("SELECT count(*) = 1 FROM tuku.jobs WHERE state = 'succeeded'", timeout: .seconds(60))
            #expect(
                try await Self.exchangeTrail(client)
                    == "submit:504:outcome_unknown:-,reconcile:429:throttled:-,reconcile:200:succeeded:0")
            #expect(try Self.soapArrivals(sandbox).map { $0.row["action"] as? String } == ["File", "RetrieveStatus", "RetrieveStatus"])
            let statistics = try sandbox.statistics()
            #expect(statistics["filingsStored"] as? Int == 1)
            #expect(statistics["duplicateFilings"] as? Int == 0)
            // Settled by the status query: nothing is left to reconcile.
            #expect(try await client.scalar("SELECT unsettled_since IS NULL FROM tuku.jobs", as: Bool.self))
        }
    }
}

extension FleetTests {
    @Test(
        "a File that stalls without reaching IRD is reconciled: RetrieveStatus answers 103 (or EXP without a key), and the return is filed exactly once",
        arguments: [("103", "103"), ("expected", "0")])
    func stalledFileIsFiledOnce(noReturnStatus: String, statusCode: String) async throws {
        let script = try Self.faultScript("stall", "ok", "ok")
        defer { try? FileManager.default.removeItem(at: script) }
        try await self.withFleet(
            jobs: 1, workers: 1, rate: 10,
            sandboxArguments: ["--fault-script", script.path, "--slow-delay", "1", "--no-return-status", noReturnStatus]
        ) { client, sandbox in
            try await client.waitUntil("SELECT count(*) = 1 FROM tuku.jobs WHERE state = 'succeeded'", timeout: .seconds(60))
            #expect(try Self.soapArrivals(sandbox).map { $0.row["action"] as? String } == ["File", "RetrieveStatus", "File"])
            let trail = try await Self.exchangeTrail(client)
            #expect(trail.hasPrefix("submit:0:outcome_unknown:-,reconcile:200:not_filed:\(statusCode == "0" ? "0" : "103"),submit:200:succeeded:0"), "\(trail)")
            let statistics = try sandbox.statistics()
            #expect(statistics["filingsStored"] as? Int == 1)
            #expect(statistics["duplicateFilings"] as? Int == 0)
        }
    }
}
