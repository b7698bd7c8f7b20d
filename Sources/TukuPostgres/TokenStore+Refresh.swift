import Foundation
import Logging
import PostgresNIO
import TukuCore

/// The fleet-once refresh: claim, call outside any transaction, store in a short retried transaction; when the
/// outcome is uncertain, ask a person instead of presenting a possibly spent refresh token again.
extension TokenStore {
    func refresh(_ seen: StoredSet, refresher: some TokenRefresher) async throws -> AccessGrant {
        let clock = ContinuousClock()
        // Waiting is bounded by the claim's own deadline (then the set is marked) plus this margin for clocks.
        let waitDeadline = clock.now + self.claimLifetime + .seconds(10)
        if let (claimed, claim) = try await self.claimRefresh(seen) {
            // Once claimed, the refresh runs to its end even if the caller is cancelled (a job's deadline, a
            // shutdown): cutting the call short would leave its outcome unknown and cost the family. It is bounded
            // by refreshCallTimeout and the claim's deadline instead. An unstructured task is the way to outlive
            // the caller's cancellation; it is awaited at once.
            return try await Task { try await self.refreshClaimed(claimed, claim: claim, refresher: refresher) }.value
        }
        // Someone else holds the claim (or just finished): wait for its result, never claim after it.
        var waitedForClaim: String?
        while true {
            guard let now = try await self.readSet(id: seen.id) else {
                throw TokenError(.noToken, "token set \(seen.name) was deleted while it was being refreshed")
            }
            if now.needsAuthorisation {
                throw Self.needsAuthorisation(now)
            }
            if now.generation != seen.generation {
                // Another worker refreshed it (or a person loaded it again): use its result.
                return try self.grant(now)
            }
            if let claimedBy = now.claimedBy {
                if now.claimExpired {
                    let reason =
                        "the refresh claimed by \(claimedBy) stored no result before its deadline: the token endpoint may have rotated the refresh token, so it is not presented again"
                    if try await self.markAbandoned(now, reason: reason) {
                        self.logger.error(
                            "An OAuth token refresh was abandoned; the token set needs authorising again",
                            metadata: ["token.name": "\(now.name)", "token.generation": "\(now.generation)", "token.claimed_by": "\(claimedBy)"])
                    }
                    continue
                }
                guard clock.now < waitDeadline else {
                    throw TokenError(.refreshFailed, "token set \(now.name) is still being refreshed by \(claimedBy); try again later")
                }
                waitedForClaim = claimedBy
                try await Task.sleep(for: self.claimPollInterval)
                continue
            }
            // Not claimable a moment ago, claimable now, same generation: a claim was held and given up, which
            // happens only when that refresh failed without spending the token. Trying again at once would only
            // repeat it from every waiting worker.
            throw TokenError(
                .refreshFailed,
                "the refresh of token set \(now.name)\(waitedForClaim.map { " by \($0)" } ?? "") failed (\(now.lastError ?? "no reason recorded")); try again later")
        }
    }

