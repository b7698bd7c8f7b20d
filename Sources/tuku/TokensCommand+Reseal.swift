import ArgumentParser
import Foundation
import TukuPostgres

extension TokensCommand {
    /// `tuku tokens reseal`: seals every token set again with the current key, so an older key can be retired.
    struct Reseal: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Seal every token set again with the current key (TUKU_TOKEN_KEY_FILE), opening them with the older keys in TUKU_TOKEN_OLD_KEY_FILES.",
            discussion:
                "Key rotation without anyone consenting again: make a new key, point TUKU_TOKEN_KEY_FILE at it and list the old key's file in TUKU_TOKEN_OLD_KEY_FILES on every worker, run this, then drop the old key. Reading sealed tokens needs a worker's database login (or the owner's). Exits 1 when a set could not be resealed."
        )

        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let cipher = try TokenCipher.fromEnvironment()
            let report = try await self.database.withClient(label: "tuku.tokens", maximumConnections: 1) { client, logger in
                try await TokenStore(client: client, cipher: cipher, logger: logger).reseal()
            }
            for name in report.resealed { print("Resealed \(name) with key \(cipher.keyID).") }
            for name in report.current { print("\(name) was already sealed with key \(cipher.keyID).") }
            for (name, reason) in report.skipped.sorted(by: { $0.key < $1.key }) { print("Skipped \(name): \(reason)") }
            if !report.skipped.isEmpty { throw ExitCode(1) }
        }
    }
}
