import Foundation
import Logging
import PostgresNIO
import Synchronization
import TukuCore

/// A fresh OAuth token set, as the token endpoint returns it.
public struct TokenSet: Sendable {
    public var accessToken: Secret
    public var expiresAt: Date
    /// `nil` for desktop clients, which get no refresh token.
    public var refreshToken: Secret?

    public init(accessToken: Secret, expiresAt: Date, refreshToken: Secret?) {
        self.accessToken = accessToken
        self.expiresAt = expiresAt
        self.refreshToken = refreshToken
    }
}

/// Exchanges a refresh token for a new token set (the OAuth token endpoint).
public protocol TokenRefresher: Sendable {
    /// Throws ``TokenError`` with ``TokenError/Code/needsAuthorisation`` when the gateway refuses the refresh
    /// token (`invalid_grant`), and ``TokenError/Code/refreshFailed`` when the call may succeed later.
    func refresh(_ refreshToken: Secret) async throws -> TokenSet
}

/// A usable access token for a tenant.
public struct AccessGrant: Sendable {
    /// The token set's name.
    public var name: String
    /// Which refresh produced it: pass it back to ``TokenStore/accessToken(forTenant:refresher:replacingGeneration:)``
    /// when the gateway refused it.
    public var generation: Int64
    public var accessToken: Secret
    public var expiresAt: Date
}

/// OAuth token sets in `tuku.oauth_tokens`, sealed with a ``TokenCipher``.
///
/// IRD refresh tokens are single-use and rotate: reusing one revokes the whole family. So a refresh happens at
/// most once across the fleet: the refreshing worker holds the token row's lock (`SELECT … FOR UPDATE`) while
/// it calls the token endpoint and commits the new refresh token before anyone uses the new access token;
/// workers that queued on the lock find the new generation and reuse it.
public struct TokenStore: Sendable {
    private let client: PostgresClient
    private let cipher: TokenCipher
    private let logger: Logger
    private let cache = GrantCache()
    /// Access tokens expiring sooner than this are refreshed first. Defaults to 5 minutes.
    public var refreshMargin: Duration = .seconds(300)
    /// How long a worker reuses an access token it read, before reading the store again (so a set replaced with
    /// `tuku tokens load` is picked up). A token the gateway refuses is dropped at once. Defaults to 30 seconds.
    public var cacheLifetime: Duration = .seconds(30)
    /// The deadline of each read and write of the store (``DatabaseDeadline``). Defaults to 10 seconds.
    public var callTimeout: Duration = DatabaseDeadline.defaultTimeout
    /// The deadline of a refresh: the row lock, the token endpoint's answer and the commit together. Defaults to
    /// 45 seconds (the token client's own 30-second call deadline, plus the database's share).
    public var refreshTimeout: Duration = .seconds(45)

    public init(client: PostgresClient, cipher: TokenCipher, logger: Logger) {
        self.client = client
        self.cipher = cipher
        self.logger = logger
    }

    /// Access grants this process read recently, by tenant.
    private final class GrantCache: Sendable {
        let grants = Mutex<[String: (grant: AccessGrant, readAt: ContinuousClock.Instant)]>([:])
    }

    /// Stores (or replaces) the token set `name` and the tenants it may act for.
    public func store(name: String, tokens: TokenSet, tenants: [String]) async throws {
        let access = try self.cipher.seal(tokens.accessToken, context: Self.context(name, "access_token"))
        let refresh = try tokens.refreshToken.map { try self.cipher.seal($0, context: Self.context(name, "refresh_token")) }
        let keyID = self.cipher.keyID
        // One call: the function stores the set and its tenants together, and lets operators write tokens they
        // may not read (migration 0006).
        try await DatabaseDeadline.run("token store", timeout: self.callTimeout) { [client, logger] in
            try await client.execute(
                """
                SELECT tuku.store_token_set(\(name), \(access), \(tokens.expiresAt), \(refresh), \(keyID), \(tenants)::text[])
                """, logger: logger)
        }
    }

    /// A valid access token for `tenant`, refreshing it first (once, fleet-wide) when it is about to expire.
    ///
    /// - Parameter replacingGeneration: the generation the gateway just refused (IRD status 1): the set is
    ///   refreshed even if it has not expired, unless another worker has refreshed it since.
    public func accessToken(
        forTenant tenant: String, refresher: some TokenRefresher, replacingGeneration: Int64? = nil
    ) async throws -> AccessGrant {
        let now = ContinuousClock.now
        if replacingGeneration == nil,
           let cached = self.cache.grants.withLock({ $0[tenant] }),
           now - cached.readAt < self.cacheLifetime,
           cached.grant.expiresAt.timeIntervalSinceNow > self.refreshMargin.inSeconds {
            return cached.grant
        }
        let grant = try await self.readOrRefresh(forTenant: tenant, refresher: refresher, replacingGeneration: replacingGeneration)
        self.cache.grants.withLock { $0[tenant] = (grant, now) }
        return grant
    }

    private func readOrRefresh(
        forTenant tenant: String, refresher: some TokenRefresher, replacingGeneration: Int64?
    ) async throws -> AccessGrant {
        let read = try await DatabaseDeadline.run("token read", timeout: self.callTimeout) {
            try await self.current(forTenant: tenant)
        }
        guard let current = read else {
            throw TokenError(.noToken, "no usable OAuth token set is loaded for tenant \(tenant) (tuku tokens load)")
        }
        if current.isFresh(margin: self.refreshMargin), replacingGeneration != current.generation {
            return try self.grant(current)
        }
        // A session that dies mid-refresh (a restart, a failover) must not hold the job forever: the refresh as a
        // whole has a deadline. Given up on, its transaction rolls back when PostgreSQL ends the session.
        return try await DatabaseDeadline.run("token refresh", timeout: self.refreshTimeout) {
            try await self.refresh(current, refresher: refresher, replacingGeneration: replacingGeneration)
        }
    }

