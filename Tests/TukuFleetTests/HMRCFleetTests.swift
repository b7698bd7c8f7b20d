import Foundation
import Logging
import PostgresNIO
import Testing
import TukuCore
import TukuPostgres
import TukuTestSupport

/// Real `tuku worker` processes filing HMRC VAT returns through the real `tuku sandbox` (its HMRC personality over
/// one-way TLS), sharing one PostgreSQL: the process tests issue #12 names.
@Suite("A fleet of worker processes filing HMRC VAT returns", .serialized)
struct HMRCFleetTests {
    static let tenant = "acme-uk"

    /// A VAT return payload from the example, for VAT registration `index` and period `period`, its boxes adding up.
    static func vatReturn(_ index: Int, period: String = "26A1", dropping fraudKey: String? = nil) throws -> String {
        let url = TestCertificates.repositoryRoot.appendingPathComponent("jobs/hmrc.vat.return/examples/web-app-credit.json")
        var payload = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        payload["vrn"] = Self.vrn(index)
        payload["periodKey"] = period
        if let fraudKey, var fraud = payload["fraudPrevention"] as? [String: Any] {
            fraud.removeValue(forKey: fraudKey)
            payload["fraudPrevention"] = fraud
        }
        return String(decoding: try JSONSerialization.data(withJSONObject: payload, options: [.sortedKeys]), as: UTF8.self)
    }

    static func vrn(_ index: Int) -> String { String(format: "%09d", 100_000_000 + index) }

    /// Runs `body` with a migrated database holding `payloads` as `hmrc.vat.return` jobs, an HMRC token set for
    /// their tenant covering `vrns` VAT registrations, the limit row `hmrc.api` at 3/s, a sandbox with its HMRC
    /// personality (plus `sandboxArguments`), and `workers` worker processes (with `hmrcURLPath` after the HMRC
    /// base URL); stops everything afterwards.
    func withHMRCFleet(
        payloads: [String], vrns: Int, workers: Int, sandboxArguments: [String] = [], hmrcURLPath: String = "",
        _ body: @Sendable (PostgresClient, SandboxProcess) async throws -> Void
    ) async throws {
        let certificates = try FleetTests.certificates.get()
        try await TestDatabase.withFresh { client, database in
          try await TestLogin.with("tuku_worker", on: database, admin: client) { _, workerLogin in
            let sandbox = try await SandboxProcess(certificates: certificates, arguments: SandboxProcess.hmrcArguments + sandboxArguments)
            var processes: [TukuProcess] = []
            do {
                // HMRC's 3 requests/s per application; a wider jitter margin than the default for a busy test
                // machine (`tuku bench gateway` measures the default margin).
                try await client.execute("SELECT tuku.set_rate('hmrc.api', 3)")
                try await client.execute("UPDATE tuku.rate_limits SET safety_margin = 0.25")
                let key = TokenCipher.generateKey()
                let grant = try sandbox.hmrcGrant(vrns: (0..<vrns).map(Self.vrn))
                try await TokenStore(client: client, cipher: try TokenCipher(base64: key), logger: .test()).store(
                    name: "hmrc-fleet-test", gateway: .hmrc,
                    tokens: TokenSet(
                        accessToken: Secret(grant["access_token"] as? String ?? ""),
                        expiresAt: Date().addingTimeInterval(3600), refreshToken: (grant["refresh_token"] as? String).map(Secret.init)),
                    tenants: [Self.tenant])
                for payload in payloads {
                    try await client.execute("SELECT tuku.enqueue('hmrc.vat.return', \(Self.tenant), \(payload)::jsonb)")
                }
                var environment = sandbox.hmrcWorkerEnvironment(tokenKey: key)
                environment["TUKU_HMRC_URL"] = (environment["TUKU_HMRC_URL"] ?? "") + hmrcURLPath
                for _ in 0..<workers {
                    processes.append(try TukuProcess(
                        ["worker", "--concurrency", "8", "--claim-batch", "4", "--poll-interval-ms", "200", "--log-level", "warning"],
                        databaseURL: workerLogin.url, environment: environment))
                }
                try await body(client, sandbox)
            } catch {
                for process in processes { process.signal(SIGTERM) }
                try? await sandbox.stop()
                throw error
            }
            for process in processes { process.signal(SIGTERM) }
            for process in processes { #expect(try await process.waitForExit() == 0, "worker log:\n\(process.log)") }
            try await sandbox.stop()
          }
        }
    }

    /// Arrival times (seconds) of HMRC API calls, redirects included, as HMRC counts them (not OAuth).
    static func hmrcArrivals(_ sandbox: SandboxProcess) throws -> [(at: Double, row: [String: Any])] {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return try sandbox.arrivals().compactMap { row in
            guard let action = row["action"] as? String, action.hasPrefix("hmrc.vat.") || action == "hmrc.moved",
                  let at = (row["at"] as? String).flatMap({ formatter.date(from: $0) })
            else { return nil }
            return (at.timeIntervalSince1970, row)
        }.sorted { $0.at < $1.at }
    }

    /// Every exchange in order as `purpose:HTTP status:outcome`.
    static func trail(_ client: PostgresClient) async throws -> String {
        try await client.scalar(
            "SELECT string_agg(purpose || ':' || coalesce(http_status, 0) || ':' || outcome, ',' ORDER BY id) FROM tuku.exchanges",
            as: String.self)
    }

    @Test("four workers never put more than 3 HMRC calls in any one-second window; every return is stored once", .timeLimit(.minutes(3)))
    func pacedFleet() async throws {
        let payloads = try (0..<18).map { try Self.vatReturn($0) }
        try await self.withHMRCFleet(payloads: payloads, vrns: 18, workers: 4) { client, sandbox in
            try await client.waitUntil("SELECT count(*) = 18 FROM tuku.jobs WHERE state = 'succeeded'", timeout: .seconds(90))
            let arrivals = try Self.hmrcArrivals(sandbox)
            #expect(arrivals.count == 18)
            #expect(FleetTests.maximumInAnySecond(arrivals.map(\.at)) <= 3)
            #expect(arrivals.allSatisfy { ($0.row["status"] as? Int) == 201 })
            #expect(try sandbox.statistics()["hmrcReturnsStored"] as? Int == 18)
            #expect(try await client.scalar("SELECT count(DISTINCT worker_id)::int8 FROM tuku.attempts", as: Int64.self) >= 2)
            // Every filing keeps HMRC's receipt on its exchange row.
            #expect(
                try await client.scalar(
                    "SELECT count(*)::int8 FROM tuku.exchanges WHERE receipt->>'formBundleNumber' IS NOT NULL", as: Int64.self) == 18)
        }
    }

