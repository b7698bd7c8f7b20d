import Foundation
import Logging
import PostgresNIO
import Synchronization
import Testing
import TukuCore
import TukuFiling
import TukuGateway
import TukuPostgres
import TukuTestSupport

/// Defect 9 (first item) of issue #11: only `invalid_grant` sends a token set to a person. A refusal of the client
/// (one misconfigured worker) leaves a healthy set alone; an answer that may have spent the token asks a person.
@Suite("Token endpoint answers, classified")
struct TokenEndpointTests {
    static let certificates = Result { try TestCertificates.make() }

    /// A scripted token endpoint answering `replies` in order (then a rotated set), and a client for it.
    func withEndpoint(
        _ replies: [ScriptedGateway.Reply], _ body: @Sendable (OAuthTokenClient, ScriptedGateway) async throws -> Void
    ) async throws {
        let certificates = try Self.certificates.get()
        let queue = Mutex(replies)
        let gateway = try await ScriptedGateway(certificates: certificates, requireClientCertificate: false) { _ in
            queue.withLock { $0.isEmpty ? nil : $0.removeFirst() }
                ?? .respond(
                    status: 200, headers: ["Content-Type": "application/json"],
                    body: #"{"access_token":"new-access","token_type":"Bearer","expires_in":28800,"refresh_token":"new-refresh"}"#)
        }
        var configuration = GatewayTransport.Configuration(tls: .init(trustRoots: .caBundle(path: certificates.path("ca.pem"))))
        configuration.timeouts.request = .seconds(5)
        let transport = try GatewayTransport(configuration: configuration, logger: .test())
        let client = OAuthTokenClient(
            tokenURL: "https://127.0.0.1:\(gateway.port)/oauth/token", clientID: "tuku-test", clientSecret: Secret("s3cret"),
            transport: transport, logger: .test())
        do {
            try await body(client, gateway)
            try await transport.shutdown()
            try await gateway.shutdown()
        } catch {
            try? await transport.shutdown()
            try? await gateway.shutdown()
            throw error
        }
    }

    static func json(_ status: Int, _ body: String) -> ScriptedGateway.Reply {
        .respond(status: status, headers: ["Content-Type": "application/json"], body: body)
    }

    @Test(
        "each answer maps to what it says about the refresh token",
        arguments: [
            (json(400, #"{"error":"invalid_grant","error_description":"refresh token revoked"}"#), TokenError.Code.needsAuthorisation),
            (json(401, #"{"error":"invalid_client"}"#), .clientRejected),
            (json(400, #"{"error":"unauthorized_client"}"#), .clientRejected),
            (json(400, #"{"error":"invalid_request"}"#), .clientRejected),
            (.respond(status: 404, body: "not here"), .clientRejected),
            (.respond(status: 429, body: ""), .refreshFailed),
            (.respond(status: 503, body: "maintenance"), .refreshFailed),
            (.respond(status: 504, body: "upstream timed out"), .refreshOutcomeUnknown),
            (json(200, #"{"unexpected":true}"#), .refreshOutcomeUnknown),
            (.drop, .refreshOutcomeUnknown),
        ])
    func classification(reply: ScriptedGateway.Reply, expected: TokenError.Code) async throws {
        try await self.withEndpoint([reply]) { client, _ in
            do {
                _ = try await client.refresh(Secret("refresh-1"))
                Issue.record("the answer was taken as a token set")
            } catch let error as TokenError {
                #expect(error.code == expected)
                #expect(!error.message.contains("refresh-1") && !error.message.contains("s3cret"))
            }
        }
    }

    @Test("invalid_client from one misconfigured worker leaves the set healthy; a correctly configured worker then refreshes it")
    func invalidClientLeavesSetAlone() async throws {
        try await TestDatabase.withFresh { database, _ in
            let store = TokenStore(client: database, cipher: try TokenCipher(base64: TokenCipher.generateKey()), logger: .test())
            try await store.store(
                name: "payroll-admin", gateway: .ird,
                tokens: TokenSet(accessToken: Secret("old"), expiresAt: Date().addingTimeInterval(-60), refreshToken: Secret("refresh-1")),
                tenants: ["acme"])
            try await self.withEndpoint([Self.json(401, #"{"error":"invalid_client"}"#)]) { client, gateway in
                do {
                    _ = try await store.accessToken(forTenant: "acme", gateway: .ird, refresher: client)
                    Issue.record("a refused client got a token")
                } catch let error as TokenError {
                    #expect(error.code == .clientRejected)
                }
                #expect(try await database.scalar("SELECT needs_authorisation_since IS NULL AND refresh_claimed_by IS NULL FROM tuku.oauth_tokens", as: Bool.self))
                // The refusal is visible, but the set is not marked.
                #expect(try await database.scalar("SELECT last_error FROM tuku.oauth_token_status", as: String.self).contains("invalid_client"))
                let grant = try await store.accessToken(forTenant: "acme", gateway: .ird, refresher: client)
                #expect(grant.accessToken.value == "new-access")
                #expect(grant.generation == 2)
                #expect(gateway.requests.map { $0.body.contains("refresh_token=refresh-1") } == [true, true])
            }
            // invalid_grant, by contrast, does mark it.
            try await self.withEndpoint([Self.json(400, #"{"error":"invalid_grant"}"#)]) { client, _ in
                await #expect(throws: TokenError.self) {
                    try await store.accessToken(forTenant: "acme", gateway: .ird, refresher: client, replacingGeneration: 2)
                }
                let marked = try await database.scalar("SELECT needs_authorisation_since IS NOT NULL FROM tuku.oauth_tokens", as: Bool.self)
                #expect(marked)
            }
        }
    }
}
