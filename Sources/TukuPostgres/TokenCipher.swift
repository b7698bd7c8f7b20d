import Crypto
import Foundation
import TukuCore

/// Seals OAuth tokens with AES-256-GCM before they reach the database, and opens them again.
///
/// The current key comes from `TUKU_TOKEN_KEY_FILE` (a file holding base64 of 32 random bytes) or `TUKU_TOKEN_KEY`,
/// never from the database; it seals everything new. Older keys, named by `TUKU_TOKEN_OLD_KEY_FILES`, still open
/// what they sealed, so the key can be rotated without anyone consenting again: tokens move to the current key on
/// their next refresh or with `tuku tokens reseal`. Each sealed value is authenticated together with a context
/// (see ``TokenStore``: the row's id, name, tenants and column), so a ciphertext moved to another row or column
/// does not open.
public struct TokenCipher: Sendable {
    /// A short, non-secret fingerprint of the current key, stored beside sealed tokens to tell keys apart on
    /// rotation.
    public let keyID: String
    private let key: SymmetricKey
    /// Keys that open what they sealed before a rotation, by key id. Never used to seal.
    private let olderKeys: [String: SymmetricKey]

    /// - Parameters:
    ///   - key: The current key, 32 bytes: it seals, and opens what it sealed.
    ///   - olderKeys: Keys of earlier rotations (32 bytes each): they only open.
    public init(key: SymmetricKey, olderKeys: [SymmetricKey] = []) throws {
        self.key = try Self.checked(key)
        self.keyID = Self.fingerprint(key)
        var older: [String: SymmetricKey] = [:]
        for old in olderKeys {
            let id = Self.fingerprint(try Self.checked(old))
            if id != self.keyID { older[id] = old }
        }
        self.olderKeys = older
    }

    /// Reads the current key (and any older keys) from base64 text (surrounding whitespace ignored).
    public init(base64 text: String, olderBase64: [String] = []) throws {
        try self.init(key: Self.decode(text, what: "the token encryption key"), olderKeys: olderBase64.map { try Self.decode($0, what: "an older token encryption key") })
    }

    /// The ids of the keys this cipher can open with: the current key's first.
    public var keyIDs: [String] { [self.keyID] + self.olderKeys.keys.sorted() }

    /// The current key from `TUKU_TOKEN_KEY_FILE` (a file holding base64) or `TUKU_TOKEN_KEY` (base64), and older
    /// keys from the files listed, comma-separated, in `TUKU_TOKEN_OLD_KEY_FILES`.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> TokenCipher {
        let current: String
        if let path = environment["TUKU_TOKEN_KEY_FILE"], !path.isEmpty {
            current = try Self.read(path, what: "the token encryption key file")
        } else if let text = environment["TUKU_TOKEN_KEY"], !text.isEmpty {
            current = text
        } else {
            throw TokenError(
                .invalidKey, "no token encryption key: set TUKU_TOKEN_KEY_FILE or TUKU_TOKEN_KEY (tuku tokens generate-key makes one)")
        }
        let olderPaths = (environment["TUKU_TOKEN_OLD_KEY_FILES"] ?? "").split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        return try TokenCipher(
            base64: current, olderBase64: try olderPaths.map { try Self.read($0, what: "the older token encryption key file") })
    }

    /// A fresh random key, base64-encoded.
    public static func generateKey() -> String {
        SymmetricKey(size: .bits256).withUnsafeBytes { Data($0).base64EncodedString() }
    }

    /// Seals `token` with the current key as `nonce || ciphertext || tag`, bound to `context`.
    public func seal(_ token: Secret, context: String) throws -> Data {
        do {
            let box = try AES.GCM.seal(Data(token.value.utf8), using: self.key, authenticating: Data(context.utf8))
            guard let combined = box.combined else { throw TokenError(.sealFailed, "AES-GCM gave no combined form") }
            return combined
        } catch let error as TokenError {
            throw error
        } catch {
            throw TokenError(.sealFailed, "could not seal a token")
        }
    }

    /// Opens a value sealed by ``seal(_:context:)`` with the same context.
    ///
    /// - Parameter keyID: The id of the key that sealed it (stored beside it). `nil` tries every configured key.
    /// - Throws: ``TokenError/Code/unknownKey`` when `keyID` names a key this cipher does not have;
    ///   ``TokenError/Code/openFailed`` when the value does not open (another row's or column's value, or tampered).
    public func open(_ sealed: Data, context: String, keyID: String? = nil) throws -> Secret {
        let keys: [SymmetricKey]
        if let keyID {
            guard let key = keyID == self.keyID ? self.key : self.olderKeys[keyID] else {
                throw TokenError(
                    .unknownKey,
                    "the token was sealed with key \(keyID), which is not configured (current key \(self.keyID)): add that key's file to TUKU_TOKEN_OLD_KEY_FILES"
                )
            }
            keys = [key]
        } else {
            keys = [self.key] + self.olderKeys.keys.sorted().compactMap { self.olderKeys[$0] }
        }
        for key in keys {
            if let box = try? AES.GCM.SealedBox(combined: sealed),
                let plain = try? AES.GCM.open(box, using: key, authenticating: Data(context.utf8))
            {
                return Secret(String(decoding: plain, as: UTF8.self))
            }
        }
        throw TokenError(
            .openFailed, "a stored token does not open for its row (wrong key, a value moved from another row or column, or tampered)")
    }

    private static func checked(_ key: SymmetricKey) throws -> SymmetricKey {
        guard key.bitCount == 256 else {
            throw TokenError(.invalidKey, "the token encryption key must be 32 bytes (256 bits)")
        }
        return key
    }

    private static func fingerprint(_ key: SymmetricKey) -> String {
        let digest = SHA256.hash(data: key.withUnsafeBytes { Data($0) })
        return digest.prefix(6).map { String(format: "%02x", $0) }.joined()
    }

    private static func decode(_ text: String, what: String) throws -> SymmetricKey {
        guard let data = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw TokenError(.invalidKey, "\(what) is not base64")
        }
        return SymmetricKey(data: data)
    }

    private static func read(_ path: String, what: String) throws -> String {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw TokenError(.invalidKey, "cannot read \(what) \(path)")
        }
        return text
    }
}
