import Foundation
import Testing
import TukuPostgres
import TukuTestSupport

/// `tuku worker --gateway production` refuses the sandbox's endpoint overrides unless they are allowed explicitly,
/// and never falls back silently from a mistyped profile.
@Suite("Gateway overrides on production")
struct GatewayOverrideTests {
    static let secret = "client-secret-that-must-not-leak"

    static func worker(_ arguments: [String], environment: [String: String] = [:], database: TestDatabase) throws -> TukuProcess {
        var extra = [
            "TUKU_OAUTH_CLIENT_SECRET": Self.secret, "TUKU_TOKEN_KEY": TokenCipher.generateKey(),
            "TUKU_OAUTH_TOKEN_URL": "", "TUKU_TLS_CA": "", "TUKU_GATEWAY_PROFILE": "", "TUKU_ALLOW_GATEWAY_OVERRIDES": "",
        ]
        extra.merge(environment) { _, new in new }
        return try TukuProcess(
            ["worker", "--gateway", "production", "--gateway-profile", "desktop", "--oauth-client-id", "tuku", "--poll-interval-ms", "100"]
                + arguments,
            databaseURL: database.url, environment: extra)
    }

    @Test("a token URL or CA override (option or variable) is refused on production, naming it, without the secret in the message")
    func refused() async throws {
        try await TestDatabase.withFresh { _, database in
            let byOption = try Self.worker(["--oauth-token-url", "https://staging.example/oauth/token"], database: database)
            #expect(try await byOption.waitForExit() != 0)
            #expect(byOption.log.contains("--oauth-token-url"))
            #expect(byOption.log.contains("would redirect the production gateway's credentials"))
            #expect(!byOption.log.contains(Self.secret))

            let byVariable = try Self.worker([], environment: ["TUKU_TLS_CA": "/etc/ssl/certs/ca-certificates.crt"], database: database)
            #expect(try await byVariable.waitForExit() != 0)
            #expect(byVariable.log.contains("--tls-ca"))
        }
    }

    @Test("--allow-gateway-overrides lets them apply, and the worker logs that they are in force")
    func allowedAndLogged() async throws {
        try await TestDatabase.withFresh { _, database in
            let worker = try Self.worker(
                ["--allow-gateway-overrides", "--oauth-token-url", "https://staging.example/oauth/token"], database: database)
            let deadline = ContinuousClock.now + .seconds(30)
            // Until the worker runs (its signal handlers installed): a SIGTERM before that would end it by default.
            while !worker.log.contains("Worker started"), worker.process.isRunning, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(worker.log.contains("gateway.overrides=--oauth-token-url"))
            worker.signal(SIGTERM)
            let status = try await worker.waitForExit()
            #expect(status == 0, "\(worker.log)")
        }
    }

    @Test("an unknown gateway profile is an error, not the cloud profile")
    func unknownProfile() async throws {
        try await TestDatabase.withFresh { _, database in
            let typo = try TukuProcess(
                ["worker", "--gateway", "production", "--gateway-profile", "deskop", "--oauth-client-id", "tuku"],
                databaseURL: database.url,
                environment: ["TUKU_OAUTH_CLIENT_SECRET": Self.secret, "TUKU_TOKEN_KEY": TokenCipher.generateKey()])
            #expect(try await typo.waitForExit() != 0)
            #expect(typo.log.contains("unknown gateway profile 'deskop'"))
        }
    }
}
