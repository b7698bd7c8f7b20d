import AsyncHTTPClient
import Crypto
import Foundation
import NIOSSL
import Testing
import TukuCore
import TukuFiling
import TukuGateway
import TukuPostgres
import TukuSandbox

@Suite("Sandbox: OAuth and M2M")
struct SandboxOAuthTests {
    /// Tuku's OAuth client for the sandbox's token endpoint, as the registered client.
    private func tokenClient(_ sandbox: Sandbox) -> OAuthTokenClient {
        OAuthTokenClient(
            tokenURL: "https://127.0.0.1:\(sandbox.addresses.oneWayTLSPort)/oauth/token", clientID: Sandbox.clientID,
            clientSecret: Secret(Sandbox.clientSecret), transport: sandbox.oneWayTLS, logger: Sandbox.quietLogger)
    }

    /// Follows `GET /oauth/authorize` by hand and returns the code from the redirect.
    private func authorize(_ sandbox: Sandbox, query extra: String = "") async throws -> String {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .file(sandbox.certificates.path("ca.pem"))
        let client = HTTPClient(configuration: .init(tlsConfiguration: tls, redirectConfiguration: .disallow))
        do {
            let url =
                "https://127.0.0.1:\(sandbox.addresses.oneWayTLSPort)/oauth/authorize?response_type=code&client_id=\(Sandbox.clientID)"
                + "&redirect_uri=\(Sandbox.redirectURI.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)&scope=MYIR.Services&state=xyz" + extra
            let response = try await client.execute(HTTPClientRequest(url: url), timeout: .seconds(10))
            try await client.shutdown()
            #expect(response.status == .found)
            let location = try #require(response.headers.first(name: "Location"))
            #expect(location.hasPrefix(Sandbox.redirectURI + "?code="))
            #expect(location.hasSuffix("&state=xyz"))
            let components = try #require(URLComponents(string: location))
            return try #require(components.queryItems?.first { $0.name == "code" }?.value)
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    @Test("authorization code, then refresh rotates the refresh token; reusing a spent one revokes the whole family")
    func rotationAndFamilyRevocation() async throws {
        try await Sandbox.run { sandbox in
            let tokens = tokenClient(sandbox)
            let verifier = String(repeating: "k", count: 43) + "~._-" + String(repeating: "9", count: 20)
            let challenge = Data(SHA256.hash(data: Data(verifier.utf8))).base64EncodedString()
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
            let code = try await authorize(sandbox, query: "&code_challenge=\(challenge)&code_challenge_method=S256")
            let first = try await tokens.exchange(code: Secret(code), redirectURI: Sandbox.redirectURI, codeVerifier: Secret(verifier))
            #expect(first.expiresAt.timeIntervalSinceNow > 8 * 3600 - 60)
            // The code is single use.
            await #expect(throws: TokenError.self) {
                _ = try await tokens.exchange(code: Secret(code), redirectURI: Sandbox.redirectURI, codeVerifier: Secret(verifier))
            }

            let file = try sandbox.envelope("ird.ei.status", "by-payday")
            #expect(try await sandbox.result(file, token: first.accessToken.value).firstError?.statusCode == 103)  // authenticated; no return held

            let firstRefresh = try #require(first.refreshToken)
            let second = try await tokens.refresh(firstRefresh)
            let secondRefresh = try #require(second.refreshToken)
            #expect(secondRefresh != firstRefresh)
            #expect(second.accessToken != first.accessToken)
            #expect(try await sandbox.result(file, token: second.accessToken.value).firstError?.statusCode == 103)  // authenticated; no return held

            // Reuse of the spent refresh token: refused, and the family (every access and refresh token) is revoked.
            await #expect(throws: TokenError.self) { _ = try await tokens.refresh(firstRefresh) }
            #expect(try await sandbox.result(file, token: second.accessToken.value).firstError?.statusCode == 1)
            #expect(try await sandbox.result(file, token: first.accessToken.value).firstError?.statusCode == 1)
            await #expect(throws: TokenError.self) { _ = try await tokens.refresh(secondRefresh) }

            // Other families are untouched.
            #expect(try await sandbox.result(file, token: sandbox.grant().access).firstError?.statusCode == 103)  // authenticated; no return held

            let wrongSecret = OAuthTokenClient(
                tokenURL: tokens.tokenURL, clientID: Sandbox.clientID, clientSecret: Secret("wrong"),
                transport: sandbox.oneWayTLS, logger: Sandbox.quietLogger)
            await #expect(throws: TokenError.self) { _ = try await wrongSecret.refresh(Secret("anything")) }
        }
    }

    @Test("a logon consented for some employers may act for those only: any other is IRD status 3, also after a refresh")
    func employerConsent() async throws {
        try await Sandbox.run { sandbox in
            let tokens = tokenClient(sandbox)
            let code = try await authorize(sandbox, query: "&employer=49-091-850")
            let first = try await tokens.exchange(code: Secret(code), redirectURI: Sandbox.redirectURI)
            let own = try sandbox.envelope("ird.ei.status", "by-payday")  // employer 49-091-850
            let other = try sandbox.envelope("ird.ei.file", "deductions")  // employer 123-041-607
            #expect(try await sandbox.result(own, token: first.accessToken.value).firstError?.statusCode == 103)  // authenticated; no return held
            let refused = try await sandbox.result(other, token: first.accessToken.value)
            #expect(refused.firstError?.statusCode == 3)
            #expect(sandbox.server.router.filings.count == 0)

            let second = try await tokens.refresh(try #require(first.refreshToken))
            #expect(try await sandbox.result(other, token: second.accessToken.value).firstError?.statusCode == 3)
            #expect(try await sandbox.result(own, token: second.accessToken.value).firstError?.statusCode == 103)  // authenticated; no return held
            // A token granted without naming employers may act for any.
            #expect(try await sandbox.result(other, token: sandbox.grant().access).isSuccess)
        }
    }

    @Test("an M2M JWT signed with a registered certificate is accepted without Bearer; others are code 1")
    func m2mTokens() async throws {
        let certificates = try TestCertificates.shared.get()
        try await Sandbox.run({
            $0.m2mCertificatePaths = [certificates.path("jwt-rsa.pem")]
            $0.acceptsM2MOnPaydayFiling = true  // the M2M verifier under test; payday filing refuses M2M by default
        }) { sandbox in
            let registered = try await M2MTokenSigner(
                signingKeyPath: certificates.path("jwt-rsa.key"), signingCertificatePath: certificates.path("jwt-rsa.pem"),
                configuration: .init(issuer: "tuku.test"))
            let unregistered = try await M2MTokenSigner(
                signingKeyPath: certificates.path("jwt-ec.key"), signingCertificatePath: certificates.path("jwt-ec.pem"),
                configuration: .init(issuer: "tuku.test"))
            let envelope = try sandbox.envelope("ird.ei.status", "by-payday")
            func statusCode(_ authorization: String, listener: SandboxListener = .mutualTLS) async throws -> Int? {
                let response = try await sandbox.send(envelope, authorization: authorization, listener: listener)
                guard case .result(let result) = try GatewayResponseParser.parse(Data(response.bodyBytes)).content else { return nil }
                return result.firstError?.statusCode ?? 0
            }
            #expect(try await statusCode(registered.authorizationHeaderValue()) == 103)  // authenticated; no return held
            #expect(try await statusCode(unregistered.authorizationHeaderValue()) == 1)
            // Exactly 8 hours is the longest lifetime IRD allows.
            let eightHours = try await M2MTokenSigner(
                signingKeyPath: certificates.path("jwt-rsa.key"), signingCertificatePath: certificates.path("jwt-rsa.pem"),
                configuration: .init(issuer: "tuku.test", lifetime: .seconds(8 * 3600)))
            #expect(try await statusCode(eightHours.authorizationHeaderValue()) == 103)
            let token = try await registered.authorizationHeaderValue()
            let tampered = String(token.dropLast(4)) + (token.hasSuffix("AAAA") ? "BBBB" : "AAAA")
            #expect(try await statusCode(tampered) == 1)
            // M2M is for the mutual-TLS endpoint only.
            #expect(try await statusCode(token, listener: .oneWayTLS) == 1)
        }
    }
}
