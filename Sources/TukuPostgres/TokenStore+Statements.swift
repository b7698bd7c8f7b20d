import Foundation
import Logging
import PostgresNIO
import TukuCore

/// The token store's database statements. Each is one statement in its own short transaction (autocommit): no
/// transaction is ever open across a call to the token endpoint.
extension TokenStore {
    /// A token set as stored, with its claim as the database's clock sees it.
    struct StoredSet: Sendable {
        var id: Int64
        var name: String
        var tenants: [String]
        var gateway: TaxGateway
        var generation: Int64
        var accessToken: Data
        var expiresAt: Date
        var refreshToken: Data?
        var keyID: String
        var sealVersion: Int16
        var needsAuthorisation: Bool
        var lastError: String?
        /// Who is refreshing the set, if anyone (also kept, as evidence, after a claim was abandoned).
        var claimedBy: String?
        /// Whether the claim's deadline has passed, by the database's clock.
        var claimExpired: Bool

        var binding: SealBinding {
            SealBinding(id: self.id, name: self.name, tenants: self.tenants, gateway: self.gateway, version: Int(self.sealVersion))
        }

        func isFresh(margin: Duration) -> Bool {
            self.expiresAt.timeIntervalSinceNow > margin.inSeconds
        }
    }

    /// A refresh claim this process holds.
    struct Claim: Sendable {
        /// What `refresh_claimed_by` says: this process and a random suffix.
        var owner: String
        /// When this process stops trying to store the answer (the claim's deadline, by the local clock).
        var deadline: ContinuousClock.Instant
    }

    private static let columns = """
        t.id, t.name, array(SELECT b.tenant FROM tuku.oauth_token_tenants b WHERE b.token_id = t.id ORDER BY b.tenant),
        t.generation, t.access_token, t.access_expires_at, t.refresh_token, t.key_id, t.seal_version,
        t.needs_authorisation_since IS NOT NULL, t.last_error, t.refresh_claimed_by, coalesce(t.refresh_claim_expires_at < now(), false),
        t.gateway
        """

    /// Runs one statement of the store, within ``TokenStore/callTimeout`` (``DatabaseDeadline``): a statement sent on
    /// a connection that dies may otherwise never answer.
    private func sets(_ query: PostgresQuery) async throws -> [StoredSet] {
        let (client, logger) = (self.client, self.logger)
        return try await DatabaseDeadline.run("token store", timeout: self.callTimeout) {
            try await Self.sets(query, client: client, logger: logger)
        }
    }

    private static func sets(_ query: PostgresQuery, client: PostgresClient, logger: Logger) async throws -> [StoredSet] {
        let rows = try await client.query(query, logger: logger)
        var sets: [StoredSet] = []
        for try await (
            id, name, tenants, generation, access, expiresAt, refresh, keyID, version, needs, lastError, claimedBy, expired, gatewayName
        ) in rows.decode((Int64, String, [String], Int64, Data, Date, Data?, String, Int16, Bool, String?, String?, Bool, String).self)
        {
            guard let gateway = TaxGateway(rawValue: gatewayName) else {
                throw TokenError(.openFailed, "token set \(name) names an unknown gateway '\(gatewayName)'")
            }
            sets.append(
                StoredSet(
                    id: id, name: name, tenants: tenants, gateway: gateway, generation: generation, accessToken: access,
                    expiresAt: expiresAt,
                    refreshToken: refresh, keyID: keyID, sealVersion: version, needsAuthorisation: needs, lastError: lastError,
                    claimedBy: claimedBy, claimExpired: expired))
        }
        return sets
    }

    /// The set for `tenant` and `gateway`: a usable one if there is one (the latest expiring), else one needing
    /// authorisation.
    func readSet(forTenant tenant: String, gateway: TaxGateway) async throws -> StoredSet? {
        try await self.sets(
            """
            SELECT \(unescaped: Self.columns)
            FROM tuku.oauth_tokens t JOIN tuku.oauth_token_tenants tt ON tt.token_id = t.id
            WHERE tt.tenant = \(tenant) AND t.gateway = \(gateway.rawValue)
            ORDER BY t.needs_authorisation_since IS NULL DESC, t.access_expires_at DESC
            LIMIT 1
            """
        ).first
    }

    func readSet(id: Int64) async throws -> StoredSet? {
        try await self.sets("SELECT \(unescaped: Self.columns) FROM tuku.oauth_tokens t WHERE t.id = \(id)").first
    }

    /// Every set's id, for ``reseal()``.
    func allSetIDs() async throws -> [Int64] {
        let rows = try await self.client.query("SELECT id FROM tuku.oauth_tokens ORDER BY id", logger: self.logger)
        var ids: [Int64] = []
        for try await id in rows.decode(Int64.self) { ids.append(id) }
        return ids
    }

