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
    /// Throws ``TokenError`` with
    /// - ``TokenError/Code/needsAuthorisation`` when the gateway refuses the refresh token (`invalid_grant`);
    /// - ``TokenError/Code/clientRejected`` when it refuses this client or request (a configuration error of the
    ///   caller: the refresh token was not taken);
    /// - ``TokenError/Code/refreshFailed`` when the call did not reach the endpoint or was refused in a way that
    ///   may pass (the refresh token was not taken);
    /// - ``TokenError/Code/refreshOutcomeUnknown`` when the call may have reached the endpoint but no usable answer
    ///   came back (the refresh token may be spent). Any other error counts as this.
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
/// IRD refresh tokens are single-use and rotate: presenting one twice revokes the whole family. So a refresh
/// happens at most once across the fleet, and never holds a transaction across the network call:
///
/// 1. the refreshing worker claims the set with a short committed marker (its name and a deadline);
/// 2. it calls the token endpoint outside any transaction;
/// 3. it stores the new set in its own short transaction, retried with backoff until the claim's deadline.
///
/// Workers that find the set claimed wait (bounded) for the new generation. When the outcome is uncertain (the
/// call may have reached the endpoint but no answer was stored, or a claim's deadline passed without a result),
/// the refresh token may be spent: the set is marked as needing a person to authorise again, with the reason in
/// `last_error`, and the token is never presented again.
///
/// Sealed tokens are bound to their row's id, name and tenants and to their column (seal version 2), so a value
/// moved to another row does not open. Rows sealed before migration 0014 (version 1: name and column) still
/// open, and move to version 2 and the current key on their next refresh or with ``reseal()``.
public struct TokenStore: Sendable {
    let client: PostgresClient
    let cipher: TokenCipher
    let logger: Logger
    private let cache = GrantCache()
    /// Access tokens expiring sooner than this are refreshed first. Defaults to 5 minutes.
    public var refreshMargin: Duration = .seconds(300)
    /// How long a worker reuses an access token it read, before reading the store again (so a set replaced with
    /// `tuku tokens load` is picked up). A token the gateway refuses is dropped at once. Defaults to 30 seconds.
    public var cacheLifetime: Duration = .seconds(30)
    /// The deadline of each read of the store (``DatabaseDeadline``). Defaults to 10 seconds.
    public var callTimeout: Duration = DatabaseDeadline.defaultTimeout
    /// How long a refresh claim holds: the call to the token endpoint plus storing its answer. When it passes
    /// without a stored result, other workers mark the set as needing authorisation. Defaults to 2 minutes.
    public var claimLifetime: Duration = .seconds(120)
    /// The longest the call to the token endpoint may take before its outcome counts as unknown. Keep it well
    /// inside ``claimLifetime``, which must also cover storing the answer. Defaults to 45 seconds.
    public var refreshCallTimeout: Duration = .seconds(45)
    /// How often a worker waiting for another's refresh looks again. Defaults to 250 milliseconds.
    public var claimPollInterval: Duration = .milliseconds(250)
    /// An early refresh (the access token is inside ``refreshMargin`` but not expired) that the token endpoint did
    /// not take (``TokenError/Code/refreshFailed``: down, 5xx, unreachable) leaves the current access token in use
    /// while it has at least this long to live; the refresh is tried again after ``refreshRetryInterval``. Only a
    /// token with less time left than this makes the caller wait for the endpoint. Defaults to 60 seconds.
    public var fallbackMinimum: Duration = .seconds(60)
    /// After an early refresh failed, how long this process keeps using the current access token before trying the
    /// refresh again. Defaults to 15 seconds.
    public var refreshRetryInterval: Duration = .seconds(15)
    /// Who this process is, in refresh claims (`refresh_claimed_by`): host and process id by default. Each claim
    /// adds a random suffix, so two tasks of one process never take each other's claim for their own.
    public var owner: String = TokenStore.defaultOwner

    public init(client: PostgresClient, cipher: TokenCipher, logger: Logger) {
        self.client = client
        self.cipher = cipher
        self.logger = logger
    }

    static let defaultOwner = "\(ProcessInfo.processInfo.hostName) pid \(ProcessInfo.processInfo.processIdentifier)"

    /// Access grants this process read recently, by gateway and tenant. `retryRefreshAt` is set when the grant is in use
    /// after an early refresh failed: until then it is served without trying the endpoint again.
    private final class GrantCache: Sendable {
        struct Key: Hashable, Sendable {
            var gateway: TaxGateway
            var tenant: String
        }
        let grants = Mutex<[Key: (grant: AccessGrant, readAt: ContinuousClock.Instant, retryRefreshAt: ContinuousClock.Instant?)]>([:])
    }