    /// Refreshes a set this process has claimed.
    private func refreshClaimed(_ set: StoredSet, claim: Claim, refresher: some TokenRefresher) async throws -> AccessGrant {
        let metadata: Logger.Metadata = ["token.name": "\(set.name)", "token.generation": "\(set.generation)"]
        guard let sealedRefresh = set.refreshToken else {
            throw await self.giveUp(set, claim: claim, reason: "no refresh token (desktop client)", lost: false)
        }
        let refreshToken: Secret
        do {
            refreshToken = try self.cipher.open(sealedRefresh, context: set.binding.context(.refreshToken), keyID: set.keyID)
        } catch {
            // Nothing was sent: this process cannot open the set (a missing key, or a tampered row).
            try? await self.releaseClaim(set, claim: claim, reason: "\(error)")
            throw error
        }

        let fresh: TokenSet
        do {
            fresh = try await Self.withTimeout(self.refreshCallTimeout) { try await refresher.refresh(refreshToken) }
        } catch let error as TokenError where error.code == .needsAuthorisation {
            throw await self.giveUp(set, claim: claim, reason: error.message, lost: false)
        } catch let error as TokenError where error.code == .clientRejected {
            // This worker's configuration, not the set: leave the set usable for correctly configured workers.
            try? await self.releaseClaim(set, claim: claim, reason: "a worker's refresh was refused: \(error.message)")
            self.logger.error("The token endpoint refused this worker's client; check its OAuth client configuration", metadata: metadata)
            throw error
        } catch let error as TokenError where error.code == .refreshFailed {
            try? await self.releaseClaim(set, claim: claim, reason: error.message)
            self.logger.warning("An OAuth token refresh failed; it will be tried again", metadata: metadata)
            throw error
        } catch {
            throw await self.giveUp(
                set, claim: claim,
                reason:
                    "the refresh's outcome is unknown (\(Self.describe(error))): the token endpoint may have rotated the refresh token, so it is not presented again")
        }

        // From here the old refresh token is spent: the answer must be stored, or the family is lost.
        let sealed: SealedTokens
        do {
            sealed = try self.seal(fresh, for: set.binding)
        } catch {
            throw await self.giveUp(set, claim: claim, reason: "the refreshed token set could not be sealed: the old refresh token is spent")
        }
        var delay = Duration.milliseconds(100)
        while true {
            do {
                guard try await self.storeRefreshed(sealed, expiresAt: fresh.expiresAt, for: set, claim: claim) else {
                    // A person loaded the set again meanwhile; their set wins, and this answer is dropped.
                    self.logger.warning("An OAuth token set was replaced while it was being refreshed", metadata: metadata)
                    throw TokenError(.refreshFailed, "token set \(set.name) was replaced while it was being refreshed; try again")
                }
                break
            } catch let error as TokenError {
                throw error
            } catch {
                // Losing this write loses the token family: keep trying until the claim's deadline.
                guard ContinuousClock.now + delay < claim.deadline else {
                    throw await self.giveUp(
                        set, claim: claim,
                        reason: "the refreshed token set could not be stored (\(Self.describe(error))): the old refresh token is spent")
                }
                self.logger.warning(
                    "Storing a refreshed OAuth token set failed; trying again",
                    metadata: metadata.merging(["error": "\(Self.describe(error))"]) { $1 })
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(2))
            }
        }
        self.logger.info("Refreshed an OAuth token set", metadata: ["token.name": "\(set.name)", "token.generation": "\(set.generation + 1)"])
        return AccessGrant(name: set.name, generation: set.generation + 1, accessToken: fresh.accessToken, expiresAt: fresh.expiresAt)
    }

    /// Marks the set as needing a person (best effort: if that fails too, the claim's deadline does it), logs
    /// an error and returns the error for the caller.
    ///
    /// - Parameter lost: whether a refresh was lost on the way (an uncertain outcome), rather than refused.
    private func giveUp(_ set: StoredSet, claim: Claim, reason: String, lost: Bool = true) async -> TokenError {
        do {
            try await self.markNeedsAuthorisation(set, claim: claim, reason: reason)
        } catch {
            self.logger.error(
                "Could not mark an OAuth token set as needing authorisation; its claim's deadline will",
                metadata: ["token.name": "\(set.name)", "error": "\(Self.describe(error))"])
        }
        let metadata: Logger.Metadata = ["token.name": "\(set.name)", "token.generation": "\(set.generation)", "token.reason": "\(reason)"]
        if lost {
            self.logger.error("An OAuth token refresh was lost; the token set needs authorising again", metadata: metadata)
        } else {
            self.logger.error("An OAuth token set needs authorising again", metadata: metadata)
        }
        return TokenError(.needsAuthorisation, "token set \(set.name) needs a person to authorise again (tuku tokens load): \(reason)")
    }

    /// Runs `body`, cancelling it after `timeout` (its outcome is then unknown).
    static func withTimeout<Value: Sendable>(
        _ timeout: Duration, _ body: @escaping @Sendable () async throws -> Value
    ) async throws -> Value {
        try await withThrowingTaskGroup(of: Value?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let value = first else {
                throw TokenError(.refreshOutcomeUnknown, "the token endpoint did not answer within \(Int(timeout.inSeconds)) s")
            }
            return value
        }
    }

    /// A safe description: token errors and PostgreSQL errors without their details.
    static func describe(_ error: any Error) -> String {
        switch error {
        case let error as TokenError: "\(error)"
        case let error as PSQLError: "PostgreSQL \(error.serverInfo?[.sqlState] ?? "\(error.code)")"
        case is CancellationError: "cancelled"
        default: "\(type(of: error))"
        }
    }
}
