import Foundation
import Logging
import NIOCore
import NIOHTTP1
import PostgresNIO
import Testing
import TukuCore
import TukuFiling
import TukuGateway
import TukuPostgres
import TukuTestSupport

/// Tuku's client for HMRC's token endpoint against a real `tuku sandbox` process's HMRC personality (single-use
/// refresh tokens, 4-hour access tokens), alone and through the ``TokenStore``'s fleet-once refresh claim.
@Suite("HMRC token client against the sandbox's HMRC OAuth")
struct HMRCTokenClientTests {
    static let certificates = Result { try TestCertificates.make() }
    static let applicationID = "hmrc-app"
    static let applicationSecret = "hmrc-app-secret"
    static let vrn = "123456789"

    struct Context {
        let sandbox: SandboxProcess
        let transport: GatewayTransport
        var baseURL: String { "https://\(self.sandbox.oneWayTLSAddress)" }

        func client(secret: String = HMRCTokenClientTests.applicationSecret) -> HMRCTokenClient {
            HMRCTokenClient(
                baseURL: self.baseURL, clientID: HMRCTokenClientTests.applicationID, clientSecret: Secret(secret),
                transport: self.transport,
                logger: .test())
        }

        /// A code from the loopback-only `/sandbox/hmrc/grant` (HMRC's consent stands in), exchanged by Tuku's client.
        func authorise() async throws -> TokenSet {
            let body = #"{"client_id":"\#(HMRCTokenClientTests.applicationID)","vrns":["\#(HMRCTokenClientTests.vrn)"]}"#
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: "application/json")
            let response = try await self.transport.post(
                url: self.baseURL + "/sandbox/hmrc/grant", body: Array(body.utf8), headers: headers)
            let object = try JSONSerialization.jsonObject(with: Data(response.bodyBytes)) as? [String: Any]
            let code = try #require(object?["code"] as? String)
            return try await self.client().exchange(code: Secret(code), redirectURI: "https://localhost/unused")
        }

        /// The HTTP status of a VAT call with `token`: 401 when HMRC does not take it.
        func vatStatus(_ token: Secret) async throws -> Int {
            var headers = HTTPHeaders()
            headers.add(name: "Accept", value: "application/vnd.hmrc.1.0+json")
            headers.add(name: "Authorization", value: "Bearer \(token.value)")
            let response = try await self.transport.send(
                .GET, url: self.baseURL + "/organisations/vat/\(HMRCTokenClientTests.vrn)/obligations?status=O", body: nil, headers: headers
            )
            return Int(response.status.code)
        }

