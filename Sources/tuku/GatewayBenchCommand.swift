import ArgumentParser
import Foundation
import Logging
import PostgresNIO
import TukuCore
import TukuPostgres

/// `tuku bench gateway`: fleet pacing and end-to-end filing throughput against a real `tuku sandbox`.
struct GatewayBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway",
        abstract: "Measure fleet pacing (worst one-second window, achieved rate) and end-to-end filings per second against tuku sandbox.",
        discussion: """
        For each rate R and worker count N: a scratch database, a sandbox limited to R calls/s per client, Tuku's \
        rate-limit row at R, R × --seconds filings, N worker processes; the figures come from the sandbox's \
        arrival log. Then filings per second over mutual TLS against an unthrottled sandbox. Needs --certs (a \
        folder made by scripts/lib/certs.sh) and a role with CREATEDB. scripts/bench runs it.
        """
    )

    @OptionGroup var database: DatabaseOptions
    @Option(help: "Folder with ca.pem, server.pem/.key, client.pem/.key (scripts/lib/certs.sh).") var certs: String
    @Option(help: "Limits to pace at, calls/s.") var rates: [Double] = [3, 50]
    @Option(help: "Worker process counts.") var workers: [Int] = [1, 4, 16]
    @Option(help: "Seconds of work per pacing run.") var seconds: Double = 10
    @Option(name: .customLong("safety-margin"), help: "tuku.rate_limits.safety_margin for the pacing runs (default: the table's, 0.01).")
    var safetyMargin: Double?
    @Option(name: .customLong("e2e-jobs"), help: "Filings for the end-to-end run (0 skips it).") var endToEndJobs = 3000
    @Option(name: .customLong("e2e-workers"), help: "Worker processes for the end-to-end run.") var endToEndWorkers = 2
    @Option(name: .customLong("keep-arrivals"), help: "A folder to keep each run's sandbox arrival log in (arrivals-R-N.jsonl).")
    var keepArrivals: String?
    @Flag(name: .customLong("keep-databases"), help: "Keep each run's scratch database (tuku_bench_gateway_R_N) for inspection.")
    var keepDatabases = false

    func run() async throws {
        let logger = self.database.makeLogger("tuku.bench")
        let serverURL = try self.database.url()
        print(QueueBenchCommand.machine())
        var table = TextTable("limit R", "workers N", "calls", "worst 1-s window", "achieved / R", "refused (429)")
        for rate in self.rates {
            for workers in self.workers {
                let run = try await self.pacingRun(serverURL: serverURL, rate: rate, workers: workers, logger: logger)
                table.append([String(format: "%g/s", rate), "\(workers)", "\(run.calls)", "\(run.worstWindow)",
                              String(format: "%.3f", run.achieved / rate), "\(run.refused)"])
                print("... R=\(rate) N=\(workers): worst window \(run.worstWindow), achieved \(String(format: "%.3f", run.achieved / rate)) of R")
            }
        }
        print("\nPacing, safety margin \(self.safetyMargin.map { "\($0)" } ?? "0.01 (default)") (target: worst window ≤ R, achieved ≥ 0.98 R)\n" + table.render())
        if self.endToEndJobs > 0 {
            let perSecond = try await self.endToEnd(serverURL: serverURL, logger: logger)
            print(String(format: "\nEnd to end over mutual TLS, unthrottled sandbox, %d worker processes: %d filings, %.0f filings/s (target ≥ 1,000)",
                         self.endToEndWorkers, self.endToEndJobs, perSecond))
        }
    }

    struct PacingRun {
        var calls: Int
        var worstWindow: Int
        var achieved: Double
        var refused: Int
    }

    private func pacingRun(serverURL: String, rate: Double, workers: Int, logger: Logger) async throws -> PacingRun {
        let jobs = max(Int(rate * self.seconds), workers * 2)
        let (_, arrivals) = try await self.withScratch(
            serverURL: serverURL, sandboxArguments: ["--rate", "\(rate)"], label: "\(Int(rate))-\(workers)", logger: logger
        ) { client, url, environment in
            try await client.execute("SELECT tuku.set_rate('ird.gateway', \(rate))", logger: logger)
            if let margin = self.safetyMargin {
                try await client.execute("UPDATE tuku.rate_limits SET safety_margin = \(margin)", logger: logger)
            }
            try await self.enqueue(jobs, client: client, logger: logger)
            let processes = try (0..<workers).map { _ in
                try BenchWorker(url: url, arguments: ["--concurrency", "16", "--claim-batch", "8", "--log-level", "error"], environment: environment)
            }
            defer { processes.forEach { $0.stop() } }
            try await self.waitForAll(jobs, client: client, logger: logger)
        }
        // Every arrival counts, refused ones included: a refusal means the fleet sent too much.
        let times = arrivals.map(\.at).sorted()
        var worst = 0
        var start = 0
        for end in times.indices {
            while times[end] - times[start] >= 1 { start += 1 }
            worst = max(worst, end - start + 1)
        }
        let accepted = arrivals.filter { $0.status != 429 }.map(\.at).sorted()
        let span = (accepted.last ?? 0) - (accepted.first ?? 0)
        return PacingRun(
            calls: arrivals.count, worstWindow: worst, achieved: span > 0 ? Double(accepted.count - 1) / span : 0,
            refused: arrivals.filter { $0.status == 429 }.count)
    }

    private func endToEnd(serverURL: String, logger: Logger) async throws -> Double {
        let jobs = self.endToEndJobs
        let workers = self.endToEndWorkers
        let (perSecond, _) = try await self.withScratch(serverURL: serverURL, sandboxArguments: [], label: "e2e", logger: logger) { client, url, environment in
            try await self.enqueue(jobs, client: client, logger: logger)
            let processes = try (0..<workers).map { _ in
                try BenchWorker(url: url, arguments: ["--concurrency", "64", "--claim-batch", "32", "--log-level", "error"], environment: environment)
            }
            defer { processes.forEach { $0.stop() } }
            try await self.waitForAll(jobs, client: client, logger: logger)
            for try await seconds in try await client.query(
                "SELECT extract(epoch FROM max(finished_at) - min(started_at))::float8 FROM tuku.jobs", logger: logger
            ).decode(Double.self) {
                return Double(jobs) / seconds
            }
            return 0
        }
        return perSecond
    }

    struct Arrival {
        var at: Double
        var status: Int
    }

    /// A scratch database, a running sandbox and a loaded token; returns the sandbox's SOAP arrivals.
    private func withScratch<Result: Sendable>(
        serverURL: String, sandboxArguments: [String], label: String, logger: Logger,
        _ body: @Sendable (PostgresClient, String, [String: String]) async throws -> Result
    ) async throws -> (Result, [Arrival]) {
        let name = self.keepDatabases ? "tuku_bench_gateway_\(label.replacingOccurrences(of: "-", with: "_"))" : "tuku_bench_gateway_\(getpid())"
        let admin = try PostgresClient.Configuration(url: serverURL)
        try await QueueBenchCommand.withClient(admin, logger: logger) { client in
            try await client.execute(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"), logger: logger)
            try await client.execute(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: logger)
        }
        var components = URLComponents(string: serverURL)!
        components.path = "/\(name)"
        let url = components.string!
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tuku-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let arrivals = directory.appendingPathComponent("arrivals.jsonl")
        let listening = directory.appendingPathComponent("sandbox.out")
        _ = FileManager.default.createFile(atPath: listening.path, contents: nil)
        let sandbox = try BenchWorker(
            url: url,
            arguments: [
                "--mtls-port", "0", "--tls-port", "0", "--cert", "\(self.certs)/server.pem", "--key", "\(self.certs)/server.key",
                "--ca", "\(self.certs)/ca.pem", "--client", "tuku-bench:bench-secret", "--arrivals", arrivals.path, "--log-level", "error",
            ] + sandboxArguments,
            command: "sandbox", output: try FileHandle(forWritingTo: listening))
        defer { sandbox.stop() }
        var mtls = ""
        var tls = ""
        for _ in 0..<200 where mtls.isEmpty {
            try await Task.sleep(for: .milliseconds(50))
            let text = (try? String(contentsOf: listening, encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("listening ") }) {
                for field in line.split(separator: " ") {
                    if field.hasPrefix("mtls=") { mtls = String(field.dropFirst(5)) }
                    if field.hasPrefix("tls=") { tls = String(field.dropFirst(4)) }
                }
            }
        }
        guard !mtls.isEmpty else { throw ValidationError("tuku sandbox did not start") }
        let (mutualAddress, oneWayAddress) = (mtls, tls)
        var configuration = try PostgresClient.Configuration(url: url)
        configuration.options.maximumConnections = 4
        let key = TokenCipher.generateKey()
        let result = try await QueueBenchCommand.withClient(configuration, logger: logger) { client in
            try await Migrator(client: client, logger: logger).migrate()
            let grant = try Self.curl(["--cacert", "\(self.certs)/ca.pem", "-H", "Content-Type: application/json", "--data-binary",
                                       #"{"client_id":"tuku-bench","tenants":["bench"]}"#, "https://\(oneWayAddress)/sandbox/grant"])
            let object = try JSONSerialization.jsonObject(with: grant) as? [String: Any] ?? [:]
            try await TokenStore(client: client, cipher: try TokenCipher(base64: key), logger: logger).store(
                name: "bench", gateway: .ird, tokens: TokenSet(accessToken: Secret(object["access_token"] as? String ?? ""),
                                                expiresAt: Date().addingTimeInterval(3600), refreshToken: nil),
                tenants: ["bench"])
            let environment = [
                "TUKU_GATEWAY": "sandbox", "TUKU_GATEWAY_URL": "https://\(mutualAddress)/gateway/", "TUKU_TLS_CERT": "\(self.certs)/client.pem",
                "TUKU_TLS_KEY": "\(self.certs)/client.key", "TUKU_TLS_CA": "\(self.certs)/ca.pem",
                "TUKU_OAUTH_TOKEN_URL": "https://\(mutualAddress)/oauth/token", "TUKU_OAUTH_CLIENT_ID": "tuku-bench",
                "TUKU_OAUTH_CLIENT_SECRET": "bench-secret", "TUKU_TOKEN_KEY": key,
            ]
            return try await body(client, url, environment)
        }
        sandbox.stop()
        if !self.keepDatabases {
            try await QueueBenchCommand.withClient(admin, logger: logger) { client in
                try await client.execute(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"), logger: logger)
            }
        }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        if let keep = self.keepArrivals {
            try FileManager.default.createDirectory(atPath: keep, withIntermediateDirectories: true)
            let target = URL(fileURLWithPath: keep).appendingPathComponent("arrivals-\(label).jsonl")
            try? FileManager.default.removeItem(at: target)
            try FileManager.default.copyItem(at: arrivals, to: target)
        }
        let text = (try? String(contentsOf: arrivals, encoding: .utf8)) ?? ""
        return (result, text.split(separator: "\n").compactMap { line in
            guard let row = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let action = row["action"] as? String, ["File", "RetrieveStatus"].contains(action),
                  let at = (row["at"] as? String).flatMap({ Self.microsecondTime($0, formatter: formatter) })
            else { return nil }
            return Arrival(at: at.timeIntervalSince1970, status: row["status"] as? Int ?? 0)
        })
    }

    /// An arrival's `at` (RFC 3339 with microseconds) as a `Date`, keeping the microseconds: the formatter alone
    /// stops at milliseconds, which can hide a window that is over the limit by less than one.
    static func microsecondTime(_ text: String, formatter: ISO8601DateFormatter) -> Date? {
        guard let dot = text.firstIndex(of: "."), let end = text[dot...].firstIndex(where: { !$0.isNumber && $0 != "." }),
            let seconds = formatter.date(from: String(text[..<dot]) + String(text[end...])),
            let fraction = Double("0" + text[dot..<end])
        else { return formatter.date(from: text) }
        return seconds.addingTimeInterval(fraction)
    }

    /// `count` EI filings for distinct employers (valid IRD numbers), from the three-employee example.
    private func enqueue(_ count: Int, client: PostgresClient, logger: Logger) async throws {
        let example = #"{"employerIrdNumber":"49-091-850","payDayDate":"2025-05-16","isNilReturn":false,"lines":[{"referenceId":"r1","irdNumber":"136-410-132","employeeName":"Aroha Ngāta","taxCode":"M","payPeriodStartDate":"2025-05-03","payPeriodEndDate":"2025-05-16","employeePayFrequency":"FT","grossEarnings":"2450.00","lumpSumIndicator":false,"payeSchedularTaxDeductions":"412.37"}]}"#
        try await client.execute(
            """
            WITH numbers AS (
                SELECT n, lpad(n::text, 9, '0') AS ird FROM (
                    SELECT base * 10 + CASE WHEN r = 0 THEN 0 ELSE 11 - r END AS n, r FROM (
                        SELECT base, (substr(lpad(base::text, 8, '0'), 1, 1)::int * 3 + substr(lpad(base::text, 8, '0'), 2, 1)::int * 2
                                    + substr(lpad(base::text, 8, '0'), 3, 1)::int * 7 + substr(lpad(base::text, 8, '0'), 4, 1)::int * 6
                                    + substr(lpad(base::text, 8, '0'), 5, 1)::int * 5 + substr(lpad(base::text, 8, '0'), 6, 1)::int * 4
                                    + substr(lpad(base::text, 8, '0'), 7, 1)::int * 3 + substr(lpad(base::text, 8, '0'), 8, 1)::int * 2) % 11 AS r
                        FROM generate_series(2000000, 2000000 + \(Int64(count) * 3)) base
                    ) weighted WHERE r <> 1
                ) numbered LIMIT \(Int64(count))
            )
            INSERT INTO tuku.jobs (kind, tenant, payload)
            SELECT 'ird.ei.file', 'bench', jsonb_set(\(example)::jsonb, '{employerIrdNumber}', to_jsonb(ird)) FROM numbers
            """, logger: logger)
    }

    private func waitForAll(_ count: Int, client: PostgresClient, logger: Logger) async throws {
        let deadline = ContinuousClock.now + .seconds(900)
        while ContinuousClock.now < deadline {
            for try await done in try await client.query(
                "SELECT count(*) FILTER (WHERE finished_at IS NOT NULL) = \(Int64(count)) FROM tuku.jobs", logger: logger
            ).decode(Bool.self) where done { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw ValidationError("the jobs did not finish within 15 minutes")
    }

    private static func curl(_ arguments: [String]) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        process.arguments = ["-sS", "--fail"] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw ValidationError("curl \(arguments.last ?? "") failed") }
        return data
    }
}
