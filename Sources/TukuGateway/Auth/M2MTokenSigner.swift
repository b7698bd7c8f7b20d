import Crypto
import Foundation
import JWTKit
import Synchronization
import X509

/// Signs IRD's client-signed machine-to-machine JWTs and caches the current one.
///
/// The token follows the Identity and Access build pack §2.4 and IRD's "M2M JWT Authentication - How to Integrate"
/// guide:
/// - header: `alg` from the key (RS256 for RSA, ES256/ES384/ES512 for ECDSA P-256/P-384/P-521), `typ: "JWT"`,
///   `kid: "M2M"`;
/// - payload: `sub` = SHA-256 thumbprint of the signing certificate's DER encoding as upper-case hex without colons
///   (what `openssl x509 -fingerprint -sha256` prints, colons removed, as IRD's guide script does), `iss` as agreed
///   with IRD, `startLogon` (the myIR logon, or `""`), `iat`, and `exp` at most 8 hours after `iat`;
/// - sent as `Authorization: <JWT>`, without `Bearer` (see ``M2MToken/authorizationHeaderValue``).
///
/// ``token()`` returns the cached token until it is within ``Configuration/refreshMargin`` of expiry, then signs a
/// new one. Two callers racing at expiry may both sign; both tokens are valid, and the later one is kept.
public final class M2MTokenSigner: Sendable {
    /// What goes into each token and how long it lives.
    public struct Configuration: Sendable {
        /// The longest lifetime IRD accepts: `exp` must not exceed `iat` + 8 hours.
        public static let maximumLifetime: Duration = .seconds(8 * 60 * 60)

        /// The `iss` claim: the value agreed with IRD at onboarding (for example the organisation's domain).
        public var issuer: String
        /// The `startLogon` claim: the myIR logon whose delegations apply; `nil` to use the delegations of the
        /// certificate's customer (sent as `""`, as in IRD's example token). Defaults to `nil`.
        public var startLogon: String?
        /// How long each token is valid (`exp` − `iat`), in whole seconds, at most ``maximumLifetime``.
        /// Defaults to 9 minutes, the lifetime in IRD's example script.
        public var lifetime: Duration
        /// How long before expiry ``M2MTokenSigner/token()`` stops returning the cached token and signs a new one,
        /// so that a token never expires in flight. Must be less than ``lifetime``. Defaults to 2 minutes.
        public var refreshMargin: Duration

        /// Creates a configuration.
        public init(
            issuer: String, startLogon: String? = nil, lifetime: Duration = .seconds(9 * 60), refreshMargin: Duration = .seconds(2 * 60)
        ) {
            self.issuer = issuer
            self.startLogon = startLogon
            self.lifetime = lifetime
            self.refreshMargin = refreshMargin
        }
    }

    /// The `kid` header value IRD requires.
    public static let keyID = "M2M"

    /// The configuration.
    public let configuration: Configuration
    /// The JWS algorithm chosen from the key: `RS256`, `ES256`, `ES384` or `ES512`.
    public let algorithm: String
    /// The `sub` claim: the signing certificate's SHA-256 thumbprint, upper-case hex.
    public let certificateThumbprint: String
    /// The signing certificate's start date; no token is issued before it.
    public let certificateNotValidBefore: Date
    /// The signing certificate's expiry; no token is issued after it.
    public let certificateNotValidAfter: Date

    private let keys: JWTKeyCollection
    private let lifetimeSeconds: Int64
    private let now: @Sendable () -> Date
    private let cache = Mutex<M2MToken?>(nil)