    @Test("a 504 after HMRC stored the return: the next attempt looks it up, finds it, and the job succeeds with one stored return")
    func gatewayTimeoutAfterStore() async throws {
        let script = try FleetTests.faultScript("504-after-store", "ok", "ok")
        defer { try? FileManager.default.removeItem(at: script) }
        try await self.withHMRCFleet(
            payloads: [try Self.vatReturn(0)], vrns: 1, workers: 1, sandboxArguments: ["--fault-script", script.path]
        ) { client, sandbox in
            try await client.waitUntil("SELECT state = 'succeeded' FROM tuku.jobs", timeout: .seconds(60))
            #expect(try sandbox.statistics()["hmrcReturnsStored"] as? Int == 1)
            #expect(try sandbox.statistics()["hmrcDuplicateSubmissions"] as? Int == 0)
            let arrivals = try Self.hmrcArrivals(sandbox).map { $0.row["action"] as? String ?? "" }
            #expect(arrivals == ["hmrc.vat.return", "hmrc.vat.return.view"])
            let trail = try await Self.trail(client)
            #expect(trail == "submit:504:outcome_unknown,reconcile:200:already_filed", "exchanges: \(trail)")
        }
    }

    @Test("a moved endpoint's 308 is followed with method and body, each hop its own exchange row")
    func redirectFollowed() async throws {
        try await self.withHMRCFleet(
            payloads: [try Self.vatReturn(0)], vrns: 1, workers: 1, sandboxArguments: ["--hmrc-moved-prefix", "/moved"],
            hmrcURLPath: "/moved"
        ) { client, sandbox in
            try await client.waitUntil("SELECT state = 'succeeded' FROM tuku.jobs", timeout: .seconds(60))
            #expect(try sandbox.statistics()["hmrcReturnsStored"] as? Int == 1)
            let arrivals = try Self.hmrcArrivals(sandbox).map { "\($0.row["action"] as? String ?? ""):\($0.row["status"] as? Int ?? 0)" }
            #expect(arrivals == ["hmrc.moved:308", "hmrc.vat.return:201"])
            #expect(try await client.scalar("SELECT count(*)::int8 FROM tuku.exchanges", as: Int64.self) == 2)
        }
    }

    @Test("a return whose user session lacks a required fraud prevention value is rejected before any call, naming the header")
    func missingFraudHeader() async throws {
        try await self.withHMRCFleet(payloads: [try Self.vatReturn(0, dropping: "deviceID")], vrns: 1, workers: 1) { client, sandbox in
            try await client.waitUntil("SELECT state = 'rejected' FROM tuku.jobs", timeout: .seconds(60))
            let error = try await client.scalar("SELECT last_error::text FROM tuku.jobs", as: String.self)
            #expect(error.contains("Gov-Client-Device-ID"))
            #expect(try Self.hmrcArrivals(sandbox).isEmpty)
            #expect(try await client.scalar("SELECT count(*)::int8 FROM tuku.exchanges", as: Int64.self) == 0)
        }
    }
}