    /// Stores (or replaces) the token set `name` for `gateway` and the tenants it may act for, sealed for its row.
    /// A set keeps the gateway it was first stored for: storing it for another one is refused.
    public func store(name: String, gateway: TaxGateway, tokens: TokenSet, tenants: [String]) async throws {
        let tenants = Array(Set(tenants)).sorted()
        // The seal binds the row's id, so the id is chosen first; the function refuses (40001) when the name has
        // moved to another id since, and then the set is sealed again for the new id.
        for attempt in 1... {
            var id: Int64?
            for try await value in try await self.client.query("SELECT tuku.token_set_id(\(name))", logger: self.logger).decode(Int64.self) {
                id = value
            }
            guard let id else { throw TokenError(.sealFailed, "the database chose no id for token set \(name)") }
            let binding = SealBinding(id: id, name: name, tenants: tenants, gateway: gateway, version: SealBinding.currentVersion)
            let sealed = try self.seal(tokens, for: binding)
            do {
                // One call: the function stores the set and its tenants together, and lets operators write tokens
                // they may not read.
                try await self.client.execute(
                    """
                    SELECT tuku.store_token_set(\(id), \(name), \(gateway.rawValue), \(sealed.accessToken), \(tokens.expiresAt), \(sealed.refreshToken),
                                                \(sealed.keyID), \(sealed.version), \(tenants)::text[])
                    """, logger: self.logger)
                return
            } catch let error as PSQLError where attempt < 3 && ["40001", "23505"].contains(error.serverInfo?[.sqlState]) {
                continue
            } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23514" {
                // store_token_set refuses to move a set to another gateway (its message names both).
                throw TokenError(.gatewayMismatch, error.serverInfo?[.message] ?? "token set \(name) belongs to another gateway")
            }
        }
    }

    /// A valid access token for `tenant` at `gateway`, refreshing it first (once, fleet-wide, with `refresher`: the
    /// gateway's token endpoint) when it is about to expire.
    ///
    /// - Parameter replacingGeneration: the generation the gateway just refused (IRD status 1): the set is
    ///   refreshed even if it has not expired, unless another worker has refreshed it since.
    /// - Throws: ``TokenError``: ``TokenError/Code/noToken`` when no set is loaded for the tenant and gateway,
    ///   ``TokenError/Code/needsAuthorisation`` (with the reason) when its set needs a person to authorise again,
    ///   and the refresher's errors.
    public func accessToken(
        forTenant tenant: String, gateway: TaxGateway, refresher: some TokenRefresher, replacingGeneration: Int64? = nil
    ) async throws -> AccessGrant {
        let now = ContinuousClock.now
        let key = GrantCache.Key(gateway: gateway, tenant: tenant)
        if replacingGeneration == nil, let cached = self.cache.grants.withLock({ $0[key] }), now - cached.readAt < self.cacheLifetime {
            let left = cached.grant.expiresAt.timeIntervalSinceNow
            if left > self.refreshMargin.inSeconds {
                return cached.grant
            }
            if let retryAt = cached.retryRefreshAt, now < retryAt, left > self.fallbackMinimum.inSeconds {
                return cached.grant
            }
        }
        let (grant, fallback) = try await self.readOrRefresh(
            forTenant: tenant, gateway: gateway, refresher: refresher, replacingGeneration: replacingGeneration)
        self.cache.grants.withLock { $0[key] = (grant, now, fallback ? now + self.refreshRetryInterval : nil) }
        return grant
    }

    /// The grant, and whether it is the current one kept after an early refresh failed.
    private func readOrRefresh(
        forTenant tenant: String, gateway: TaxGateway, refresher: some TokenRefresher, replacingGeneration: Int64?
    ) async throws -> (AccessGrant, fallback: Bool) {
        let read = try await DatabaseDeadline.run("token read", timeout: self.callTimeout) {
            try await self.readSet(forTenant: tenant, gateway: gateway)
        }
        guard let current = read else {
            throw TokenError(
                .noToken, "no OAuth token set is loaded for tenant \(tenant) and gateway \(gateway) (tuku tokens load --gateway \(gateway))")
        }
        if current.needsAuthorisation {
            throw Self.needsAuthorisation(current)
        }
        if current.isFresh(margin: self.refreshMargin), replacingGeneration != current.generation {
            return (try self.grant(current), false)
        }
        do {
            return (try await self.refresh(current, refresher: refresher), false)
        } catch let error as TokenError where error.code == .refreshFailed {
            // The endpoint did not take the refresh token (it is not spent) and the access token the gateway has
            // not refused still has time to live: an early refresh failing is no reason to stop filing. A token
            // the gateway refused (`replacingGeneration`) or about to expire makes the caller wait instead.
            guard replacingGeneration == nil, current.isFresh(margin: self.fallbackMinimum) else { throw error }
            self.logger.warning(
                "An early OAuth token refresh failed; the current access token is used until it is tried again",
                metadata: [
                    "token.name": "\(current.name)", "token.generation": "\(current.generation)",
                    "token.expires_in_s": "\(Int(current.expiresAt.timeIntervalSinceNow))",
                ])
            return (try self.grant(current), true)
        }
    }

    static func needsAuthorisation(_ set: StoredSet) -> TokenError {
        TokenError(
            .needsAuthorisation,
            "token set \(set.name) needs a person to authorise again (tuku tokens load): \(set.lastError ?? "no reason recorded")")
    }

    func grant(_ set: StoredSet) throws -> AccessGrant {
        AccessGrant(
            name: set.name, generation: set.generation,
            accessToken: try self.cipher.open(set.accessToken, context: set.binding.context(.accessToken), keyID: set.keyID),
            expiresAt: set.expiresAt)
    }
}