    /// Claims the refresh of generation `set.generation`, unless someone holds a claim, the set changed or needs
    /// authorisation. Returns the set as claimed (its sealed tokens as they are now), or `nil`.
    func claimRefresh(_ set: StoredSet) async throws -> (StoredSet, Claim)? {
        let owner = "\(self.owner) claim \(UInt32.random(in: 0...UInt32.max))"
        let started = ContinuousClock.now
        let claimed = try await self.sets(
            """
            UPDATE tuku.oauth_tokens t
            SET refresh_claimed_by = \(owner), refresh_claimed_at = now(),
                refresh_claim_expires_at = now() + make_interval(secs => \(self.claimLifetime.inSeconds)), updated_at = now()
            WHERE t.id = \(set.id) AND t.generation = \(set.generation) AND t.needs_authorisation_since IS NULL
              AND t.refresh_claimed_by IS NULL
            RETURNING \(unescaped: Self.columns)
            """
        ).first
        return claimed.map { ($0, Claim(owner: owner, deadline: started + self.claimLifetime)) }
    }

    /// Stores a refresh's answer under the claim, making it the next generation. Returns `false` when the claim is
    /// no longer this process's (a person loaded the set again meanwhile).
    func storeRefreshed(_ sealed: SealedTokens, expiresAt: Date, for set: StoredSet, claim: Claim) async throws -> Bool {
        // A claim another worker found abandoned is still ours (the marker is left as evidence): storing the answer
        // late heals the set instead of leaving a good token family unused.
        !(try await self.sets(
            """
            UPDATE tuku.oauth_tokens t
            SET access_token = \(sealed.accessToken), access_expires_at = \(expiresAt), refresh_token = \(sealed.refreshToken),
                key_id = \(sealed.keyID), seal_version = \(sealed.version), generation = t.generation + 1, refreshed_at = now(),
                needs_authorisation_since = NULL, last_error = NULL, updated_at = now(),
                refresh_claimed_by = NULL, refresh_claimed_at = NULL, refresh_claim_expires_at = NULL
            WHERE t.id = \(set.id) AND t.generation = \(set.generation) AND t.refresh_claimed_by = \(claim.owner)
            RETURNING \(unescaped: Self.columns)
            """
        ).isEmpty)
    }

    /// Gives up the claim without a new generation: the token endpoint did not take the refresh token.
    func releaseClaim(_ set: StoredSet, claim: Claim, reason: String) async throws {
        _ = try await self.sets(
            """
            UPDATE tuku.oauth_tokens t
            SET refresh_claimed_by = NULL, refresh_claimed_at = NULL, refresh_claim_expires_at = NULL,
                last_error = \(reason), updated_at = now()
            WHERE t.id = \(set.id) AND t.generation = \(set.generation) AND t.refresh_claimed_by = \(claim.owner)
            RETURNING \(unescaped: Self.columns)
            """)
    }

    /// Marks the set as needing a person, ending this process's claim on it.
    func markNeedsAuthorisation(_ set: StoredSet, claim: Claim, reason: String) async throws {
        _ = try await self.sets(
            """
            UPDATE tuku.oauth_tokens t
            SET needs_authorisation_since = now(), last_error = \(reason), updated_at = now(),
                refresh_claimed_by = NULL, refresh_claimed_at = NULL, refresh_claim_expires_at = NULL
            WHERE t.id = \(set.id) AND t.generation = \(set.generation) AND t.refresh_claimed_by = \(claim.owner)
            RETURNING \(unescaped: Self.columns)
            """)
    }

    /// Marks the set as needing a person because `set.claimedBy`'s claim passed its deadline without a stored
    /// result. The marker stays, as evidence of who held it. Returns `false` when the claim ended meanwhile.
    func markAbandoned(_ set: StoredSet, reason: String) async throws -> Bool {
        guard let claimedBy = set.claimedBy else { return false }
        return !(try await self.sets(
            """
            UPDATE tuku.oauth_tokens t
            SET needs_authorisation_since = now(), last_error = \(reason), updated_at = now()
            WHERE t.id = \(set.id) AND t.generation = \(set.generation) AND t.refresh_claimed_by = \(claimedBy)
              AND t.refresh_claim_expires_at < now() AND t.needs_authorisation_since IS NULL
            RETURNING \(unescaped: Self.columns)
            """
        ).isEmpty)
    }

    /// Replaces a set's sealed tokens with the same tokens sealed the current way, unless the set was refreshed,
    /// reloaded, resealed or claimed since it was read.
    func replaceSeal(_ sealed: SealedTokens, of set: StoredSet) async throws -> Bool {
        !(try await self.sets(
            """
            UPDATE tuku.oauth_tokens t
            SET access_token = \(sealed.accessToken), refresh_token = \(sealed.refreshToken), key_id = \(sealed.keyID),
                seal_version = \(sealed.version), updated_at = now()
            WHERE t.id = \(set.id) AND t.generation = \(set.generation) AND t.key_id = \(set.keyID)
              AND t.seal_version = \(set.sealVersion)
              AND (t.refresh_claimed_by IS NULL OR t.needs_authorisation_since IS NOT NULL)
            RETURNING \(unescaped: Self.columns)
            """
        ).isEmpty)
    }
}
