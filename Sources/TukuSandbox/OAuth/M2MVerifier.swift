import Crypto
import Foundation
import JWTKit
import X509

/// Verifies IRD-style client-signed M2M JWTs (`Authorization: <JWT>`, without `Bearer`) against registered signing
/// certificates.
///
/// A token passes when its header has `kid: "M2M"` and an algorithm IRD lists (RS256/384/512, ES256/384/512), its
/// `sub` is the SHA-256 thumbprint (hex, any case) of a registered certificate whose key verifies the signature,
/// its `exp` is in the future and at most 8 hours after `iat`, and `iat` lies within the certificate's validity.
public struct M2MVerifier: Sendable {
    /// The longest lifetime IRD accepts (`exp` − `iat`).
    public static let maximumLifetime: Int64 = 8 * 3600

    private struct Registered: Sendable {
        var notValidBefore: Date
        var notValidAfter: Date
        /// Key collections by JWS algorithm name.
        var keys: [String: JWTKeyCollection]
    }

    private let certificates: [String: Registered]
    private let now: @Sendable () -> Date

    /// The SHA-256 thumbprints (upper-case hex) of the registered certificates.
    public var thumbprints: [String] { certificates.keys.sorted() }

    /// Registers the signing certificates in the given PEM files (the first certificate of each file).
    ///
    /// - Throws: ``SandboxError/Code/invalidCertificate`` when a file cannot be read, parsed, or holds a key type
    ///   IRD does not accept.
    public init(certificatePaths: [String], now: @escaping @Sendable () -> Date = { Date() }) async throws(SandboxError) {
        var certificates: [String: Registered] = [:]
        for path in certificatePaths {
            guard let data = FileManager.default.contents(atPath: path), let pem = String(data: data, encoding: .utf8) else {
                throw SandboxError(.invalidCertificate, "cannot read the M2M signing certificate \(path)")
            }
            let certificate: Certificate
            let der: [UInt8]
            do {
                der = try Self.firstCertificateDER(pem)
                certificate = try Certificate(derEncoded: der)
            } catch {
                throw SandboxError(.invalidCertificate, "the M2M signing certificate \(path) is not a PEM certificate", underlying: error)
            }
            let kid = JWKIdentifier(string: "M2M")
            var keys: [String: JWTKeyCollection] = [:]
            do {
                if P256.Signing.PublicKey(certificate.publicKey) != nil {
                    keys["ES256"] = await JWTKeyCollection().add(ecdsa: try ES256PublicKey(certificate: pem), kid: kid)
                } else if P384.Signing.PublicKey(certificate.publicKey) != nil {
                    keys["ES384"] = await JWTKeyCollection().add(ecdsa: try ES384PublicKey(certificate: pem), kid: kid)
                } else if P521.Signing.PublicKey(certificate.publicKey) != nil {
                    keys["ES512"] = await JWTKeyCollection().add(ecdsa: try ES512PublicKey(certificate: pem), kid: kid)
                } else {
                    let key = try Insecure.RSA.PublicKey(certificatePEM: pem)
                    keys["RS256"] = await JWTKeyCollection().add(rsa: key, digestAlgorithm: .sha256, kid: kid)
                    keys["RS384"] = await JWTKeyCollection().add(rsa: key, digestAlgorithm: .sha384, kid: kid)
                    keys["RS512"] = await JWTKeyCollection().add(rsa: key, digestAlgorithm: .sha512, kid: kid)
                }
            } catch {
                throw SandboxError(
                    .invalidCertificate, "the M2M signing certificate \(path) has a key IRD does not accept", underlying: error)
            }
            let thumbprint = SHA256.hash(data: der).map { String(format: "%02X", $0) }.joined()
            certificates[thumbprint] = Registered(
                notValidBefore: certificate.notValidBefore, notValidAfter: certificate.notValidAfter, keys: keys)
        }
        self.certificates = certificates
        self.now = now
    }

    /// Checks a JWT; `.valid` carries the certificate thumbprint as the client and the `startLogon` as the tenant.
    public func verify(_ token: String) async -> BearerCheck {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3,
            let header = Self.jsonObject(String(parts[0])), let payload = Self.jsonObject(String(parts[1]))
        else {
            return .invalid(reason: "not a JWT")
        }
        guard header["kid"] as? String == "M2M" else { return .invalid(reason: "kid must be M2M") }
        guard let alg = header["alg"] as? String else { return .invalid(reason: "no alg") }
        guard let sub = (payload["sub"] as? String)?.uppercased(), let registered = certificates[sub] else {
            return .invalid(reason: "sub is not the thumbprint of a registered signing certificate")
        }
        guard let keys = registered.keys[alg] else {
            return .invalid(reason: "alg \(alg) does not fit the registered certificate")
        }
        let claims: M2MAssertion
        do {
            claims = try await keys.verify(token, as: M2MAssertion.self)
        } catch {
            return .invalid(reason: "signature verification failed")
        }
        let now = Int64(now().timeIntervalSince1970)
        guard claims.exp > now else { return .invalid(reason: "the JWT expired") }
        guard claims.exp - claims.iat <= Self.maximumLifetime, claims.exp > claims.iat else {
            return .invalid(reason: "exp must be after iat and at most 8 hours after it")
        }
        guard claims.iat >= Int64(registered.notValidBefore.timeIntervalSince1970),
            claims.iat < Int64(registered.notValidAfter.timeIntervalSince1970)
        else {
            return .invalid(reason: "iat is outside the signing certificate's validity")
        }
        guard claims.iat <= now + 300 else { return .invalid(reason: "iat is in the future") }
        let tenants = claims.startLogon.map { $0.isEmpty ? [] : [$0] } ?? []
        return .valid(clientID: "m2m:\(sub)", tenants: tenants, employers: [])
    }

    private struct NoCertificate: Error {}

    /// The DER bytes of the first `CERTIFICATE` block of a PEM text.
    static func firstCertificateDER(_ pem: String) throws -> [UInt8] {
        guard let begin = pem.range(of: "-----BEGIN CERTIFICATE-----"),
            let end = pem.range(of: "-----END CERTIFICATE-----", range: begin.upperBound..<pem.endIndex)
        else { throw NoCertificate() }
        let base64 = pem[begin.upperBound..<end.lowerBound].filter { !$0.isWhitespace }
        guard let data = Data(base64Encoded: String(base64)) else { throw NoCertificate() }
        return Array(data)
    }

    private static func jsonObject(_ base64URL: String) -> [String: Any]? {
        var text = base64URL.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while text.count % 4 != 0 { text += "=" }
        guard let data = Data(base64Encoded: text) else { return nil }
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
    }
}