    /// Creates a signer from PEM text.
    ///
    /// - Parameters:
    ///   - signingKeyPEM: The unencrypted private key (PKCS#8, PKCS#1 RSA or SEC1 EC).
    ///   - signingCertificatePEM: The signing certificate registered with IRD (the first certificate is used).
    ///   - configuration: Claims and lifetime.
    ///   - now: The wall clock (tokens carry Unix times). Defaults to the system clock.
    /// - Throws: ``AuthError`` when a PEM is unusable, the key does not match the certificate, the key type is not
    ///   one IRD accepts, or the configuration is out of range.
    public init(
        signingKeyPEM: String,
        signingCertificatePEM: String,
        configuration: Configuration,
        now: @escaping @Sendable () -> Date = { Date() }
    ) async throws(AuthError) {
        self.lifetimeSeconds = try Self.validate(configuration)
        let certificateDER = try Self.firstCertificateDER(signingCertificatePEM)
        let certificate: Certificate
        do {
            certificate = try Certificate(derEncoded: certificateDER)
        } catch {
            throw AuthError(.invalidSigningCertificate, "the signing certificate cannot be parsed", underlying: error)
        }
        if signingKeyPEM.contains("ENCRYPTED") {
            throw AuthError(.invalidSigningKey, "the signing key is encrypted; give an unencrypted PEM key")
        }
        let privateKey: Certificate.PrivateKey
        do {
            privateKey = try Certificate.PrivateKey(pemEncoded: signingKeyPEM)
        } catch {
            throw AuthError(.invalidSigningKey, "the signing key is not a PEM private key of a supported kind", underlying: error)
        }
        guard privateKey.publicKey == certificate.publicKey else {
            throw AuthError(.keyDoesNotMatchCertificate, "the signing key does not belong to the signing certificate")
        }

        let keys = JWTKeyCollection()
        let kid = JWKIdentifier(string: Self.keyID)
        do {
            if P256.Signing.PublicKey(certificate.publicKey) != nil {
                await keys.add(ecdsa: try ES256PrivateKey(pem: signingKeyPEM), kid: kid)
                self.algorithm = "ES256"
            } else if P384.Signing.PublicKey(certificate.publicKey) != nil {
                await keys.add(ecdsa: try ES384PrivateKey(pem: signingKeyPEM), kid: kid)
                self.algorithm = "ES384"
            } else if P521.Signing.PublicKey(certificate.publicKey) != nil {
                await keys.add(ecdsa: try ES512PrivateKey(pem: signingKeyPEM), kid: kid)
                self.algorithm = "ES512"
            } else {
                await keys.add(rsa: try Insecure.RSA.PrivateKey(pem: signingKeyPEM), digestAlgorithm: .sha256, kid: kid)
                self.algorithm = "RS256"
            }
        } catch {
            throw AuthError(
                .unsupportedKeyType, "the signing key must be RSA (2048 bits or more) or ECDSA P-256, P-384 or P-521",
                underlying: error)
        }

        self.configuration = configuration
        self.certificateThumbprint = Self.thumbprint(certificateDER: certificateDER)
        self.certificateNotValidBefore = certificate.notValidBefore
        self.certificateNotValidAfter = certificate.notValidAfter
        self.keys = keys
        self.now = now
    }

    /// Creates a signer from PEM files.
    ///
    /// - Parameters:
    ///   - signingKeyPath: The unencrypted private key PEM file.
    ///   - signingCertificatePath: The signing certificate PEM file registered with IRD.
    ///   - configuration: Claims and lifetime.
    ///   - now: The wall clock. Defaults to the system clock.
    /// - Throws: ``AuthError`` as ``init(signingKeyPEM:signingCertificatePEM:configuration:now:)`` does, and when a
    ///   file cannot be read.
    public convenience init(
        signingKeyPath: String,
        signingCertificatePath: String,
        configuration: Configuration,
        now: @escaping @Sendable () -> Date = { Date() }
    ) async throws(AuthError) {
        let key = try Self.readText(signingKeyPath, code: .invalidSigningKey, what: "signing key")
        let certificate = try Self.readText(signingCertificatePath, code: .invalidSigningCertificate, what: "signing certificate")
        try await self.init(signingKeyPEM: key, signingCertificatePEM: certificate, configuration: configuration, now: now)
    }

    /// The current token: the cached one while it is more than ``Configuration/refreshMargin`` from expiry, otherwise
    /// a newly signed one (which is then cached).
    public func token() async throws(AuthError) -> M2MToken {
        let now = self.now()
        let margin = self.configuration.refreshMargin
        if let cached = self.cache.withLock({ $0 }), cached.isUsable(at: now, margin: margin) {
            return cached
        }
        let fresh = try await self.sign(at: now)
        return self.cache.withLock { cached in
            if let current = cached, current.expiresAt > fresh.expiresAt, current.isUsable(at: now, margin: margin) {
                return current
            }
            cached = fresh
            return fresh
        }
    }

    /// The `Authorization` header value for the current token (the JWT itself, no `Bearer`).
    public func authorizationHeaderValue() async throws(AuthError) -> String {
        try await self.token().authorizationHeaderValue
    }

