import Foundation
import Logging
import PostgresNIO
import Synchronization
import Testing
import TukuCore
import TukuPostgres
import TukuTestSupport

/// Stands in for the OAuth token endpoint: counts calls, hands out rotating tokens, can refuse.
final class CountingRefresher: TokenRefresher {
    let calls = Mutex(0)
    let refuse: Bool

    init(refuse: Bool = false) {
        self.refuse = refuse
    }

    func refresh(_ refreshToken: Secret) async throws -> TokenSet {
        let call = self.calls.withLock { count in
            count += 1
            return count
        }
        try await Task.sleep(for: .milliseconds(200))  // a slow endpoint widens any race between workers
        if self.refuse { throw TokenError(.needsAuthorisation, "invalid_grant: refresh token is invalid") }
        return TokenSet(
            accessToken: Secret("access-\(call)-after-\(refreshToken.value)"), expiresAt: Date().addingTimeInterval(8 * 3600),
            refreshToken: Secret("refresh-\(call)"))
    }
}

@Suite("OAuth token store against PostgreSQL")
struct TokenStoreTests {
    let cipher = try! TokenCipher(base64: TokenCipher.generateKey())

    func store(_ client: PostgresClient) -> TokenStore {
        TokenStore(client: client, cipher: self.cipher, logger: .test())
    }

    @Test("tokens are sealed at rest: the database holds no plaintext, and the stored set is served while fresh")
    func sealedAtRest() async throws {
        try await TestDatabase.withFresh { client, _ in
            let store = self.store(client)
            try await store.store(
                name: "myir-payroll-admin", gateway: .ird,
                tokens: TokenSet(
                    accessToken: Secret("plain-access-XYZ"), expiresAt: Date().addingTimeInterval(3600),
                    refreshToken: Secret("plain-refresh-XYZ")),
                tenants: ["acme", "kiwi-co"])
            let leaked = try await client.scalar(
                "SELECT count(*)::int8 FROM tuku.oauth_tokens WHERE position('plain-' in encode(access_token, 'escape') || encode(refresh_token, 'escape')) > 0",
                as: Int64.self)
            #expect(leaked == 0)
            let grant = try await store.accessToken(forTenant: "kiwi-co", gateway: .ird, refresher: CountingRefresher())
            #expect(grant.accessToken.value == "plain-access-XYZ")
            #expect("\(grant.accessToken)" == "<redacted>")
            await #expect(throws: TokenError.self) { try await store.accessToken(forTenant: "stranger", gateway: .ird, refresher: CountingRefresher()) }
            // Another key cannot open what this one sealed.
            let other = TokenStore(client: client, cipher: try TokenCipher(base64: TokenCipher.generateKey()), logger: .test())
            await #expect(throws: TokenError.self) { try await other.accessToken(forTenant: "acme", gateway: .ird, refresher: CountingRefresher()) }
        }
    }

    @Test("eight workers needing a refresh at once cause exactly one refresh, and all use its result")
    func singleRefreshAcrossWorkers() async throws {
        try await TestDatabase.withFresh { client, _ in
            try await self.store(client).store(
                name: "set-1", gateway: .ird,
                tokens: TokenSet(accessToken: Secret("old"), expiresAt: Date().addingTimeInterval(-60), refreshToken: Secret("refresh-0")),
                tenants: ["acme"])
            let refresher = CountingRefresher()
            let grants = try await withThrowingTaskGroup(of: AccessGrant.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        return try await self.store(client).accessToken(forTenant: "acme", gateway: .ird, refresher: refresher)
                    }
                }
                return try await group.reduce(into: [AccessGrant]()) { $0.append($1) }
            }
            #expect(refresher.calls.withLock { $0 } == 1)
            #expect(Set(grants.map(\.accessToken.value)) == ["access-1-after-refresh-0"])
            #expect(Set(grants.map(\.generation)) == [2])
            // The rotated refresh token was stored before anyone used the new access token.
            let next = try await self.store(client).accessToken(forTenant: "acme", gateway: .ird, refresher: refresher, replacingGeneration: 2)
            #expect(next.accessToken.value == "access-2-after-refresh-1")
        }
    }

    @Test("a refused access token (IRD status 1) is refreshed once, however many workers saw it refused")
    func forcedRefreshOnce() async throws {
        try await TestDatabase.withFresh { client, _ in
            try await self.store(client).store(
                name: "set-1", gateway: .ird,
                tokens: TokenSet(
                    accessToken: Secret("revoked"), expiresAt: Date().addingTimeInterval(3600), refreshToken: Secret("refresh-0")),
                tenants: ["acme"])
            let refresher = CountingRefresher()
            let grants = try await withThrowingTaskGroup(of: AccessGrant.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        try await self.store(client).accessToken(forTenant: "acme", gateway: .ird, refresher: refresher, replacingGeneration: 1)
                    }
                }
                return try await group.reduce(into: [AccessGrant]()) { $0.append($1) }
            }
            #expect(refresher.calls.withLock { $0 } == 1)
            #expect(Set(grants.map(\.generation)) == [2])
        }
    }

    @Test("a refused refresh token marks the set as needing authorisation, and it is not used again")
    func refusedRefresh() async throws {
        try await TestDatabase.withFresh { client, _ in
            try await self.store(client).store(
                name: "set-1", gateway: .ird,
                tokens: TokenSet(accessToken: Secret("old"), expiresAt: Date().addingTimeInterval(-60), refreshToken: Secret("reused")),
                tenants: ["acme"])
            await #expect(throws: TokenError.self) {
                try await self.store(client).accessToken(forTenant: "acme", gateway: .ird, refresher: CountingRefresher(refuse: true))
            }
            #expect(try await client.scalar("SELECT needs_authorisation_since IS NOT NULL FROM tuku.oauth_tokens", as: Bool.self))
            let refresher = CountingRefresher()
            do {
                _ = try await self.store(client).accessToken(forTenant: "acme", gateway: .ird, refresher: refresher)
                Issue.record("a set needing authorisation was used")
            } catch let error as TokenError {
                // The job's error says why, not just that there is no token.
                #expect(error.code == .needsAuthorisation)
                #expect(error.message.contains("invalid_grant"))
            }
            #expect(refresher.calls.withLock { $0 } == 0)
        }
    }
}

@Suite("Token cipher")
struct TokenCipherTests {
    @Test("sealed tokens open only with the same key and context, and tampering is detected")
    func sealOpen() throws {
        let cipher = try TokenCipher(base64: TokenCipher.generateKey())
        let sealed = try cipher.seal(Secret("t0ken"), context: "a/access_token")
        #expect(try cipher.open(sealed, context: "a/access_token").value == "t0ken")
        #expect(throws: TokenError.self) { try cipher.open(sealed, context: "b/access_token") }
        var tampered = sealed
        tampered[tampered.startIndex + 14] ^= 0x01
        #expect(throws: TokenError.self) { try cipher.open(tampered, context: "a/access_token") }
        #expect(throws: TokenError.self) { try TokenCipher(base64: "c2hvcnQ=") }
        #expect(cipher.keyID.count == 12)
    }
}
