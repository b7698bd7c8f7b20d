import Foundation
import TukuCore

extension TokenStore {
    /// What a sealed token is bound to: the associated data AES-GCM authenticates with it.
    struct SealBinding: Sendable, Hashable {
        /// Version 1 (before migration 0014): the set's name and the column. Version 2: the row's id, its name,
        /// its tenants (sorted, without duplicates) and the column. Both also bind the set's gateway when it is not
        /// IRD (migration 0018; every set sealed before it was IRD's, so those seals are unchanged).
        static let currentVersion = 2

        var id: Int64
        var name: String
        var tenants: [String]
        var gateway: TaxGateway
        var version: Int

        enum Column: String, Sendable {
            case accessToken = "access_token"
            case refreshToken = "refresh_token"
        }

        /// The associated data for `column`. Version 2 writes each part with its length first, so that no name or
        /// tenant can be chosen to make two different rows' contexts equal. A gateway other than IRD is named in a
        /// fixed-format prefix before anything a person chose, so a set's tokens do not open once its gateway changed.
        func context(_ column: Column) -> String {
            let gateway = self.gateway == .ird ? "" : "gateway=\(self.gateway.rawValue)/"
            switch self.version {
            case 1:
                return "tuku.oauth_tokens/\(gateway)\(self.name)/\(column.rawValue)"
            default:
                let parts = ["\(self.id)", self.name] + Array(Set(self.tenants)).sorted() + [column.rawValue]
                let fields = parts.map { "\($0.utf8.count):\($0)" }.joined(separator: ";")
                return "tuku.oauth_tokens/v2/\(gateway)tenants=\(Set(self.tenants).count)/\(fields)"
            }
        }

        /// The same row, sealed the current way.
        var current: SealBinding {
            SealBinding(id: self.id, name: self.name, tenants: self.tenants, gateway: self.gateway, version: Self.currentVersion)
        }
    }

    /// Sealed tokens for a row, sealed the current way with the current key.
    struct SealedTokens: Sendable {
        var accessToken: Data
        var refreshToken: Data?
        var keyID: String
        var version: Int16
    }

    func seal(_ tokens: TokenSet, for binding: SealBinding) throws -> SealedTokens {
        let binding = binding.current
        return SealedTokens(
            accessToken: try self.cipher.seal(tokens.accessToken, context: binding.context(.accessToken)),
            refreshToken: try tokens.refreshToken.map { try self.cipher.seal($0, context: binding.context(.refreshToken)) },
            keyID: self.cipher.keyID, version: Int16(binding.version))
    }
}
