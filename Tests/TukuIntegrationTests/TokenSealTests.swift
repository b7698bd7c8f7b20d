import Crypto
import Foundation
import Logging
import PostgresNIO
import Testing
import TukuCore
import TukuPostgres
import TukuTestSupport

/// SQLSTATE 42501: permission denied.
private let denied = "42501"

/// Defect 2 of issue #11: sealed tokens are bound to their row (id, name, tenants), workers cannot rename sets or
/// change their tenants, and the sealing key rotates without anyone consenting again.
@Suite("Sealed token sets: bound to their row, rotated without re-consent")
struct TokenSealTests {
    static func set(_ access: String, refresh: String? = nil) -> TokenSet {
        TokenSet(accessToken: Secret(access), expiresAt: Date().addingTimeInterval(3600), refreshToken: refresh.map(Secret.init))
    }

    static func store(_ client: PostgresClient, _ cipher: TokenCipher) -> TokenStore {
        TokenStore(client: client, cipher: cipher, logger: .test())
    }

    /// Asks for `tenant`'s token and returns the error code, or the token's value when one was handed out.
    static func outcome(_ store: TokenStore, _ tenant: String, gateway: TaxGateway = .ird) async -> String {
        do {
            return "token " + (try await store.accessToken(forTenant: tenant, gateway: gateway, refresher: RecordingRefresher())).accessToken.value
        } catch let error as TokenError {
            return "\(error.code)"
        } catch {
            return "\(error)"
        }
    }

    @Test("swapping two sets' names and sealed tokens does not hand tenant A's job tenant B's token")
    func swapRefused() async throws {
        try await TestDatabase.withFresh { admin, _ in
            let cipher = try TokenCipher(base64: TokenCipher.generateKey())
            try await Self.store(admin, cipher).store(name: "acme-admin", gateway: .ird, tokens: Self.set("acme-token", refresh: "acme-refresh"), tenants: ["acme"])
            try await Self.store(admin, cipher).store(name: "kiwi-admin", gateway: .ird, tokens: Self.set("kiwi-token", refresh: "kiwi-refresh"), tenants: ["kiwi"])
            #expect(await Self.outcome(Self.store(admin, cipher), "acme") == "token acme-token")

            // The attack of the issue, done with the owner's rights (workers may no longer do it at all): swap the
            // names and the ciphertexts, so each row claims to be the other.
            try await admin.execute(
                """
                WITH a AS (SELECT * FROM tuku.oauth_tokens WHERE name = 'acme-admin'), k AS (SELECT * FROM tuku.oauth_tokens WHERE name = 'kiwi-admin')
                UPDATE tuku.oauth_tokens t SET name = 'swap-' || s.name, access_token = s.access_token, refresh_token = s.refresh_token
                FROM (SELECT a.id AS target, k.name, k.access_token, k.refresh_token FROM a, k
                      UNION ALL SELECT k.id, a.name, a.access_token, a.refresh_token FROM a, k) s
                WHERE t.id = s.target
                """)
            try await admin.execute("UPDATE tuku.oauth_tokens SET name = substr(name, 6)")
            #expect(try await admin.scalar("SELECT string_agg(name, ',' ORDER BY id) FROM tuku.oauth_tokens", as: String.self) == "kiwi-admin,acme-admin")
            // Fresh stores, so nothing comes from a cache.
            #expect(await Self.outcome(Self.store(admin, cipher), "acme") == "open_failed")
            #expect(await Self.outcome(Self.store(admin, cipher), "kiwi") == "open_failed")

            // Moving only a ciphertext (no rename) fails the same way.
            try await Self.store(admin, cipher).store(name: "acme-admin", gateway: .ird, tokens: Self.set("acme-2"), tenants: ["acme"])
            try await Self.store(admin, cipher).store(name: "kiwi-admin", gateway: .ird, tokens: Self.set("kiwi-2"), tenants: ["kiwi"])
            #expect(await Self.outcome(Self.store(admin, cipher), "acme") == "token acme-2")
            try await admin.execute(
                "UPDATE tuku.oauth_tokens SET access_token = (SELECT access_token FROM tuku.oauth_tokens WHERE name = 'kiwi-admin') WHERE name = 'acme-admin'")
            #expect(await Self.outcome(Self.store(admin, cipher), "acme") == "open_failed")

            // Granting a set another tenant behind the store's back: the set no longer opens for anyone.
            try await admin.execute(
                "INSERT INTO tuku.oauth_token_tenants (token_id, tenant) SELECT id, 'stranger' FROM tuku.oauth_tokens WHERE name = 'kiwi-admin'")
            #expect(await Self.outcome(Self.store(admin, cipher), "stranger") == "open_failed")
            #expect(await Self.outcome(Self.store(admin, cipher), "kiwi") == "open_failed")
        }
    }