        /// The sandbox's answers to HMRC token calls, in order.
        func tokenCalls() throws -> [Int] {
            try self.sandbox.arrivals().filter { $0["action"] as? String == "hmrc.oauth.token" }.map { $0["status"] as? Int ?? 0 }
        }
    }

    func withSandbox(_ body: (Context) async throws -> Void) async throws {
        let certificates = try Self.certificates.get()
        let sandbox = try await SandboxProcess(
            certificates: certificates,
            arguments: ["--hmrc-client", "\(Self.applicationID):\(Self.applicationSecret)", "--hmrc-rate", "0", "--hmrc-no-fraud-headers"])
        let transport = try GatewayTransport(
            configuration: .init(tls: .init(trustRoots: .caBundle(path: certificates.path("ca.pem")))), logger: .test())
        do {
            try await body(Context(sandbox: sandbox, transport: transport))
        } catch {
            try? await transport.shutdown()
            try? await sandbox.stop()
            throw error
        }
        try await transport.shutdown()
        try await sandbox.stop()
    }

    @Test(
        "the code exchange gives a 4-hour set; a refresh rotates it; the spent refresh token presented again is invalid_grant and revokes the authorisation"
    )
    func refreshRotatesAndSpentTokenRevokes() async throws {
        try await withSandbox { context in
            let first = try await context.authorise()
            #expect(abs(first.expiresAt.timeIntervalSinceNow - 14_400) < 60)
            let firstRefresh = try #require(first.refreshToken)
            #expect(try await context.vatStatus(first.accessToken) != 401)

            let second = try await context.client().refresh(firstRefresh)
            let secondRefresh = try #require(second.refreshToken)
            #expect(second.accessToken != first.accessToken)
            #expect(secondRefresh != firstRefresh)
            #expect(try await context.vatStatus(second.accessToken) != 401)

            // Presenting the spent token: refused as invalid_grant (a person must consent again) ...
            do {
                _ = try await context.client().refresh(firstRefresh)
                Issue.record("a spent refresh token was accepted")
            } catch let error as TokenError {
                #expect(error.code == .needsAuthorisation)
                #expect(!error.message.contains(firstRefresh.value) && !error.message.contains(Self.applicationSecret))
            }
            // ... and HMRC revokes the whole authorisation: the newer refresh token and access token die too.
            do {
                _ = try await context.client().refresh(secondRefresh)
                Issue.record("the authorisation survived a replayed refresh token")
            } catch let error as TokenError {
                #expect(error.code == .needsAuthorisation)
            }
            #expect(try await context.vatStatus(second.accessToken) == 401)
            #expect(try context.tokenCalls() == [200, 200, 400, 400])
        }
    }

    @Test("a wrong client secret is this worker's configuration (clientRejected); an unreachable endpoint took nothing (refreshFailed)")
    func configurationAndOutage() async throws {
        try await withSandbox { context in
            let set = try await context.authorise()
            let refresh = try #require(set.refreshToken)
            do {
                _ = try await context.client(secret: "not-the-secret").refresh(refresh)
                Issue.record("a wrong secret was accepted")
            } catch let error as TokenError {
                #expect(error.code == .clientRejected)
                #expect(!error.message.contains("not-the-secret"))
            }
            let unreachable = HMRCTokenClient(
                baseURL: "https://127.0.0.1:1", clientID: Self.applicationID, clientSecret: Secret(Self.applicationSecret),
                transport: context.transport, logger: .test(), timeout: .seconds(5))
            do {
                _ = try await unreachable.refresh(refresh)
                Issue.record("an unreachable endpoint returned a set")
            } catch let error as TokenError {
                #expect(error.code == .refreshFailed)
            }
            // Neither took the token: it still refreshes.
            #expect(try await context.client().refresh(refresh).refreshToken != nil)
        }
    }

    @Test(
        "two workers' token stores racing to refresh an expired HMRC set present its single-use refresh token once: one rotation, no invalid_grant, the authorisation lives"
    )
    func racingRefreshesPresentOnce() async throws {
        try await withSandbox { context in
            try await TestDatabase.withFresh { client, _ in
                let cipher = try TokenCipher(base64: TokenCipher.generateKey())
                let issued = try await context.authorise()
                // Stored as if its access token had expired: the next use must refresh.
                try await TokenStore(client: client, cipher: cipher, logger: .test()).store(
                    name: "vat-agent", gateway: .hmrc,
                    tokens: TokenSet(
                        accessToken: issued.accessToken, expiresAt: Date().addingTimeInterval(-60), refreshToken: issued.refreshToken),
                    tenants: ["acme"])
                // Two workers: separate stores (separate caches), each with several jobs asking at once.
                let stores = (0..<2).map { _ in
                    var store = TokenStore(client: client, cipher: cipher, logger: .test())
                    store.claimPollInterval = .milliseconds(50)
                    return store
                }
                let refresher = context.client()
                let grants = try await withThrowingTaskGroup(of: AccessGrant.self) { group in
                    for index in 0..<8 {
                        let store = stores[index % 2]
                        group.addTask { try await store.accessToken(forTenant: "acme", gateway: .hmrc, refresher: refresher) }
                    }
                    return try await group.reduce(into: [AccessGrant]()) { $0.append($1) }
                }
                #expect(Set(grants.map(\.accessToken.value)).count == 1)
                #expect(grants.allSatisfy { $0.accessToken != issued.accessToken })
                #expect(try context.tokenCalls() == [200, 200])

                // The gateway refuses the token on two workers at once: one more rotation, not two.
                let generation = try #require(grants.first?.generation)
                let replaced = try await withThrowingTaskGroup(of: AccessGrant.self) { group in
                    for store in stores {
                        group.addTask {
                            try await store.accessToken(
                                forTenant: "acme", gateway: .hmrc, refresher: refresher, replacingGeneration: generation)
                        }
                    }
                    return try await group.reduce(into: [AccessGrant]()) { $0.append($1) }
                }
                #expect(Set(replaced.map(\.generation)) == [generation + 1])
                #expect(try context.tokenCalls() == [200, 200, 200])
                // Nothing was presented twice: the family is alive and its newest token works.
                let newest = try #require(replaced.first?.accessToken)
                #expect(try await context.vatStatus(newest) != 401)
                #expect(try await client.scalar("SELECT needs_authorisation_since IS NULL FROM tuku.oauth_tokens", as: Bool.self))
                #expect(try await client.scalar("SELECT gateway FROM tuku.oauth_tokens", as: String.self) == "hmrc")
            }
        }
    }
}
