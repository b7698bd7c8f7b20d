import Foundation
import JWTKit
import Synchronization
import Testing

@testable import TukuGateway

/// A wall clock the test moves by hand.
final class ManualWallClock: Sendable {
    private let date: Mutex<Date>

    init(_ date: Date) { self.date = Mutex(date) }

    var now: @Sendable () -> Date { { self.date.withLock { $0 } } }

    func set(_ date: Date) { self.date.withLock { $0 = date } }
}

/// The claims as a verifier sees them.
struct VerifiedM2MClaims: JWTPayload {
    var sub: String
    var iss: String
    var startLogon: String
    var iat: Int64
    var exp: Int64

    func verify(using algorithm: some JWTAlgorithm) async throws {}
}

/// The fingerprint as openssl prints it (`sha256 Fingerprint=AB:CD:...`), colons removed, as IRD's guide script does.
func opensslThumbprint(_ certificatePath: String) throws -> String {
    let result = try Shell.run(["openssl", "x509", "-in", certificatePath, "-noout", "-fingerprint", "-sha256"])
    guard result.status == 0, let value = result.stdout.split(separator: "=", maxSplits: 1).last else {
        throw Shell.Failure(description: "openssl fingerprint failed: \(result.stderr)")
    }
    return value.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: ":", with: "")
}

/// The decoded JOSE header of a compact JWT.
func jwtHeader(_ token: String) throws -> [String: String] {
    var part = String(token.split(separator: ".")[0]).replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
    while part.count % 4 != 0 { part += "=" }
    let data = try #require(Data(base64Encoded: part))
    return try JSONDecoder().decode([String: String].self, from: data)
}

@Suite("M2M client-signed JWT")
struct M2MTokenSignerTests {
    static let issuer = "payroll.tuku.example"

    func signer(
        _ name: String, keyFile: String? = nil, startLogon: String? = nil, lifetime: Duration = .seconds(540),
        margin: Duration = .seconds(120), clock: ManualWallClock? = nil
    ) async throws -> M2MTokenSigner {
        let now: @Sendable () -> Date
        if let clock { now = clock.now } else { now = { Date() } }
        return try await M2MTokenSigner(
            signingKeyPath: TestCertificates.path(keyFile ?? "\(name).key"),
            signingCertificatePath: TestCertificates.path("\(name).pem"),
            configuration: .init(issuer: Self.issuer, startLogon: startLogon, lifetime: lifetime, refreshMargin: margin),
            now: now)
    }

    @Test("sub is the certificate's SHA-256 thumbprint in upper-case hex without colons, as openssl prints it")
    func thumbprintMatchesOpenSSL() async throws {
        for name in ["jwt-rsa", "jwt-ec"] {
            let signer = try await signer(name)
            let expected = try opensslThumbprint(TestCertificates.path("\(name).pem"))
            #expect(signer.certificateThumbprint == expected)
            #expect(signer.certificateThumbprint.count == 64)
            #expect(signer.certificateThumbprint == signer.certificateThumbprint.uppercased())
        }
    }

    @Test("RSA key: RS256 token with kid M2M, verified by jwt-kit with the certificate's public key")
    func rsaVerifiedByJWTKit() async throws {
        let signer = try await signer("jwt-rsa", startLogon: "myir-user-1")
        let token = try await signer.token()
        #expect(signer.algorithm == "RS256")

        let header = try jwtHeader(token.jwt)
        #expect(header["kid"] == "M2M")
        #expect(header["alg"] == "RS256")
        #expect(header["typ"] == "JWT")

        let verifier = JWTKeyCollection()
        await verifier.add(
            rsa: try Insecure.RSA.PublicKey(certificatePEM: TestCertificates.text("jwt-rsa.pem")), digestAlgorithm: .sha256, kid: "M2M")
        let claims = try await verifier.verify(token.jwt, as: VerifiedM2MClaims.self)
        #expect(claims.sub == signer.certificateThumbprint)
        #expect(claims.iss == Self.issuer)
        #expect(claims.startLogon == "myir-user-1")
        #expect(claims.exp - claims.iat == 540)
        #expect(Date(timeIntervalSince1970: TimeInterval(claims.iat)) == token.issuedAt)

        // A different key must not verify it: the check above is not vacuous.
        let other = JWTKeyCollection()
        await other.add(
            rsa: try Insecure.RSA.PublicKey(certificatePEM: TestCertificates.text("client.pem")), digestAlgorithm: .sha256, kid: "M2M")
        await #expect(throws: (any Error).self) { try await other.verify(token.jwt, as: VerifiedM2MClaims.self) }
    }

