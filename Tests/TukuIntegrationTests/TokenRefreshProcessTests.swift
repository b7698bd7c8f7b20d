import Foundation
import Logging
import PostgresNIO
import Testing
import TukuCore
import TukuPostgres
import TukuTestSupport

/// Defect 1 of issue #11 with real worker processes: a worker killed while the token endpoint holds its refresh.
@Suite("Token refresh across worker processes")
struct TokenRefreshProcessTests {
    static let certificates = Result { try TestCertificates.make() }

    @Test("a worker SIGKILLed mid-refresh: the next worker waits, then asks a person; the refresh token reaches the endpoint once")
    func killedDuringRefresh() async throws {
        let certificates = try Self.certificates.get()
        try await TestDatabase.withFresh { admin, database in
            try await TestLogin.with("tuku_worker", on: database, admin: admin) { _, login in
                let key = TokenCipher.generateKey()
                try await TokenStore(client: admin, cipher: try TokenCipher(base64: key), logger: .test()).store(
                    name: "payroll-admin", gateway: .ird,
                    tokens: TokenSet(accessToken: Secret("expired"), expiresAt: Date().addingTimeInterval(-60), refreshToken: Secret("refresh-0")),
                    tenants: ["acme"])
                // The token endpoint takes the refresh and holds it; the SOAP gateway is never reached.
                let gateway = try await ScriptedGateway(certificates: certificates) { request in
                    request.path.hasSuffix("/oauth/token") ? .stall(.seconds(60)) : .respond(status: 500, body: "")
                }
                let environment = [
                    "TUKU_GATEWAY": "sandbox", "TUKU_GATEWAY_URL": gateway.baseURL,
                    "TUKU_TLS_CERT": certificates.path("client.pem"), "TUKU_TLS_KEY": certificates.path("client.key"),
                    "TUKU_TLS_CA": certificates.path("ca.pem"), "TUKU_OAUTH_TOKEN_URL": "https://127.0.0.1:\(gateway.port)/oauth/token",
                    "TUKU_OAUTH_CLIENT_ID": "tuku-test", "TUKU_OAUTH_CLIENT_SECRET": "test-secret", "TUKU_TOKEN_KEY": key,
                ]
                let payload = try String(
                    contentsOf: TestCertificates.repositoryRoot.appendingPathComponent("jobs/ird.ei.file/examples/three-employees.json"),
                    encoding: .utf8)
                var tokenRequests: [ScriptedGateway.Request] { gateway.requests.filter { $0.path.hasSuffix("/oauth/token") } }
                var processes: [TukuProcess] = []
                do {
                    try await admin.execute("SELECT tuku.enqueue('ird.ei.file', 'acme', \(payload)::jsonb)")
                    let doomed = try TukuProcess(["worker", "--poll-interval-ms", "100"], databaseURL: login.url, environment: environment)
                    processes.append(doomed)
                    try await admin.waitUntil("SELECT refresh_claimed_by IS NOT NULL FROM tuku.oauth_tokens", timeout: .seconds(60))
                    let deadline = ContinuousClock.now + .seconds(30)
                    while tokenRequests.isEmpty, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
                    #expect(tokenRequests.count == 1, "worker log:\n\(doomed.log)")
                    doomed.signal(SIGKILL)
                    _ = try await doomed.waitForExit()
                    let claimedBy = try await admin.scalar("SELECT refresh_claimed_by FROM tuku.oauth_tokens", as: String.self)
                    #expect(claimedBy.contains("pid \(doomed.process.processIdentifier) "))

                    // Another worker takes another job of the tenant: it waits for the claim, and presents nothing.
                    try await admin.execute("SELECT tuku.enqueue('ird.ei.file', 'acme', \(payload)::jsonb, 'second')")
                    let survivor = try TukuProcess(["worker", "--poll-interval-ms", "100"], databaseURL: login.url, environment: environment)
                    processes.append(survivor)
                    try await admin.waitUntil(
                        "SELECT state = 'running' FROM tuku.jobs WHERE idempotency_key = 'second'", timeout: .seconds(60))
                    try await Task.sleep(for: .seconds(2))
                    #expect(tokenRequests.count == 1)
                    #expect(try await admin.scalar("SELECT needs_authorisation_since IS NULL FROM tuku.oauth_tokens", as: Bool.self))

                    // Time passes: the dead worker's claim reaches its deadline without a stored result.
                    try await admin.execute(
                        "UPDATE tuku.oauth_tokens SET refresh_claimed_at = now() - interval '3 minutes', refresh_claim_expires_at = now() - interval '1 minute'")
                    try await admin.waitUntil("SELECT needs_authorisation_since IS NOT NULL FROM tuku.oauth_tokens", timeout: .seconds(30))
                    try await admin.waitUntil(
                        "SELECT coalesce(last_error->>'code' = 'auth_needs_authorisation', false) FROM tuku.jobs WHERE idempotency_key = 'second'",
                        timeout: .seconds(30))
                    let jobError = try await admin.scalar(
                        "SELECT last_error->>'message' FROM tuku.jobs WHERE idempotency_key = 'second'", as: String.self)
                    #expect(jobError.contains(claimedBy) && jobError.contains("stored no result before its deadline"))
                    #expect(
                        try await admin.scalar("SELECT last_error FROM tuku.oauth_token_status", as: String.self)
                            .contains("stored no result before its deadline"))
                    // Exactly one presentation of the refresh token, ever.
                    #expect(tokenRequests.count == 1)
                    #expect(tokenRequests.allSatisfy { $0.body.contains("refresh_token=refresh-0") })
                    survivor.signal(SIGTERM)
                    #expect(try await survivor.waitForExit() == 0, "worker log:\n\(survivor.log)")
                    #expect(survivor.log.contains("abandoned"), "worker log:\n\(survivor.log)")
                } catch {
                    for process in processes where process.process.isRunning { process.signal(SIGKILL) }
                    try? await gateway.shutdown()
                    throw error
                }
                try await gateway.shutdown()
            }
        }
    }
}
