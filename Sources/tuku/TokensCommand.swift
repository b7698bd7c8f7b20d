import ArgumentParser
import Foundation
import PostgresNIO
import TukuCore
import TukuPostgres

struct TokensCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokens",
        abstract:
            "OAuth token sets: obtain one with IRD's or HMRC's authorisation-code flow or load one for tenants, list them (never their values), make or rotate the encryption key.",
        subcommands: [TokensAuthorize.self, Load.self, List.self, GenerateKey.self, Reseal.self])

    struct Load: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Store a token set (from IRD's or HMRC's token endpoint: --gateway) for one or more tenants, sealed with the TUKU_TOKEN_KEY(_FILE) key.",
            discussion:
                "Reads a JSON token response ({\"access_token\", \"expires_in\", \"refresh_token\"}) from the file or standard input, so that tokens never appear on a command line."
        )

        @OptionGroup var database: DatabaseOptions
        @Option(help: "A name for the token set, e.g. the myIR user it belongs to.") var name: String
        @Option(name: .customLong("tenant"), help: "A tenant this set may act for (repeat for several).") var tenants: [String]
        @Option(help: "The tax authority the set was issued by: ird or hmrc. A set keeps its gateway.") var gateway: TaxGateway = .ird
        @Argument(help: "The token response JSON file, or - for standard input.") var file: String = "-"

        func validate() throws {
            guard !self.tenants.isEmpty else { throw ValidationError("give at least one --tenant") }
        }

        func run() async throws {
            let data =
                self.file == "-" ? FileHandle.standardInput.readDataToEndOfFile() : try Data(contentsOf: URL(fileURLWithPath: self.file))
            guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                let access = object["access_token"] as? String, !access.isEmpty
            else { throw ValidationError("the input is not a token response with an access_token") }
            let expiresIn =
                (object["expires_in"] as? NSNumber)?.doubleValue ?? (object["expires_in"] as? String).flatMap(Double.init) ?? 28_800
            let tokens = TokenSet(
                accessToken: Secret(access), expiresAt: Date().addingTimeInterval(expiresIn),
                refreshToken: (object["refresh_token"] as? String).map(Secret.init))
            let cipher = try TokenCipher.fromEnvironment()
            try await self.database.withClient(label: "tuku.tokens", maximumConnections: 1) { client, logger in
                try await TokenStore(client: client, cipher: cipher, logger: logger).store(
                    name: self.name, gateway: self.gateway, tokens: tokens, tenants: self.tenants)
            }
            print(
                "Stored \(self.gateway) token set \(self.name) for \(self.tenants.joined(separator: ", ")) (expires \(tokens.expiresAt.formatted(.iso8601)), key \(cipher.keyID))."
            )
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List token sets: gateway, tenants, expiry, generation, whether they need authorising and why. Never the tokens.")
        @OptionGroup var database: DatabaseOptions
        @Option(help: "Only the sets of this tax authority: ird or hmrc (default: every set).") var gateway: TaxGateway?

        func run() async throws {
            try await self.database.withClient(label: "tuku.tokens", maximumConnections: 1) { client, logger in
                let rows = try await client.query(
                    """
                    SELECT name, gateway, tenants, to_char(access_expires_at, 'YYYY-MM-DD HH24:MI:SS'),
                           generation, refreshable, needs_authorisation_since IS NOT NULL, key_id,
                           CASE WHEN needs_authorisation_since IS NOT NULL THEN coalesce(last_error, '')
                                WHEN refresh_claimed_by IS NOT NULL THEN 'refreshing (' || refresh_claimed_by || ')'
                                ELSE '' END
                    FROM tuku.oauth_token_status WHERE \(self.gateway?.rawValue)::text IS NULL OR gateway = \(self.gateway?.rawValue)
                    ORDER BY name
                    """, logger: logger)
                var table = TextTable(
                    "name", "gateway", "tenants", "access expires", "generation", "refreshable", "needs authorising", "key", "reason")
                for try await (name, gateway, tenants, expires, generation, refreshable, needs, key, reason) in rows.decode(
                    (String, String, String, String, Int64, Bool, Bool, String, String).self)
                {
                    table.append([
                        name, gateway, tenants, expires, "\(generation)", refreshable ? "yes" : "no", needs ? "YES" : "no", key, reason,
                    ])
                }
                print(table.render())
            }
        }
    }

    struct GenerateKey: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "generate-key",
            abstract: "Print a new random token encryption key (base64) for TUKU_TOKEN_KEY or TUKU_TOKEN_KEY_FILE.")
        func run() {
            print(TokenCipher.generateKey())
        }
    }
}

extension TaxGateway: ExpressibleByArgument {}
