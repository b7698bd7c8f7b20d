import Foundation
import Testing
import TukuPostgres
import TukuTestSupport

/// `tuku worker --hmrc …`: HMRC's configuration is checked at start like IRD's (production refuses overrides unless
/// allowed), an HMRC-only worker runs without `--gateway`, and secrets never reach the log.
@Suite("Worker configuration for HMRC")
struct HMRCWorkerConfigurationTests {
    static let secret = "hmrc-secret-that-must-not-leak"

    static func worker(_ arguments: [String], environment: [String: String] = [:], database: TestDatabase) throws -> TukuProcess {
        var extra = [
            "TUKU_HMRC_CLIENT_SECRET": Self.secret, "TUKU_TOKEN_KEY": TokenCipher.generateKey(), "TUKU_GATEWAY": "", "TUKU_HMRC_TLS_CA": "",
            "TUKU_HMRC_URL": "", "TUKU_ALLOW_GATEWAY_OVERRIDES": "", "TUKU_HMRC_DEVICE_ID": "",
        ]
        extra.merge(environment) { _, new in new }
        return try TukuProcess(
            ["worker", "--hmrc-client-id", "hmrc-app", "--poll-interval-ms", "100"] + arguments, databaseURL: database.url,
            environment: extra)
    }

    /// Waits until the worker runs, stops it with SIGTERM and returns its exit status.
    static func startAndStop(_ worker: TukuProcess) async throws -> Int32 {
        let deadline = ContinuousClock.now + .seconds(30)
        while !worker.log.contains("Worker started"), worker.process.isRunning, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        worker.signal(SIGTERM)
        return try await worker.waitForExit()
    }

    @Test(
        "--hmrc production refuses a CA or URL override (option or variable) without --allow-gateway-overrides, naming it; with it, the worker starts and logs the override"
    )
    func productionOverrides() async throws {
        try await TestDatabase.withFresh { _, database in
            let byVariable = try Self.worker(
                ["--hmrc", "production"], environment: ["TUKU_HMRC_TLS_CA": "/etc/ssl/certs/ca-certificates.crt"], database: database)
            #expect(try await byVariable.waitForExit() != 0)
            #expect(byVariable.log.contains("--hmrc-tls-ca"))
            #expect(byVariable.log.contains("would redirect HMRC production credentials"))
            #expect(!byVariable.log.contains(Self.secret))

            let byOption = try Self.worker(["--hmrc", "production", "--hmrc-url", "https://staging.example"], database: database)
            #expect(try await byOption.waitForExit() != 0)
            #expect(byOption.log.contains("--hmrc-url"))

            let allowed = try Self.worker(
                ["--hmrc", "production", "--allow-gateway-overrides", "--hmrc-tls-ca", "/etc/ssl/certs/ca-certificates.crt"],
                database: database)
            #expect(try await Self.startAndStop(allowed) == 0, "\(allowed.log)")
            #expect(allowed.log.contains("gateway.overrides=--hmrc-tls-ca"))
            #expect(allowed.log.contains("hmrc.base_url=https://api.service.hmrc.gov.uk"))
            #expect(!allowed.log.contains(Self.secret))
        }
    }

    @Test("an HMRC-only worker (no --gateway) starts with HMRC configured; a missing secret or unknown environment stops it at start")
    func hmrcOnly() async throws {
        try await TestDatabase.withFresh { _, database in
            let worker = try Self.worker(
                [
                    "--hmrc", "sandbox", "--hmrc-url", "https://127.0.0.1:1", "--hmrc-vendor-public-ip", "203.0.113.6",
                    "--hmrc-vendor-forwarded", "by=10.0.0.5&for=10.0.0.2",
                ], database: database)
            #expect(try await Self.startAndStop(worker) == 0, "\(worker.log)")
            #expect(worker.log.contains("hmrc.base_url=https://127.0.0.1:1"))
            #expect(!worker.log.contains("No gateway configured"))
            #expect(!worker.log.contains(Self.secret))

            let noSecret = try Self.worker(["--hmrc", "test"], environment: ["TUKU_HMRC_CLIENT_SECRET": ""], database: database)
            #expect(try await noSecret.waitForExit() != 0)
            #expect(noSecret.log.contains("no HMRC client secret"))

            let typo = try Self.worker(["--hmrc", "prod"], database: database)
            #expect(try await typo.waitForExit() != 0)
            #expect(typo.log.contains("unknown HMRC environment 'prod'"))

            let badIP = try Self.worker(["--hmrc", "test", "--hmrc-vendor-public-ip", "10.0.0.1"], database: database)
            #expect(try await badIP.waitForExit() != 0)
            #expect(badIP.log.contains("Gov-Vendor-Public-IP"))

            let badHop = try Self.worker(["--hmrc", "test", "--hmrc-vendor-forwarded", "by=10.0.0.5&for=lb"], database: database)
            #expect(try await badHop.waitForExit() != 0)
            #expect(badHop.log.contains("Gov-Vendor-Forwarded"))
        }
    }

    @Test("a worker without --hmrc runs as before: no HMRC configuration, local kinds only without --gateway")
    func withoutHMRC() async throws {
        try await TestDatabase.withFresh { _, database in
            let worker = try TukuProcess(
                ["worker", "--poll-interval-ms", "100"], databaseURL: database.url, environment: ["TUKU_GATEWAY": "", "TUKU_HMRC": ""])
            #expect(try await Self.startAndStop(worker) == 0, "\(worker.log)")
            #expect(worker.log.contains("No gateway configured"))
            #expect(!worker.log.contains("HMRC configured"))
        }
    }
}
