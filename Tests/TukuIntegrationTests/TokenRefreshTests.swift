import Foundation
import Logging
import PostgresNIO
import Synchronization
import Testing
import TukuCore
import TukuPostgres
import TukuTestSupport

/// Stands in for the OAuth token endpoint: records every refresh token presented to it and answers as the test
/// says (by default a rotated set, after `delay`).
final class RecordingRefresher: TokenRefresher {
    let presented = Mutex<[String]>([])
    let delay: Duration
    let answer: @Sendable (Int) async throws -> Void

    init(delay: Duration = .zero, answer: @escaping @Sendable (Int) async throws -> Void = { _ in }) {
        self.delay = delay
        self.answer = answer
    }

    var calls: [String] { self.presented.withLock { $0 } }

    func refresh(_ refreshToken: Secret) async throws -> TokenSet {
        let call = self.presented.withLock { presented in
            presented.append(refreshToken.value)
            return presented.count
        }
        if self.delay > .zero { try await Task.sleep(for: self.delay) }
        try await self.answer(call)
        return TokenSet(
            accessToken: Secret("access-\(call)"), expiresAt: Date().addingTimeInterval(8 * 3600), refreshToken: Secret("refresh-\(call)"))
    }
}

/// Defect 1 of issue #11: a refresh never holds a transaction across the call to the token endpoint, and an
/// uncertain outcome asks a person instead of presenting a spent refresh token again.
@Suite("Token refresh: claimed, called outside any transaction, stored or handed to a person")
struct TokenRefreshTests {
    let cipher = try! TokenCipher(base64: TokenCipher.generateKey())

    func store(_ client: PostgresClient, claimLifetime: Duration = .seconds(30)) -> TokenStore {
        var store = TokenStore(client: client, cipher: self.cipher, logger: .test())
        store.claimLifetime = claimLifetime
        store.claimPollInterval = .milliseconds(50)
        return store
    }

    /// An expired set for tenant `acme`, whose refresh token is `refresh-0`.
    func loadExpired(_ client: PostgresClient) async throws {
        try await self.store(client).store(
            name: "payroll-admin", gateway: .ird,
            tokens: TokenSet(accessToken: Secret("access-0"), expiresAt: Date().addingTimeInterval(-60), refreshToken: Secret("refresh-0")),
            tenants: ["acme"])
    }

    @Test("a slow token endpoint under idle_in_transaction_session_timeout = 2s: the rotation is stored, not lost")
    func slowEndpointWithIdleTimeout() async throws {
        try await TestDatabase.withFresh { admin, database in
            try await self.loadExpired(admin)
            let name = try await admin.scalar("SELECT current_database()", as: String.self)
            try await admin.execute(PostgresQuery(unsafeSQL: "ALTER DATABASE \(name) SET idle_in_transaction_session_timeout = '2s'"))
            try await TestLogin.with("tuku_worker", on: database, admin: admin) { worker, _ in
                #expect(try await worker.scalar("SELECT current_setting('idle_in_transaction_session_timeout')", as: String.self) == "2s")
                let refresher = RecordingRefresher(delay: .seconds(3))
                let grant = try await self.store(worker).accessToken(forTenant: "acme", gateway: .ird, refresher: refresher)
                #expect(grant.accessToken.value == "access-1")
                #expect(grant.generation == 2)
                #expect(try await admin.scalar("SELECT generation FROM tuku.oauth_tokens", as: Int64.self) == 2)
                #expect(try await admin.scalar("SELECT refresh_claimed_by IS NULL AND needs_authorisation_since IS NULL FROM tuku.oauth_tokens", as: Bool.self))
                // The next refresh presents the rotated token, never the spent one.
                _ = try await self.store(worker).accessToken(forTenant: "acme", gateway: .ird, refresher: refresher, replacingGeneration: 2)
                #expect(refresher.calls == ["refresh-0", "refresh-1"])
            }
        }
    }

    @Test("storing the new set is retried when the database connection dies after the endpoint answered")
    func storeRetried() async throws {
        try await TestDatabase.withFresh { admin, database in
            try await self.loadExpired(admin)
            try await TestLogin.with("tuku_worker", on: database, admin: admin) { worker, login in
                // While the endpoint answers, every connection of the worker dies (a network drop, a failover).
                let refresher = RecordingRefresher { _ in
                    try await admin.execute(
                        PostgresQuery(unsafeSQL: "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '\(login.name)'"))
                }
                let grant = try await self.store(worker).accessToken(forTenant: "acme", gateway: .ird, refresher: refresher)
                #expect(grant.generation == 2)
                #expect(try await admin.scalar("SELECT generation FROM tuku.oauth_tokens", as: Int64.self) == 2)
                _ = try await self.store(worker).accessToken(forTenant: "acme", gateway: .ird, refresher: refresher, replacingGeneration: 2)
                #expect(refresher.calls == ["refresh-0", "refresh-1"])
            }
        }
    }