    private struct Row: Sendable {
        var id: Int64
        var name: String
        var generation: Int64
        var accessToken: Data
        var expiresAt: Date
        var refreshToken: Data?

        func isFresh(margin: Duration) -> Bool {
            self.expiresAt.timeIntervalSinceNow > Double(margin.components.seconds)
        }
    }

    private func current(forTenant tenant: String) async throws -> Row? {
        let rows = try await self.client.query(
            """
            SELECT t.id, t.name, t.generation, t.access_token, t.access_expires_at, t.refresh_token
            FROM tuku.oauth_tokens t JOIN tuku.oauth_token_tenants tt ON tt.token_id = t.id
            WHERE tt.tenant = \(tenant) AND t.needs_authorisation_since IS NULL
            ORDER BY t.access_expires_at DESC
            LIMIT 1
            """, logger: self.logger)
        for try await (id, name, generation, access, expiresAt, refresh) in rows.decode(
            (Int64, String, Int64, Data, Date, Data?).self
        ) {
            return Row(id: id, name: name, generation: generation, accessToken: access, expiresAt: expiresAt, refreshToken: refresh)
        }
        return nil
    }

    private enum RefreshResult: Sendable {
        case grant(AccessGrant)
        case failed(TokenError)
    }

    private func refresh(_ seen: Row, refresher: some TokenRefresher, replacingGeneration: Int64?) async throws -> AccessGrant {
        let result: RefreshResult = try await self.client.withTransaction(logger: self.logger) { connection in
            // Whoever holds this lock is the only refresher of the set; the rest wait here.
            let rows = try await connection.query(
                """
                SELECT id, name, generation, access_token, access_expires_at, refresh_token
                FROM tuku.oauth_tokens WHERE id = \(seen.id) AND needs_authorisation_since IS NULL
                FOR UPDATE
                """, logger: self.logger)
            var locked: Row?
            for try await (id, name, generation, access, expiresAt, refresh) in rows.decode(
                (Int64, String, Int64, Data, Date, Data?).self
            ) {
                locked = Row(id: id, name: name, generation: generation, accessToken: access, expiresAt: expiresAt, refreshToken: refresh)
            }
            guard let locked else {
                return .failed(
                    TokenError(.needsAuthorisation, "token set \(seen.name) needs a person to authorise again (tuku tokens load)"))
            }
            if locked.generation != seen.generation
                || (locked.isFresh(margin: self.refreshMargin) && replacingGeneration != locked.generation)
            {
                // Another worker refreshed while we waited: use its result.
                return .grant(try self.grant(locked))
            }
            guard let sealedRefresh = locked.refreshToken else {
                try await self.markNeedsAuthorisation(locked, reason: "no refresh token (desktop client)", on: connection)
                return .failed(
                    TokenError(.needsAuthorisation, "token set \(locked.name) has no refresh token: a person must authorise again"))
            }
            let refreshToken = try self.cipher.open(sealedRefresh, context: Self.context(locked.name, "refresh_token"))
            let fresh: TokenSet
            do {
                fresh = try await refresher.refresh(refreshToken)
            } catch let error as TokenError where error.code == .needsAuthorisation {
                try await self.markNeedsAuthorisation(locked, reason: error.message, on: connection)
                return .failed(error)
            }
            let access = try self.cipher.seal(fresh.accessToken, context: Self.context(locked.name, "access_token"))
            let refresh = try fresh.refreshToken.map { try self.cipher.seal($0, context: Self.context(locked.name, "refresh_token")) }
            try await connection.execute(
                """
                UPDATE tuku.oauth_tokens
                SET access_token = \(access), access_expires_at = \(fresh.expiresAt), refresh_token = \(refresh),
                    key_id = \(self.cipher.keyID), generation = generation + 1, refreshed_at = now(),
                    last_error = NULL, updated_at = now()
                WHERE id = \(locked.id)
                """, logger: self.logger)
            self.logger.info(
                "Refreshed an OAuth token set",
                metadata: [
                    "token.name": "\(locked.name)", "token.generation": "\(locked.generation + 1)",
                ])
            return .grant(
                AccessGrant(
                    name: locked.name, generation: locked.generation + 1, accessToken: fresh.accessToken, expiresAt: fresh.expiresAt))
        }
        // Committed: the new refresh token is durable before the new access token is used.
        switch result {
        case .grant(let grant): return grant
        case .failed(let error): throw error
        }
    }

    private func markNeedsAuthorisation(_ row: Row, reason: String, on connection: PostgresConnection) async throws {
        try await connection.execute(
            """
            UPDATE tuku.oauth_tokens SET needs_authorisation_since = now(), last_error = \(reason), updated_at = now()
            WHERE id = \(row.id)
            """, logger: self.logger)
        self.logger.error("An OAuth token set needs authorising again", metadata: ["token.name": "\(row.name)"])
    }

    private func grant(_ row: Row) throws -> AccessGrant {
        AccessGrant(
            name: row.name, generation: row.generation,
            accessToken: try self.cipher.open(row.accessToken, context: Self.context(row.name, "access_token")),
            expiresAt: row.expiresAt)
    }

    static func context(_ name: String, _ column: String) -> String {
        "tuku.oauth_tokens/\(name)/\(column)"
    }
}
