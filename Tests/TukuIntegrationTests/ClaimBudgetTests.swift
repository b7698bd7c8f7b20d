import Foundation
import Logging
import PostgresNIO
import Testing
import TukuCore
import TukuPostgres
import TukuTestSupport

/// Migration 0016 and the claim's byte budget (issue #11, defect 5): a claim stops adding jobs once their payloads
/// would pass the budget, and always takes one. The claims run as a `tuku_worker` login.
@Suite("Claim byte budget")
struct ClaimBudgetTests {
    /// Inserts `count` noop jobs whose payload text is `bytes` long (give or take the JSON around the blob), in claim
    /// order (priority, then id), and returns each one's exact `octet_length(payload::text)`.
    func insert(_ count: Int, bytes: Int, into admin: PostgresClient) async throws -> [Int64] {
        var sizes: [Int64] = []
        for index in 0..<count {
            let payload = "{\"blob\": \"" + String(repeating: "x", count: bytes) + "\"}"
            sizes.append(
                try await admin.scalar(
                    """
                    INSERT INTO tuku.jobs (kind, tenant, payload, priority) VALUES ('noop', 'acme', \(payload)::jsonb, \(Int32(100 + index)))
                    RETURNING payload_bytes::int8
                    """, as: Int64.self))
        }
        return sizes
    }

    @Test("a small budget claims fewer jobs, in claim order, and never none when one is ready")
    func budgetLimitsTheClaim() async throws {
        try await TestDatabase.withFresh { admin, database in
            let sizes = try await self.insert(10, bytes: 100_000, into: admin)
            let measured = try await admin.scalar(
                "SELECT count(*)::int8 FROM tuku.jobs WHERE payload_bytes = octet_length(payload::text)", as: Int64.self)
            #expect(measured == 10)
            try await TestLogin.with("tuku_worker", on: database, admin: admin) { worker, _ in
                let queue = JobQueue(client: worker, logger: Logger.test())
                let workerID = try await queue.registerWorker(host: "test", pid: 1, version: "test", concurrency: 100)
                // Room for two and a half payloads: two go, the third would pass the budget.
                let (two, cutShort) = try await queue.claimBatch(
                    workerID: workerID, limit: 100, lease: .seconds(60), byteBudget: Int(sizes[0] + sizes[1]) + 50_000)
                #expect(two.count == 2)
                #expect(cutShort, "the budget left ready jobs behind, so the worker should claim again at once")
                // A budget smaller than any payload still takes the next job.
                let one = try await queue.claim(workerID: workerID, limit: 100, lease: .seconds(60), byteBudget: 1)
                #expect(one.count == 1)
                // The default budget (16 MiB) takes the rest; so does the limit, whichever comes first.
                let three = try await queue.claim(workerID: workerID, limit: 3, lease: .seconds(60))
                #expect(three.count == 3)
                let (rest, restCutShort) = try await queue.claimBatch(workerID: workerID, limit: 100, lease: .seconds(60))
                #expect(rest.count == 4)
                #expect(!restCutShort)
                // Claim order is kept: the jobs came out in priority order, each exactly once.
                let ids = (two + one + three + rest).map(\.id)
                #expect(ids == ids.sorted())
                #expect(Set(ids).count == 10)
                #expect(try await queue.claim(workerID: workerID, limit: 100, lease: .seconds(60), byteBudget: 1).isEmpty)
            }
        }
    }

    @Test("the stored payload size cannot be made to lie, by a worker's UPDATE or a payload change")
    func sizeCannotLie() async throws {
        try await TestDatabase.withFresh { admin, database in
            let sizes = try await self.insert(1, bytes: 50_000, into: admin)
            try await TestLogin.with("tuku_worker", on: database, admin: admin) { worker, _ in
                try await worker.execute("UPDATE tuku.jobs SET payload_bytes = 0")
                #expect(try await worker.scalar("SELECT payload_bytes::int8 FROM tuku.jobs", as: Int64.self) == sizes[0])
                try await worker.execute("UPDATE tuku.jobs SET payload = '{}'")
                #expect(try await worker.scalar("SELECT payload_bytes::int8 FROM tuku.jobs", as: Int64.self) == 2)
            }
        }
    }

    @Test("tuku worker reads the budget from --claim-budget-bytes or TUKU_CLAIM_BUDGET_BYTES and refuses one that is not a positive number")
    func workerSetting() async throws {
        try await TestDatabase.withFresh { admin, database in
            let badEnvironment = try TukuProcess(["worker"], databaseURL: database.url, environment: ["TUKU_CLAIM_BUDGET_BYTES": "16MiB"])
            #expect(try await badEnvironment.waitForExit() == 64)
            #expect(badEnvironment.log.contains("TUKU_CLAIM_BUDGET_BYTES must be a whole number of bytes"), "\(badEnvironment.log)")
            let zero = try TukuProcess(["worker", "--claim-budget-bytes", "0"], databaseURL: database.url)
            #expect(try await zero.waitForExit() == 64)
            #expect(zero.log.contains("must be at least 1"), "\(zero.log)")
            // The flag wins over the variable: a valid flag with a bad variable starts (and stops on SIGTERM).
            let flagWins = try TukuProcess(
                ["worker", "--claim-budget-bytes", "1048576"], databaseURL: database.url, environment: ["TUKU_CLAIM_BUDGET_BYTES": "x"])
            try await admin.waitUntil("SELECT count(*) = 1 FROM tuku.workers", timeout: .seconds(30))
            flagWins.signal(SIGTERM)
            #expect(try await flagWins.waitForExit() == 0, "\(flagWins.log)")
        }
    }
}