    @Test("a worker that died holding a refresh claim: after its deadline the set needs a person, and nobody presents its refresh token")
    func abandonedClaim() async throws {
        try await TestDatabase.withFresh { admin, database in
            try await self.loadExpired(admin)
            // What a worker killed between claiming and storing leaves behind: the marker, and no result.
            try await admin.execute(
                """
                UPDATE tuku.oauth_tokens SET refresh_claimed_by = 'host-7 pid 4242 claim 99', refresh_claimed_at = now(),
                    refresh_claim_expires_at = now() + interval '1 second'
                """)
            try await TestLogin.with("tuku_worker", on: database, admin: admin) { worker, _ in
                let refresher = RecordingRefresher()
                let started = ContinuousClock.now
                let errors = try await withThrowingTaskGroup(of: TokenError?.self) { group in
                    for _ in 0..<4 {
                        group.addTask {
                            do {
                                _ = try await self.store(worker).accessToken(forTenant: "acme", gateway: .ird, refresher: refresher)
                                return nil
                            } catch let error as TokenError {
                                return error
                            }
                        }
                    }
                    return try await group.reduce(into: [TokenError?]()) { $0.append($1) }
                }
                // They waited for the claim (bounded by its deadline) rather than refreshing themselves.
                #expect(ContinuousClock.now - started >= .milliseconds(900))
                #expect(errors.allSatisfy { $0?.code == .needsAuthorisation })
                #expect(errors.allSatisfy { $0?.message.contains("host-7 pid 4242") == true })
                #expect(refresher.calls.isEmpty)
            }
            let reason = try await admin.scalar(
                "SELECT last_error FROM tuku.oauth_token_status WHERE needs_authorisation_since IS NOT NULL", as: String.self)
            #expect(reason.contains("stored no result before its deadline"))
            // The marker stays as evidence of who held it.
            #expect(try await admin.scalar("SELECT refresh_claimed_by FROM tuku.oauth_token_status", as: String.self) == "host-7 pid 4242 claim 99")
            // A person loads a new set: it is usable again, and the marker is gone.
            try await self.store(admin).store(
                name: "payroll-admin", gateway: .ird,
                tokens: TokenSet(accessToken: Secret("consented"), expiresAt: Date().addingTimeInterval(3600), refreshToken: Secret("fresh")),
                tenants: ["acme"])
            #expect(try await self.store(admin).accessToken(forTenant: "acme", gateway: .ird, refresher: RecordingRefresher()).accessToken.value == "consented")
            #expect(try await admin.scalar("SELECT refresh_claimed_by IS NULL FROM tuku.oauth_tokens", as: Bool.self))
        }
    }

    @Test("a refresh whose call passes its deadline marks the set for a person, and its token is not presented again")
    func callPastDeadline() async throws {
        try await TestDatabase.withFresh { admin, database in
            try await self.loadExpired(admin)
            try await TestLogin.with("tuku_worker", on: database, admin: admin) { worker, _ in
                var impatient = self.store(worker)
                impatient.refreshCallTimeout = .seconds(2)
                let hanging = RecordingRefresher(delay: .seconds(60))
                let refreshing = Task { try await impatient.accessToken(forTenant: "acme", gateway: .ird, refresher: hanging) }
                try await admin.waitUntil("SELECT refresh_claimed_by IS NOT NULL FROM tuku.oauth_tokens")
                while hanging.calls.isEmpty { try await Task.sleep(for: .milliseconds(20)) }
                // A second worker arrives while the first is mid-call: it waits instead of refreshing.
                let other = RecordingRefresher()
                let waiting = Task { try await self.store(worker).accessToken(forTenant: "acme", gateway: .ird, refresher: other) }
                let first = await refreshing.result
                #expect((try? first.get()) == nil)
                let second = await waiting.result
                #expect(throws: TokenError.self) { try second.get() }
                #expect(hanging.calls == ["refresh-0"])
                #expect(other.calls.isEmpty)
                #expect(try await admin.scalar("SELECT needs_authorisation_since IS NOT NULL FROM tuku.oauth_token_status", as: Bool.self))
                #expect(try await admin.scalar("SELECT last_error FROM tuku.oauth_token_status", as: String.self).contains("outcome is unknown"))
                // Any later worker is told why, and still presents nothing.
                do {
                    _ = try await self.store(worker).accessToken(forTenant: "acme", gateway: .ird, refresher: other)
                    Issue.record("a set whose refresh outcome is unknown was used")
                } catch let error as TokenError {
                    #expect(error.code == .needsAuthorisation)
                    #expect(error.message.contains("outcome is unknown"))
                }
                #expect(other.calls.isEmpty)
            }
        }
    }

