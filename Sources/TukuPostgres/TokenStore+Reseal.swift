import Foundation
import Logging

extension TokenStore {
    /// What ``TokenStore/reseal()`` did.
    public struct ResealReport: Sendable, Equatable {
        /// Sets now sealed with the current key and binding.
        public var resealed: [String] = []
        /// Sets that already were.
        public var current: [String] = []
        /// Sets left as they were, with the reason (being refreshed, changed meanwhile, or not opening).
        public var skipped: [String: String] = [:]
    }

    /// Seals every token set again with the current key and the current binding (row id, name, tenants), so that
    /// older keys can be retired and rows sealed before migration 0014 lose their name-only binding.
    ///
    /// Each set is opened with the key its `key_id` names and written back in one short statement that applies
    /// only if the set was not refreshed, reloaded or claimed since it was read. Needs a login that may read the
    /// sealed tokens (a worker's, or the owner's).
    public func reseal() async throws -> ResealReport {
        var report = ResealReport()
        for id in try await self.allSetIDs() {
            guard let set = try await self.readSet(id: id) else { continue }
            if set.keyID == self.cipher.keyID, Int(set.sealVersion) == SealBinding.currentVersion {
                report.current.append(set.name)
                continue
            }
            if set.claimedBy != nil, !set.needsAuthorisation {
                report.skipped[set.name] = "being refreshed; run reseal again"
                continue
            }
            let tokens: TokenSet
            do {
                tokens = TokenSet(
                    accessToken: try self.cipher.open(set.accessToken, context: set.binding.context(.accessToken), keyID: set.keyID),
                    expiresAt: set.expiresAt,
                    refreshToken: try set.refreshToken.map {
                        try self.cipher.open($0, context: set.binding.context(.refreshToken), keyID: set.keyID)
                    })
            } catch {
                report.skipped[set.name] = "\(error)"
                continue
            }
            if try await self.replaceSeal(try self.seal(tokens, for: set.binding), of: set) {
                report.resealed.append(set.name)
                self.logger.info(
                    "Sealed an OAuth token set with the current key",
                    metadata: ["token.name": "\(set.name)", "token.old_key_id": "\(set.keyID)", "token.key_id": "\(self.cipher.keyID)"])
            } else {
                report.skipped[set.name] = "changed while resealing; run reseal again"
            }
        }
        return report
    }
}