    /// Signs a new token issued at `date` (rounded down to whole seconds), bypassing the cache.
    ///
    /// - Throws: ``AuthError/Code/certificateNotYetValid`` when `date` precedes the certificate's start date,
    ///   ``AuthError/Code/certificateExpired`` when it is past its expiry, ``AuthError/Code/signingFailed``.
    public func sign(at date: Date) async throws(AuthError) -> M2MToken {
        let iat = Int64(date.timeIntervalSince1970.rounded(.down))
        let issuedAt = Date(timeIntervalSince1970: TimeInterval(iat))
        guard issuedAt >= self.certificateNotValidBefore else {
            throw AuthError(.certificateNotYetValid, "the signing certificate is not valid before \(self.certificateNotValidBefore)")
        }
        guard issuedAt < self.certificateNotValidAfter else {
            throw AuthError(.certificateExpired, "the signing certificate expired at \(self.certificateNotValidAfter)")
        }
        let exp = iat + self.lifetimeSeconds
        let claims = M2MClaims(
            sub: self.certificateThumbprint,
            iss: self.configuration.issuer,
            startLogon: self.configuration.startLogon ?? "",
            iat: iat,
            exp: exp
        )
        var header = JWTHeader()
        header.typ = "JWT"
        let jwt: String
        do {
            jwt = try await self.keys.sign(claims, kid: JWKIdentifier(string: Self.keyID), header: header)
        } catch {
            throw AuthError(.signingFailed, "the token could not be signed", underlying: error)
        }
        return M2MToken(jwt: jwt, issuedAt: issuedAt, expiresAt: Date(timeIntervalSince1970: TimeInterval(exp)))
    }

    /// Signs one token from PEM files, for the `tuku auth m2m-jwt` command.
    ///
    /// - Parameters:
    ///   - signingKeyPath: The unencrypted private key PEM file.
    ///   - signingCertificatePath: The signing certificate PEM file registered with IRD.
    ///   - issuer: The `iss` claim.
    ///   - startLogon: The `startLogon` claim, or `nil`.
    ///   - lifetime: `exp` − `iat`; at most 8 hours. Defaults to 9 minutes.
    ///   - now: The issue time. Defaults to now.
    public static func sign(
        signingKeyPath: String,
        signingCertificatePath: String,
        issuer: String,
        startLogon: String? = nil,
        lifetime: Duration = .seconds(9 * 60),
        now: Date = Date()
    ) async throws(AuthError) -> M2MToken {
        let configuration = Configuration(issuer: issuer, startLogon: startLogon, lifetime: lifetime, refreshMargin: .zero)
        let signer = try await M2MTokenSigner(
            signingKeyPath: signingKeyPath, signingCertificatePath: signingCertificatePath, configuration: configuration)
        return try await signer.sign(at: now)
    }

    /// The SHA-256 thumbprint of a certificate's DER encoding as IRD wants it in `sub`: 64 upper-case hex digits, no
    /// colons (IRD's guide: `openssl x509 -fingerprint -sha256`, colons deleted; its example
    /// `01B976835ECD5F58D5DE4AB89B827A99962CC4C50FCEE86E6352F536C5E4DACC`).
    public static func thumbprint(certificateDER: [UInt8]) -> String {
        let digits = Array("0123456789ABCDEF".utf8)
        var hex = [UInt8]()
        hex.reserveCapacity(64)
        for byte in SHA256.hash(data: certificateDER) {
            hex.append(digits[Int(byte >> 4)])
            hex.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: hex, as: UTF8.self)
    }

    private static func validate(_ configuration: Configuration) throws(AuthError) -> Int64 {
        guard !configuration.issuer.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw AuthError(.invalidConfiguration, "the issuer (iss) must not be empty")
        }
        let seconds = configuration.lifetime.components.seconds
        guard configuration.lifetime <= Configuration.maximumLifetime else {
            throw AuthError(.invalidConfiguration, "the token lifetime must not exceed 8 hours (IRD's limit)")
        }
        guard seconds >= 1 else {
            throw AuthError(.invalidConfiguration, "the token lifetime must be at least one second")
        }
        guard configuration.refreshMargin >= .zero, configuration.refreshMargin < .seconds(seconds) else {
            throw AuthError(.invalidConfiguration, "the refresh margin must be at least zero and less than the token lifetime")
        }
        return seconds
    }

    /// The DER bytes of the first `CERTIFICATE` block in a PEM text.
    private static func firstCertificateDER(_ pem: String) throws(AuthError) -> [UInt8] {
        let begin = "-----BEGIN CERTIFICATE-----"
        let end = "-----END CERTIFICATE-----"
        guard let start = pem.range(of: begin), let stop = pem.range(of: end, range: start.upperBound..<pem.endIndex),
            let der = Data(base64Encoded: String(pem[start.upperBound..<stop.lowerBound]), options: .ignoreUnknownCharacters),
            !der.isEmpty
        else {
            throw AuthError(.invalidSigningCertificate, "the signing certificate is not a PEM certificate")
        }
        return Array(der)
    }

    private static func readText(_ path: String, code: AuthError.Code, what: String) throws(AuthError) -> String {
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw AuthError(code, "the \(what) \(path) does not exist or is not readable")
        }
        do {
            return try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw AuthError(code, "the \(what) \(path) cannot be read as text", underlying: error)
        }
    }
}