    @Test("a job cancelled while its refresh is in flight (its deadline, a shutdown) does not cut the refresh short: the rotation is stored")
    func cancelledCallerKeepsRotation() async throws {
        try await TestDatabase.withFresh { admin, _ in
            try await self.loadExpired(admin)
            let slow = RecordingRefresher(delay: .seconds(1))
            let refreshing = Task { try await self.store(admin).accessToken(forTenant: "acme", gateway: .ird, refresher: slow) }
            while slow.calls.isEmpty { try await Task.sleep(for: .milliseconds(20)) }
            refreshing.cancel()
            _ = await refreshing.result
            try await admin.waitUntil("SELECT generation = 2 AND refresh_claimed_by IS NULL FROM tuku.oauth_tokens", timeout: .seconds(10))
            #expect(try await admin.scalar("SELECT needs_authorisation_since IS NULL FROM tuku.oauth_tokens", as: Bool.self))
            _ = try await self.store(admin).accessToken(forTenant: "acme", gateway: .ird, refresher: slow, replacingGeneration: 2)
            #expect(slow.calls == ["refresh-0", "refresh-1"])
        }
    }

    @Test("a refresh the endpoint did not take (refreshFailed) releases the claim: waiting workers do not stampede, and the next try presents the same token")
    func failedRefreshReleasesClaim() async throws {
        try await TestDatabase.withFresh { admin, _ in
            try await self.loadExpired(admin)
            let failing = RecordingRefresher(delay: .seconds(1)) { _ in
                throw TokenError(.refreshFailed, "the token endpoint answered HTTP 503")
            }
            let results = await withTaskGroup(of: TokenError.Code?.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        do {
                            _ = try await self.store(admin).accessToken(forTenant: "acme", gateway: .ird, refresher: failing)
                            return nil
                        } catch let error as TokenError {
                            return error.code
                        } catch {
                            return nil
                        }
                    }
                }
                return await group.reduce(into: [TokenError.Code?]()) { $0.append($1) }
            }
            #expect(results.allSatisfy { $0 == .refreshFailed })
            #expect(failing.calls == ["refresh-0"])
            #expect(try await admin.scalar("SELECT refresh_claimed_by IS NULL AND needs_authorisation_since IS NULL FROM tuku.oauth_tokens", as: Bool.self))
            let working = RecordingRefresher()
            #expect(try await self.store(admin).accessToken(forTenant: "acme", gateway: .ird, refresher: working).generation == 2)
            #expect(working.calls == ["refresh-0"])
        }
    }

    @Test("an early refresh the endpoint did not take keeps the current access token in use, and is tried again after the retry interval; a token about to expire is not kept")
    func earlyRefreshFailureKeepsCurrentToken() async throws {
        try await TestDatabase.withFresh { admin, _ in
            var store = self.store(admin)
            store.refreshRetryInterval = .seconds(2)
            // Inside the 5-minute refresh margin, but with 200 s to live.
            try await store.store(
                name: "payroll-admin", gateway: .ird,
                tokens: TokenSet(accessToken: Secret("access-0"), expiresAt: Date().addingTimeInterval(200), refreshToken: Secret("refresh-0")),
                tenants: ["acme"])
            let failing = RecordingRefresher { _ in throw TokenError(.refreshFailed, "the token endpoint answered HTTP 503") }
            let kept = try await store.accessToken(forTenant: "acme", gateway: .ird, refresher: failing)
            #expect(kept.accessToken.value == "access-0" && kept.generation == 1)
            #expect(failing.calls == ["refresh-0"])
            // Within the retry interval the endpoint is left alone.
            _ = try await store.accessToken(forTenant: "acme", gateway: .ird, refresher: failing)
            #expect(failing.calls == ["refresh-0"])
            try await Task.sleep(for: .seconds(2.5))
            _ = try await store.accessToken(forTenant: "acme", gateway: .ird, refresher: failing)
            #expect(failing.calls == ["refresh-0", "refresh-0"])
            #expect(try await admin.scalar("SELECT refresh_claimed_by IS NULL AND needs_authorisation_since IS NULL FROM tuku.oauth_tokens", as: Bool.self))
            // A token the gateway refused is not kept.
            await #expect(throws: TokenError.self) {
                _ = try await store.accessToken(forTenant: "acme", gateway: .ird, refresher: failing, replacingGeneration: 1)
            }
            // Nor one with less than fallbackMinimum to live.
            try await store.store(
                name: "payroll-admin", gateway: .ird,
                tokens: TokenSet(accessToken: Secret("access-9"), expiresAt: Date().addingTimeInterval(30), refreshToken: Secret("refresh-9")),
                tenants: ["acme"])
            let other = self.store(admin)
            await #expect(throws: TokenError.self) {
                _ = try await other.accessToken(forTenant: "acme", gateway: .ird, refresher: failing)
            }
            let working = RecordingRefresher()
            #expect(try await other.accessToken(forTenant: "acme", gateway: .ird, refresher: working).accessToken.value == "access-1")
        }
    }
}
