import Foundation
import Logging
import PostgresNIO
import Testing
import TukuCore
import TukuPostgres
import TukuTestSupport

/// Several real `tuku worker` processes against the real `tuku sandbox`, sharing one PostgreSQL.
@Suite("A fleet of worker processes against the sandbox", .serialized)
struct FleetTests {
    static let certificates = Result { try TestCertificates.make() }

    /// Runs `body` with a migrated database holding `jobs` EI filings for distinct employers, a token set for
    /// their tenant, the limit row `ird.gateway` at `rate`, a sandbox started with `sandboxArguments`, and
    /// `workers` worker processes; stops everything afterwards.
    func withFleet(
        jobs: Int, workers: Int, rate: Double, margin: Double = 0.25, sandboxArguments: [String] = [], workerArguments: [String] = [],
        _ body: @Sendable (PostgresClient, SandboxProcess) async throws -> Void
    ) async throws {
        let certificates = try Self.certificates.get()
        try await TestDatabase.withFresh { client, database in
          // The workers log in as a role granted tuku_worker, as in production: the whole filing path (claim,
          // pacing, tokens, exchanges, acks) runs with that role's rights alone.
          try await TestLogin.with("tuku_worker", on: database, admin: client) { _, workerLogin in
            let sandbox = try await SandboxProcess(certificates: certificates, arguments: ["--rate", "\(rate)"] + sandboxArguments)
            var processes: [TukuProcess] = []
            do {
                // Test machines are busy (other suites, compilers): a wider jitter margin than the default 5 % keeps
                // late wake-ups inside the limit. The mechanism under test is the same; `tuku bench gateway`
                // measures the default margin on a quiet machine.
                try await client.execute("SELECT tuku.set_rate('ird.gateway', \(rate))")
                try await client.execute("UPDATE tuku.rate_limits SET safety_margin = \(margin)")
                let key = TokenCipher.generateKey()
                let grant = try JSONSerialization.jsonObject(with: try sandbox.grant(tenants: ["acme"])) as? [String: Any] ?? [:]
                try await TokenStore(client: client, cipher: try TokenCipher(base64: key), logger: .test()).store(
                    name: "fleet-test", gateway: .ird,
                    tokens: TokenSet(
                        accessToken: Secret(grant["access_token"] as? String ?? ""),
                        expiresAt: Date().addingTimeInterval(3600), refreshToken: (grant["refresh_token"] as? String).map(Secret.init)),
                    tenants: ["acme"])
                let payload = try String(
                    contentsOf: TestCertificates.repositoryRoot.appendingPathComponent("jobs/ird.ei.file/examples/three-employees.json"),
                    encoding: .utf8)
                for index in 0..<jobs {
                    try await client.execute(
                        "SELECT tuku.enqueue('ird.ei.file', 'acme', jsonb_set(\(payload)::jsonb, '{employerIrdNumber}', to_jsonb(\(Self.irdNumber(index)))))")
                }
                for _ in 0..<workers {
                    processes.append(try TukuProcess(
                        ["worker", "--concurrency", "8", "--claim-batch", "4", "--poll-interval-ms", "200", "--log-level", "warning"] + workerArguments,
                        databaseURL: workerLogin.url, environment: sandbox.workerEnvironment(tokenKey: key)))
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

    /// Every exchange in order as `purpose:HTTP status:outcome:first IRD status code` (`0` and `-` for none).
    static func exchangeTrail(_ client: PostgresClient) async throws -> String {
        try await client.scalar(
            """
            SELECT string_agg(purpose || ':' || coalesce(http_status, 0) || ':' || outcome || ':'
                              || coalesce(gateway_status->0->>'code', '-'), ',' ORDER BY id)
            FROM tuku.exchanges
            """, as: String.self)
    }

    /// A `--fault-script` file with one fault a line; the caller removes it.
    static func faultScript(_ faults: String...) throws -> URL {
        let script = FileManager.default.temporaryDirectory.appendingPathComponent("tuku-faults-\(UUID().uuidString)")
        try faults.map { $0 + "\n" }.joined().write(to: script, atomically: true, encoding: .utf8)
        return script
    }

    /// The index-th valid IRD number from 20,000,000 up (mod-11 check, secondary weights when needed).
    static func irdNumber(_ index: Int) -> String {
        func check(_ base: Int, _ weights: [Int]) -> Int {
            let digits = String(format: "%08d", base).compactMap { $0.wholeNumberValue }
            let remainder = zip(digits, weights).map(*).reduce(0, +) % 11
            return remainder == 0 ? 0 : 11 - remainder
        }
        var base = 2_000_000 + index * 7
        while true {
            var digit = check(base, [3, 2, 7, 6, 5, 4, 3, 2])
            if digit == 10 { digit = check(base, [7, 4, 3, 2, 5, 2, 7, 6]) }
            if digit != 10 { return String(format: "%09d", base * 10 + digit) }
            base += 1
        }
    }

    static func soapArrivals(_ sandbox: SandboxProcess) throws -> [(at: Double, row: [String: Any])] {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return try sandbox.arrivals().compactMap { row in
            guard let action = row["action"] as? String, ["File", "RetrieveStatus", "Create", "Update", "Terminate"].contains(action),
                  let at = (row["at"] as? String).flatMap({ formatter.date(from: $0) })
            else { return nil }
            return (at.timeIntervalSince1970, row)
        }.sorted { $0.at < $1.at }
    }

    static func maximumInAnySecond(_ times: [Double]) -> Int {
        var best = 0
        var start = 0
        for end in times.indices {
            while times[end] - times[start] >= 1 { start += 1 }
            best = max(best, end - start + 1)
        }
        return best
    }

    @Test("three workers filing through a 4/s sandbox: no one-second window exceeds the limit, nothing is refused, every job succeeds")
    func pacedFleet() async throws {
        try await self.withFleet(jobs: 16, workers: 3, rate: 4) { client, sandbox in
            try await client.waitUntil("SELECT count(*) = 16 FROM tuku.jobs WHERE state = 'succeeded'", timeout: .seconds(60))
            let arrivals = try Self.soapArrivals(sandbox)
            #expect(arrivals.count == 16)
            #expect(Self.maximumInAnySecond(arrivals.map(\.at)) <= 4)
            #expect(arrivals.allSatisfy { ($0.row["status"] as? Int) == 200 })
            #expect(try await client.scalar("SELECT count(*)::int8 FROM tuku.attempts WHERE outcome <> 'succeeded'", as: Int64.self) == 0)
            #expect(try await client.scalar("SELECT count(DISTINCT worker_id)::int8 FROM tuku.attempts", as: Int64.self) >= 2)
        }
    }

    @Test("a 429 with Retry-After pauses every worker, and the throttled job keeps its attempt count")
    func sharedCooldown() async throws {
        let script = FileManager.default.temporaryDirectory.appendingPathComponent("tuku-faults-\(UUID().uuidString)")
        try "ok\nok\n429\n".write(to: script, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: script) }
        try await self.withFleet(
            jobs: 8, workers: 2, rate: 10, sandboxArguments: ["--fault-script", script.path, "--fault-retry-after", "2"]
        ) { client, sandbox in
            try await client.waitUntil("SELECT count(*) = 8 FROM tuku.jobs WHERE state = 'succeeded'", timeout: .seconds(60))
            let arrivals = try Self.soapArrivals(sandbox)
            let throttled = try #require(arrivals.firstIndex { ($0.row["status"] as? Int) == 429 })
            #expect(throttled + 1 < arrivals.count)
            // Nobody called during the cool-down, from either process.
            #expect(arrivals[throttled + 1].at - arrivals[throttled].at >= 1.9)
            #expect(try await client.scalar("SELECT count(*)::int8 FROM tuku.attempts WHERE outcome = 'throttled'", as: Int64.self) == 1)
            #expect(try await client.scalar("SELECT max(attempt)::int8 FROM tuku.jobs", as: Int64.self) == 1)
            #expect(try await client.scalar("SELECT throttles_last_hour FROM tuku.rate_limit_status WHERE key = 'ird.gateway'", as: Int64.self) == 1)
        }
    }

    @Test("a 504 after the sandbox stored the return ends with exactly one filing stored and the job succeeded")
    func ambiguous504() async throws {
        let script = try Self.faultScript("504-after-store")
        defer { try? FileManager.default.removeItem(at: script) }
        try await self.withFleet(jobs: 1, workers: 2, rate: 10, sandboxArguments: ["--fault-script", script.path, "--duplicates", "accept"]) {
            client, sandbox in
            try await client.waitUntil("SELECT count(*) = 1 FROM tuku.jobs WHERE state = 'succeeded'", timeout: .seconds(60))
            #expect(try Self.soapArrivals(sandbox).map { $0.row["action"] as? String } == ["File", "RetrieveStatus"])
            let statistics = try sandbox.statistics()
            #expect(statistics["filingsStored"] as? Int == 1)
            #expect(statistics["duplicateFilings"] as? Int == 0)
            #expect(try await Self.exchangeTrail(client) == "submit:504:outcome_unknown:-,reconcile:200:succeeded:0")
        }
    }

    @Test("a Create whose 504 came after the sandbox recorded the employment succeeds on IRD's 106, with one employment recorded")
    func ambiguousEmploymentCreate() async throws {
        let script = try Self.faultScript("504-after-store")
        defer { try? FileManager.default.removeItem(at: script) }
        try await self.withFleet(jobs: 0, workers: 1, rate: 10, sandboxArguments: ["--fault-script", script.path]) { client, sandbox in
            let payload = try String(
                contentsOf: TestCertificates.repositoryRoot.appendingPathComponent("jobs/ird.ed.create/examples/new-employee.json"),
                encoding: .utf8)
            try await client.execute("SELECT tuku.enqueue('ird.ed.create', 'acme', \(payload)::jsonb)")
            // The retry after an unknown outcome waits a few seconds (the handler's reconcile delay).
            try await client.waitUntil("SELECT count(*) = 1 FROM tuku.jobs WHERE state = 'succeeded'", timeout: .seconds(60))
            #expect(try Self.soapArrivals(sandbox).map { $0.row["action"] as? String } == ["Create", "Create"])
            let statistics = try sandbox.statistics()
            #expect(statistics["employmentsCreated"] as? Int == 1)
            #expect(statistics["employmentCreatesRefused"] as? Int == 1)
            #expect(try await Self.exchangeTrail(client) == "submit:504:outcome_unknown:-,submit:200:already_done:106")
            #expect(try await client.scalar("SELECT attempt::int8 FROM tuku.jobs", as: Int64.self) == 2)

            // Without an earlier unknown outcome, 106 means what it says: upstream asked for the employee twice.
            try await client.execute("SELECT tuku.enqueue('ird.ed.create', 'acme', \(payload)::jsonb, idempotency_key => 'again')")
            try await client.waitUntil("SELECT count(*) = 1 FROM tuku.jobs WHERE state = 'rejected'", timeout: .seconds(30))
            #expect(try await client.scalar(
                "SELECT last_error->>'message' FROM tuku.jobs WHERE state = 'rejected'", as: String.self).contains("IRD status 106"))
        }
    }

    @Test("a fault mix of 429, 503, 504, resets and timeouts ends with every job succeeded and no duplicate filing")
    func faultMix() async throws {
        try await self.withFleet(
            jobs: 20, workers: 3, rate: 20,
            sandboxArguments: [
                "--faults", "429:0.08,503:0.08,504-after-store:0.08,reset:0.05,slow:0.05", "--seed", "7", "--slow-delay", "4",
                "--duplicates", "accept", "--fault-retry-after", "1",
            ],
            workerArguments: ["--gateway-timeout", "2"]
        ) { client, sandbox in
            // Retries back off (the kinds' policy starts at 30 s), so move retry times forward as they appear.
            let deadline = ContinuousClock.now + .seconds(150)
            while try await client.scalar("SELECT count(*) < 20 FROM tuku.jobs WHERE state = 'succeeded'", as: Bool.self) {
                guard ContinuousClock.now < deadline else { break }
                try await client.execute("UPDATE tuku.jobs SET run_at = now() WHERE state = 'retryable' AND run_at > now() + interval '1 second'")
                try await Task.sleep(for: .milliseconds(300))
            }
            #expect(try await client.scalar("SELECT count(*)::int8 FROM tuku.jobs WHERE state = 'succeeded'", as: Int64.self) == 20)
            let statistics = try sandbox.statistics()
            #expect(statistics["duplicateFilings"] as? Int == 0)
            #expect(statistics["filingsStored"] as? Int == 20)
            let faults = try Self.soapArrivals(sandbox).compactMap { $0.row["fault"] as? String }
            #expect(!faults.isEmpty, "the seed injected no faults")
        }
    }
}