    @Test("EC P-256 key: ES256 token verified by jwt-kit")
    func ecVerifiedByJWTKit() async throws {
        let signer = try await signer("jwt-ec")
        let token = try await signer.token()
        #expect(signer.algorithm == "ES256")
        #expect(try jwtHeader(token.jwt)["alg"] == "ES256")
        let verifier = JWTKeyCollection()
        await verifier.add(ecdsa: try ES256PublicKey(certificate: TestCertificates.text("jwt-ec.pem")), kid: "M2M")
        let claims = try await verifier.verify(token.jwt, as: VerifiedM2MClaims.self)
        #expect(claims.sub == signer.certificateThumbprint)
        #expect(claims.startLogon == "")
    }

    @Test(
        "PyJWT verifies the signature with the certificate and computes the same thumbprint",
        arguments: [
            ("jwt-rsa", "jwt-rsa.key", "RS256"), ("jwt-rsa", "jwt-rsa-pkcs1.key", "RS256"), ("jwt-ec", "jwt-ec.key", "ES256"),
            ("jwt-ec384", "jwt-ec384.key", "ES384"),
        ])
    func verifiedByPyJWT(certificate: String, key: String, algorithm: String) async throws {
        let signer = try await signer(
            certificate, keyFile: key, startLogon: "myir-user-2", lifetime: .seconds(8 * 3600), margin: .seconds(60))
        let token = try await signer.token()
        let verdict = try PyJWTVerifier.verify(token.jwt, certificatePath: TestCertificates.path("\(certificate).pem"), issuer: Self.issuer)
        #expect(verdict.header["alg"] == algorithm)
        #expect(verdict.header["kid"] == "M2M")
        #expect(verdict.header["typ"] == "JWT")
        #expect(verdict.sub == verdict.fingerprint)
        #expect(verdict.iss == Self.issuer)
        #expect(verdict.startLogon == "myir-user-2")
        #expect(verdict.timesAreIntegers)
        #expect(verdict.exp - verdict.iat == 8 * 3600)
        #expect(verdict.exp - verdict.iat <= 8 * 3600)
    }

    @Test("PyJWT rejects a token whose payload was altered: the second verifier is not vacuous")
    func pyJWTRejectsTampering() async throws {
        let signer = try await signer("jwt-rsa")
        let token = try await signer.token().jwt
        let parts = token.split(separator: ".").map(String.init)
        let forgedPayload = Data(#"{"sub":"00","iss":"x","iat":1,"exp":99999999999}"#.utf8).base64EncodedString()
            .replacingOccurrences(of: "=", with: "").replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        let forged = [parts[0], forgedPayload, parts[2]].joined(separator: ".")
        #expect(throws: Shell.Failure.self) {
            try PyJWTVerifier.verify(forged, certificatePath: TestCertificates.path("jwt-rsa.pem"), issuer: Self.issuer)
        }
    }

    @Test("the Authorization header value is the bare JWT, without Bearer")
    func headerValue() async throws {
        let signer = try await signer("jwt-rsa")
        let value = try await signer.authorizationHeaderValue()
        #expect(!value.hasPrefix("Bearer"))
        #expect(value.split(separator: ".").count == 3)
        #expect(value == (try await signer.token()).jwt)
        #expect(M2MToken.headerName == "Authorization")
    }

    @Test("the token is cached until the refresh margin before expiry, then re-signed")
    func caching() async throws {
        let start = Date().addingTimeInterval(5).rounded()
        let clock = ManualWallClock(start)
        let signer = try await signer("jwt-rsa", lifetime: .seconds(600), margin: .seconds(60), clock: clock)

        let first = try await signer.token()
        #expect(first.issuedAt == start)
        #expect(first.expiresAt == start.addingTimeInterval(600))

        clock.set(start.addingTimeInterval(100))
        #expect(try await signer.token() == first)
        clock.set(start.addingTimeInterval(539.9))
        #expect(try await signer.token() == first)

        clock.set(start.addingTimeInterval(540))
        let second = try await signer.token()
        #expect(second != first)
        #expect(second.jwt != first.jwt)
        #expect(second.issuedAt == start.addingTimeInterval(540))

        clock.set(start.addingTimeInterval(541))
        #expect(try await signer.token() == second)

        // A wall clock that jumps back before the cached token's iat gets a new token.
        clock.set(start.addingTimeInterval(200))
        let third = try await signer.token()
        #expect(third.issuedAt == start.addingTimeInterval(200))
    }