    @Test("a set whose gateway is changed behind Tuku's back does not open: IRD's token never goes to HMRC, nor back")
    func gatewaySwapRefused() async throws {
        try await TestDatabase.withFresh { admin, _ in
            let cipher = try TokenCipher(base64: TokenCipher.generateKey())
            try await Self.store(admin, cipher).store(name: "acme-ird", gateway: .ird, tokens: Self.set("ird-token", refresh: "r"), tenants: ["acme"])
            try await Self.store(admin, cipher).store(name: "acme-hmrc", gateway: .hmrc, tokens: Self.set("hmrc-token", refresh: "r"), tenants: ["acme"])
            #expect(await Self.outcome(Self.store(admin, cipher), "acme", gateway: .ird) == "token ird-token")
            #expect(await Self.outcome(Self.store(admin, cipher), "acme", gateway: .hmrc) == "token hmrc-token")
            try await admin.query("UPDATE tuku.oauth_tokens SET gateway = CASE gateway WHEN 'ird' THEN 'hmrc' ELSE 'ird' END", logger: .test())
            #expect(await Self.outcome(Self.store(admin, cipher), "acme", gateway: .hmrc) == "open_failed")
            #expect(await Self.outcome(Self.store(admin, cipher), "acme", gateway: .ird) == "open_failed")
            // A set keeps the gateway it was stored for.
            await #expect(throws: (any Error).self) {
                try await Self.store(admin, cipher).store(name: "acme-hmrc", gateway: .hmrc, tokens: Self.set("x"), tenants: ["acme"])
            }
            #expect(try await admin.scalar("SELECT count(*) FROM tuku.oauth_tokens WHERE gateway NOT IN ('ird', 'hmrc')", as: Int64.self) == 0)
            await #expect(throws: (any Error).self) {
                try await admin.query("UPDATE tuku.oauth_tokens SET gateway = 'ato'", logger: .test())
            }
        }
    }

    @Test("reverting migration 0018 keeps IRD's sets usable and is refused while another gateway's set exists")
    func gatewayMigrationDown() async throws {
        try await TestDatabase.withFresh { admin, _ in
            let cipher = try TokenCipher(base64: TokenCipher.generateKey())
            try await Self.store(admin, cipher).store(name: "acme-ird", gateway: .ird, tokens: Self.set("ird-token", refresh: "r"), tenants: ["acme"])
            try await Self.store(admin, cipher).store(name: "acme-hmrc", gateway: .hmrc, tokens: Self.set("hmrc-token", refresh: "r"), tenants: ["acme"])
            let migrator = Migrator(client: admin, logger: .test())
            await #expect(throws: (any Error).self) { _ = try await migrator.rollback(to: 17) }
            #expect(try await admin.scalar("SELECT count(*) FROM tuku.oauth_tokens WHERE gateway = 'hmrc'", as: Int64.self) == 1)
            try await admin.query("DELETE FROM tuku.oauth_tokens WHERE name = 'acme-hmrc'", logger: .test())
            #expect(try await migrator.rollback(to: 17).map(\.version) == [18])
            #expect(try await admin.scalar("SELECT to_regprocedure('tuku.store_token_set(bigint, text, bytea, timestamptz, bytea, text, smallint, text[])') IS NOT NULL", as: Bool.self))
            _ = try await migrator.migrate()
            // IRD's seals never bound a gateway: the set opens as before.
            #expect(await Self.outcome(Self.store(admin, cipher), "acme") == "token ird-token")
            #expect(try await admin.scalar("SELECT gateway FROM tuku.oauth_token_status", as: String.self) == "ird")
        }
    }

    @Test("a worker login may write only what a refresh writes: never a set's name, id or tenants")
    func workerColumns() async throws {
        try await TestDatabase.withFresh { admin, database in
            let cipher = try TokenCipher(base64: TokenCipher.generateKey())
            try await Self.store(admin, cipher).store(name: "acme-admin", gateway: .ird, tokens: Self.set("a", refresh: "r"), tenants: ["acme"])
            try await Self.store(admin, cipher).store(name: "kiwi-admin", gateway: .ird, tokens: Self.set("k", refresh: "r"), tenants: ["kiwi"])
            try await TestLogin.with("tuku_worker", on: database, admin: admin) { worker, _ in
                #expect(await worker.sqlState(of: "UPDATE tuku.oauth_tokens SET name = name || '-x'") == denied)
                #expect(await worker.sqlState(of: "UPDATE tuku.oauth_tokens SET created_at = now()") == denied)
                #expect(await worker.sqlState(of: "UPDATE tuku.oauth_token_tenants SET tenant = 'acme'") == denied)
                #expect(await worker.sqlState(of: "INSERT INTO tuku.oauth_token_tenants (token_id, tenant) SELECT id, 'kiwi' FROM tuku.oauth_tokens") == denied)
                #expect(await worker.sqlState(of: "DELETE FROM tuku.oauth_token_tenants") == denied)
                #expect(await worker.sqlState(of: "DELETE FROM tuku.oauth_tokens") == denied)
                #expect(await worker.sqlState(of: "SELECT tuku.store_token_set(1, 'x', 'ird', '\\x00', now(), NULL, 'k', 2::int2, ARRAY['acme'])") == denied)
                #expect(await worker.sqlState(of: "UPDATE tuku.oauth_tokens SET gateway = 'hmrc'") == denied)
                // What a refresh writes, it may.
                #expect(await worker.sqlState(of: "UPDATE tuku.oauth_tokens SET access_token = access_token, generation = generation, updated_at = now()") == nil)
                #expect(await Self.outcome(Self.store(worker, cipher), "kiwi") == "token k")
            }
        }
    }

    @Test("rotation: an older key still opens, new seals use the current key, reseal moves every set to it")
    func rotation() async throws {
        try await TestDatabase.withFresh { admin, database in
            let oldKey = TokenCipher.generateKey()
            let newKey = TokenCipher.generateKey()
            let old = try TokenCipher(base64: oldKey)
            let rotated = try TokenCipher(base64: newKey, olderBase64: [oldKey])
            let onlyNew = try TokenCipher(base64: newKey)
            #expect(rotated.keyIDs == [onlyNew.keyID, old.keyID])
            try await Self.store(admin, old).store(name: "acme-admin", gateway: .ird, tokens: Self.set("acme-token", refresh: "acme-refresh"), tenants: ["acme"])
            try await Self.store(admin, old).store(name: "kiwi-admin", gateway: .ird, tokens: Self.set("kiwi-token", refresh: "kiwi-refresh"), tenants: ["kiwi"])

            // Without the old key, the set does not open, and the error says what to configure.
            do {
                _ = try await Self.store(admin, onlyNew).accessToken(forTenant: "acme", gateway: .ird, refresher: RecordingRefresher())
                Issue.record("a set sealed with a missing key opened")
            } catch let error as TokenError {
                #expect(error.code == .unknownKey)
                #expect(error.message.contains(old.keyID) && error.message.contains("TUKU_TOKEN_OLD_KEY_FILES"))
            }
            // With both keys it opens, and a refresh seals the new generation with the current key.
            #expect(await Self.outcome(Self.store(admin, rotated), "acme") == "token acme-token")
            let refresher = RecordingRefresher()
            _ = try await Self.store(admin, rotated).accessToken(forTenant: "acme", gateway: .ird, refresher: refresher, replacingGeneration: 1)
            #expect(refresher.calls == ["acme-refresh"])
            #expect(try await admin.scalar("SELECT key_id FROM tuku.oauth_tokens WHERE name = 'acme-admin'", as: String.self) == onlyNew.keyID)

            // tuku tokens reseal, as a worker login: the other set moves too; then the old key can go.
            try await TestLogin.with("tuku_worker", on: database, admin: admin) { worker, _ in
                let report = try await Self.store(worker, rotated).reseal()
                #expect(report.resealed == ["kiwi-admin"])
                #expect(report.current == ["acme-admin"])
                #expect(report.skipped.isEmpty)
                #expect(try await Self.store(worker, rotated).reseal().resealed.isEmpty)
            }
            #expect(try await admin.scalar("SELECT string_agg(DISTINCT key_id, ',') FROM tuku.oauth_tokens", as: String.self) == onlyNew.keyID)
            #expect(await Self.outcome(Self.store(admin, onlyNew), "kiwi") == "token kiwi-token")
            #expect(await Self.outcome(Self.store(admin, onlyNew), "acme") == "token access-1")
            let next = RecordingRefresher()
            _ = try await Self.store(admin, onlyNew).accessToken(forTenant: "kiwi", gateway: .ird, refresher: next, replacingGeneration: 1)
            #expect(next.calls == ["kiwi-refresh"])
        }
    }

    @Test("the key ring comes from TUKU_TOKEN_KEY_FILE and TUKU_TOKEN_OLD_KEY_FILES")
    func keyRingFromEnvironment() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tuku-keys-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let keys = (0..<3).map { _ in TokenCipher.generateKey() }
        for (index, key) in keys.enumerated() {
            try "\(key)\n".write(to: directory.appendingPathComponent("key-\(index)"), atomically: true, encoding: .utf8)
        }
        let cipher = try TokenCipher.fromEnvironment([
            "TUKU_TOKEN_KEY_FILE": directory.appendingPathComponent("key-2").path,
            "TUKU_TOKEN_OLD_KEY_FILES": "\(directory.appendingPathComponent("key-0").path), \(directory.appendingPathComponent("key-1").path)",
        ])
        #expect(cipher.keyID == (try TokenCipher(base64: keys[2])).keyID)
        #expect(cipher.keyIDs.count == 3)
        let sealedByOld = try TokenCipher(base64: keys[0]).seal(Secret("t"), context: "c")
        #expect(try cipher.open(sealedByOld, context: "c", keyID: (try TokenCipher(base64: keys[0])).keyID).value == "t")
        // New seals are the current key's only.
        let sealed = try cipher.seal(Secret("t"), context: "c")
        #expect(throws: TokenError.self) { try TokenCipher(base64: keys[0], olderBase64: [keys[1]]).open(sealed, context: "c") }
        #expect(throws: TokenError.self) {
            try TokenCipher.fromEnvironment(["TUKU_TOKEN_KEY": keys[0], "TUKU_TOKEN_OLD_KEY_FILES": "/nonexistent/key"])
        }
    }

    @Test("a set sealed before migration 0014 (bound to its name only) still opens, and reseal binds it to its row")
    func legacySeal() async throws {
        try await TestDatabase.withFresh { admin, _ in
            let cipher = try TokenCipher(base64: TokenCipher.generateKey())
            // As the name-bound code sealed it: associated data "tuku.oauth_tokens/<name>/<column>", seal_version 1.
            let access = try cipher.seal(Secret("legacy-access"), context: "tuku.oauth_tokens/legacy-admin/access_token")
            let refresh = try cipher.seal(Secret("legacy-refresh"), context: "tuku.oauth_tokens/legacy-admin/refresh_token")
            try await admin.execute(
                """
                WITH t AS (
                    INSERT INTO tuku.oauth_tokens (name, gateway, access_token, access_expires_at, refresh_token, key_id)
                    VALUES ('legacy-admin', 'ird', \(access), now() + interval '1 hour', \(refresh), \(cipher.keyID)) RETURNING id)
                INSERT INTO tuku.oauth_token_tenants (token_id, tenant) SELECT id, 'acme' FROM t
                """)
            #expect(try await admin.scalar("SELECT seal_version FROM tuku.oauth_token_status", as: Int16.self) == 1)
            #expect(await Self.outcome(Self.store(admin, cipher), "acme") == "token legacy-access")
            let report = try await Self.store(admin, cipher).reseal()
            #expect(report.resealed == ["legacy-admin"])
            #expect(try await admin.scalar("SELECT seal_version FROM tuku.oauth_token_status", as: Int16.self) == 2)
            #expect(await Self.outcome(Self.store(admin, cipher), "acme") == "token legacy-access")
            let refresher = RecordingRefresher()
            _ = try await Self.store(admin, cipher).accessToken(forTenant: "acme", gateway: .ird, refresher: refresher, replacingGeneration: 1)
            #expect(refresher.calls == ["legacy-refresh"])
            // Now bound to its row: the old name-only ciphertext put back is refused.
            try await admin.execute("UPDATE tuku.oauth_tokens SET access_token = \(access)")
            #expect(await Self.outcome(Self.store(admin, cipher), "acme") == "open_failed")
        }
    }

    @Test("reverting migration 0014 marks sets sealed for their row as needing a load, since the older binary cannot open them")
    func migrationDown() async throws {
        try await TestDatabase.withFresh { admin, _ in
            let cipher = try TokenCipher(base64: TokenCipher.generateKey())
            try await Self.store(admin, cipher).store(name: "acme-admin", gateway: .ird, tokens: Self.set("a", refresh: "r"), tenants: ["acme"])
            let migrator = Migrator(client: admin, logger: .test())
            let reverted = try await migrator.rollback(to: 13)
            #expect(reverted.map(\.version).contains(14))
            #expect(try await admin.scalar("SELECT needs_authorisation_since IS NOT NULL FROM tuku.oauth_token_status", as: Bool.self))
            #expect(try await admin.scalar("SELECT last_error FROM tuku.oauth_token_status", as: String.self).contains("tuku tokens load"))
            #expect(try await admin.scalar("SELECT to_regprocedure('tuku.store_token_set(text, bytea, timestamptz, bytea, text, text[])') IS NOT NULL", as: Bool.self))
            _ = try await migrator.migrate()
            // Still marked: a person loads it again, sealed the current way.
            #expect(await Self.outcome(Self.store(admin, cipher), "acme") == "needs_authorisation")
            try await Self.store(admin, cipher).store(name: "acme-admin", gateway: .ird, tokens: Self.set("again", refresh: "r"), tenants: ["acme"])
            #expect(await Self.outcome(Self.store(admin, cipher), "acme") == "token again")
        }
    }

    @Test("tuku tokens reseal on a worker login moves every set to the current key; tuku tokens list shows keys and reasons")
    func resealCommand() async throws {
        try await TestDatabase.withFresh { admin, database in
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tuku-keys-\(UInt32.random(in: 0...UInt32.max))")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let oldKey = TokenCipher.generateKey()
            let newKey = TokenCipher.generateKey()
            try oldKey.write(to: directory.appendingPathComponent("old.key"), atomically: true, encoding: .utf8)
            try newKey.write(to: directory.appendingPathComponent("new.key"), atomically: true, encoding: .utf8)
            let old = try TokenCipher(base64: oldKey)
            let new = try TokenCipher(base64: newKey)
            try await Self.store(admin, old).store(name: "acme-admin", gateway: .ird, tokens: Self.set("a", refresh: "r"), tenants: ["acme"])
            try await Self.store(admin, old).store(name: "kiwi-admin", gateway: .ird, tokens: Self.set("k", refresh: "r"), tenants: ["kiwi"])
            try await admin.execute(
                "UPDATE tuku.oauth_tokens SET needs_authorisation_since = now(), last_error = 'the token endpoint refused the refresh token (invalid_grant)' WHERE name = 'kiwi-admin'")
            let environment = [
                "TUKU_TOKEN_KEY_FILE": directory.appendingPathComponent("new.key").path,
                "TUKU_TOKEN_OLD_KEY_FILES": directory.appendingPathComponent("old.key").path,
            ]
            try await TestLogin.with("tuku_worker", on: database, admin: admin) { _, login in
                let reseal = try TukuProcess(["tokens", "reseal"], databaseURL: login.url, environment: environment)
                #expect(try await reseal.waitForExit() == 0, "log:\n\(reseal.log)")
                #expect(reseal.log.contains("Resealed acme-admin with key \(new.keyID)"), "log:\n\(reseal.log)")
            }
            #expect(try await admin.scalar("SELECT string_agg(DISTINCT key_id, ',') FROM tuku.oauth_tokens", as: String.self) == new.keyID)
            #expect(await Self.outcome(Self.store(admin, new), "acme") == "token a")
            let list = try TukuProcess(["tokens", "list"], databaseURL: database.url)
            #expect(try await list.waitForExit() == 0)
            #expect(list.log.contains(new.keyID) && list.log.contains("invalid_grant"), "log:\n\(list.log)")
        }
    }

    @Test("tuku tokens load --gateway hmrc stores an HMRC set beside the tenant's IRD one; tokens list --gateway shows one gateway's")
    func loadAndListByGateway() async throws {
        try await TestDatabase.withFresh { admin, database in
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tuku-gw-\(UInt32.random(in: 0...UInt32.max))")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let key = TokenCipher.generateKey()
            let response = directory.appendingPathComponent("token.json")
            try #"{"access_token":"hmrc-access","expires_in":14400,"refresh_token":"hmrc-refresh"}"#.write(
                to: response, atomically: true, encoding: .utf8)
            let environment = ["TUKU_TOKEN_KEY": key]
            let cipher = try TokenCipher(base64: key)
            try await Self.store(admin, cipher).store(name: "acme-ird", gateway: .ird, tokens: Self.set("ird-access", refresh: "r"), tenants: ["acme"])
            let load = try TukuProcess(
                ["tokens", "load", "--name", "acme-hmrc", "--tenant", "acme", "--gateway", "hmrc", response.path], databaseURL: database.url,
                environment: environment)
            #expect(try await load.waitForExit() == 0, "log:\n\(load.log)")
            #expect(await Self.outcome(Self.store(admin, cipher), "acme", gateway: .hmrc) == "token hmrc-access")
            #expect(await Self.outcome(Self.store(admin, cipher), "acme", gateway: .ird) == "token ird-access")
            // The same name for another gateway is refused.
            let again = try TukuProcess(
                ["tokens", "load", "--name", "acme-hmrc", "--tenant", "acme", response.path], databaseURL: database.url, environment: environment)
            #expect(try await again.waitForExit() != 0)
            #expect(again.log.contains("is for gateway hmrc"), "log:\n\(again.log)")
            let list = try TukuProcess(["tokens", "list", "--gateway", "hmrc"], databaseURL: database.url)
            #expect(try await list.waitForExit() == 0)
            #expect(list.log.contains("acme-hmrc") && !list.log.contains("acme-ird"), "log:\n\(list.log)")
            let all = try TukuProcess(["tokens", "list"], databaseURL: database.url)
            #expect(try await all.waitForExit() == 0)
            #expect(all.log.contains("acme-hmrc") && all.log.contains("acme-ird"), "log:\n\(all.log)")
        }
    }
}
