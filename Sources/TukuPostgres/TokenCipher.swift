import Crypto
import Foundation
import TukuCore

/// Seals OAuth tokens with AES-256-GCM before they reach the database, and opens them again.
///
/// The key comes from `TUKU_TOKEN_KEY` (base64 of 32 random bytes) or the file named by `TUKU_TOKEN_KEY_FILE`,
/// never from the database. Each sealed value is authenticated together with the token set's name and the
/// column it sits in, so a ciphertext moved to another row or column does not open.
public struct TokenCipher: Sendable {
    /// A short, non-secret fingerprint of the key, stored beside sealed tokens to tell keys apart on rotation.
    public let keyID: String
    private let key: SymmetricKey

    /// - Parameter key: 32 bytes.
    public init(key: SymmetricKey) throws {
        guard key.bitCount == 256 else {
            throw TokenError(.invalidKey, "the token encryption key must be 32 bytes (256 bits)")
        }
        self.key = key
        let digest = SHA256.hash(data: key.withUnsafeBytes { Data($0) })
        self.keyID = digest.prefix(6).map { String(format: "%02x", $0) }.joined()
    }

    /// Reads the key from base64 text (surrounding whitespace ignored).
    public init(base64 text: String) throws {
        guard let data = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw TokenError(.invalidKey, "the token encryption key is not base64")
        }
        try self.init(key: SymmetricKey(data: data))
    }

    /// The key from `TUKU_TOKEN_KEY_FILE` (a file holding base64) or `TUKU_TOKEN_KEY` (base64).
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> TokenCipher {
        if let path = environment["TUKU_TOKEN_KEY_FILE"], !path.isEmpty {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw TokenError(.invalidKey, "cannot read the token encryption key file \(path)")
            }
            return try TokenCipher(base64: text)
        }
        guard let text = environment["TUKU_TOKEN_KEY"], !text.isEmpty else {
            throw TokenError(
                .invalidKey, "no token encryption key: set TUKU_TOKEN_KEY_FILE or TUKU_TOKEN_KEY (tuku tokens generate-key makes one)")
        }
        return try TokenCipher(base64: text)
    }

    /// A fresh random key, base64-encoded.
    public static func generateKey() -> String {
        SymmetricKey(size: .bits256).withUnsafeBytes { Data($0).base64EncodedString() }
    }

    /// Seals `token` as `nonce || ciphertext || tag`, bound to `context`.
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

    /// Opens a value sealed by ``seal(_:context:)`` with the same key and context.
    public func open(_ sealed: Data, context: String) throws -> Secret {
        do {
            let box = try AES.GCM.SealedBox(combined: sealed)
            let plain = try AES.GCM.open(box, using: self.key, authenticating: Data(context.utf8))
            return Secret(String(decoding: plain, as: UTF8.self))
        } catch {
            throw TokenError(.openFailed, "a stored token does not open with this key (wrong key, or the row was tampered with)")
        }
    }
}