    @Test("lifetimes over 8 hours, non-positive lifetimes, margins not below the lifetime and empty issuers are refused")
    func configurationLimits() async throws {
        let cases: [M2MTokenSigner.Configuration] = [
            .init(issuer: Self.issuer, lifetime: .seconds(8 * 3600 + 1)),
            .init(issuer: Self.issuer, lifetime: .zero),
            .init(issuer: Self.issuer, lifetime: .seconds(300), refreshMargin: .seconds(300)),
            .init(issuer: Self.issuer, lifetime: .seconds(300), refreshMargin: .seconds(-1)),
            .init(issuer: "  "),
        ]
        for configuration in cases {
            let error = await #expect(throws: AuthError.self) {
                try await M2MTokenSigner(
                    signingKeyPath: TestCertificates.path("jwt-rsa.key"), signingCertificatePath: TestCertificates.path("jwt-rsa.pem"),
                    configuration: configuration)
            }
            #expect(error?.code == .invalidConfiguration)
        }
        // Exactly 8 hours is allowed.
        _ = try await signer("jwt-rsa", lifetime: .seconds(8 * 3600))
    }

    @Test("a key that does not belong to the certificate is refused")
    func mismatchedKey() async throws {
        let error = await #expect(throws: AuthError.self) { try await self.signer("jwt-rsa", keyFile: "jwt-ec.key") }
        #expect(error?.code == .keyDoesNotMatchCertificate)
        #expect(error?.description.contains("BEGIN") == false)
    }

    @Test("no token is issued before the certificate's start date or after its expiry")
    func certificateValidity() async throws {
        let clock = ManualWallClock(Date())
        let signer = try await signer("jwt-rsa", clock: clock)
        clock.set(signer.certificateNotValidBefore.addingTimeInterval(-3600))
        let early = await #expect(throws: AuthError.self) { try await signer.token() }
        #expect(early?.code == .certificateNotYetValid)
        clock.set(signer.certificateNotValidAfter.addingTimeInterval(1))
        let late = await #expect(throws: AuthError.self) { try await signer.token() }
        #expect(late?.code == .certificateExpired)
    }

    @Test("unreadable and non-PEM inputs are reported by kind, never echoing file contents")
    func badInputs() async throws {
        let missing = await #expect(throws: AuthError.self) {
            try await M2MTokenSigner(
                signingKeyPath: "/nonexistent/jwt.key", signingCertificatePath: TestCertificates.path("jwt-rsa.pem"),
                configuration: .init(issuer: Self.issuer))
        }
        #expect(missing?.code == .invalidSigningKey)
        let keyAsCertificate = await #expect(throws: AuthError.self) {
            try await M2MTokenSigner(
                signingKeyPath: TestCertificates.path("jwt-rsa.key"), signingCertificatePath: TestCertificates.path("jwt-rsa.key"),
                configuration: .init(issuer: Self.issuer))
        }
        #expect(keyAsCertificate?.code == .invalidSigningCertificate)
        #expect(keyAsCertificate?.description.contains("MII") == false)
    }

    @Test("the one-shot sign for the CLI gives a token PyJWT accepts")
    func oneShot() async throws {
        let token = try await M2MTokenSigner.sign(
            signingKeyPath: TestCertificates.path("jwt-ec.key"), signingCertificatePath: TestCertificates.path("jwt-ec.pem"),
            issuer: Self.issuer, startLogon: nil, lifetime: .seconds(300))
        let verdict = try PyJWTVerifier.verify(token.jwt, certificatePath: TestCertificates.path("jwt-ec.pem"), issuer: Self.issuer)
        #expect(verdict.exp - verdict.iat == 300)
        #expect(verdict.startLogon == "")
        #expect(verdict.sub == verdict.fingerprint)
    }

    @Test("descriptions of tokens never show the token")
    func redaction() async throws {
        let token = try await signer("jwt-rsa").token()
        #expect(!token.description.contains(token.jwt.prefix(20)))
        let bearer = BearerToken("opaque-oauth-access-token")
        #expect(bearer.authorizationHeaderValue == "Bearer opaque-oauth-access-token")
        #expect(!bearer.description.contains("opaque"))
        #expect(BearerToken.headerName == "Authorization")
    }
}

extension Date {
    /// Rounded down to whole seconds.
    fileprivate func rounded() -> Date {
        Date(timeIntervalSince1970: self.timeIntervalSince1970.rounded(.down))
    }
}
