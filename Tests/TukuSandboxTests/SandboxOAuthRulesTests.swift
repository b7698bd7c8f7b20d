import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import Testing
import TukuCore
import TukuFiling
import TukuGateway
import TukuPostgres
import TukuSandbox

/// One answer from an OAuth route: the HTTP status, the JSON body (empty when there is none) and a redirect.
private struct OAuthAnswer {
    var status: Int
    var json: [String: Any]
    var body: String
    var location: String?

    var error: String? { json["error"] as? String }
    var description: String? { json["error_description"] as? String }

    /// The query parameters of the redirect, form-decoded (`+` is a space, as in IRD's `Invalid+scope+requested`).
    var redirect: [String: String] {
        guard let location, let query = location.split(separator: "?", maxSplits: 1).dropFirst().first else { return [:] }
        let items = SandboxRequest.formItems(String(query))
        return Dictionary(items, uniquingKeysWith: { first, _ in first })
    }
}

/// Raw calls to the sandbox's OAuth routes, to break them on purpose.
private struct OAuthProbe {
    static let otherClientID = "other-client"
    static let otherSecret = "other-secret"
    static let desktopClientID = "desktop-app"
    static let desktopSecret = "desktop-secret"
    static let desktopRedirect = "http://127.0.0.1:8765/callback"

    let sandbox: Sandbox

    var base: String { "https://127.0.0.1:\(sandbox.addresses.oneWayTLSPort)" }

    static func basic(_ id: String = Sandbox.clientID, _ secret: String = Sandbox.clientSecret) -> String {
        "Basic " + Data("\(id):\(secret)".utf8).base64EncodedString()
    }

    static func encode(_ text: String) -> String {
        var allowed = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    /// `GET /oauth/authorize` with exactly these parameters (values percent-encoded here).
    func authorize(_ parameters: [(String, String)]) async throws -> OAuthAnswer {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .file(sandbox.certificates.path("ca.pem"))
        let client = HTTPClient(configuration: .init(tlsConfiguration: tls, redirectConfiguration: .disallow))
        do {
            let query = parameters.map { "\($0.0)=\(Self.encode($0.1))" }.joined(separator: "&")
            let response = try await client.execute(HTTPClientRequest(url: "\(base)/oauth/authorize?\(query)"), timeout: .seconds(10))
            let body = try await response.body.collect(upTo: 1 << 20)
            try await client.shutdown()
            let text = String(buffer: body)
            return OAuthAnswer(
                status: Int(response.status.code),
                json: (try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]) ?? [:], body: text,
                location: response.headers.first(name: "Location"))
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    /// The usual authorization request, with `changes` applied (a `nil` value drops the parameter).
    func authorize(
        clientID: String = Sandbox.clientID, redirectURI: String = Sandbox.redirectURI, _ changes: [String: String?] = [:]
    ) async throws -> OAuthAnswer {
        var parameters: [(String, String)] = [
            ("response_type", "code"), ("client_id", clientID), ("redirect_uri", redirectURI), ("scope", "MYIR.Services"),
            ("state", "xyz"),
        ]
        for (name, value) in changes.sorted(by: { $0.key < $1.key }) {
            parameters.removeAll { $0.0 == name }
            if let value { parameters.append((name, value)) }
        }
        return try await authorize(parameters)
    }

    /// A code for the usual request with `changes`.
    func code(
        clientID: String = Sandbox.clientID, redirectURI: String = Sandbox.redirectURI, _ changes: [String: String?] = [:]
    ) async throws -> String {
        let answer = try await authorize(clientID: clientID, redirectURI: redirectURI, changes)
        try #require(answer.status == 302, "authorize answered \(answer.status) \(answer.body)")
        return try #require(answer.redirect["code"])
    }

    /// `POST /oauth/<endpoint>` with a form body.
    func post(
        _ endpoint: String, _ form: [(String, String)], authorization: String? = basic(),
        contentType: String? = "application/x-www-form-urlencoded;charset=UTF-8"
    ) async throws -> OAuthAnswer {
        var headers = HTTPHeaders()
        if let contentType { headers.add(name: "Content-Type", value: contentType) }
        if let authorization { headers.add(name: "Authorization", value: authorization) }
        let body = form.map { "\($0.0)=\(Self.encode($0.1))" }.joined(separator: "&")
        let response = try await sandbox.oneWayTLS.post(url: "\(base)/oauth/\(endpoint)", body: Array(body.utf8), headers: headers)
        return OAuthAnswer(
            status: Int(response.status.code),
            json: (try? JSONSerialization.jsonObject(with: Data(response.bodyBytes)) as? [String: Any]) ?? [:],
            body: response.bodyText, location: nil)
    }

    /// Exchanges a code; the JSON answer.
    func exchange(
        _ code: String, redirectURI: String = Sandbox.redirectURI, verifier: String? = nil, authorization: String = basic()
    ) async throws -> OAuthAnswer {
        var form = [("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirectURI)]
        if let verifier { form.append(("code_verifier", verifier)) }
        return try await post("token", form, authorization: authorization)
    }

    static func challenge(_ verifier: String) -> String {
        Data(SHA256.hash(data: Data(verifier.utf8))).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// Runs `body` with a sandbox that also registers a second cloud client and a native (desktop) client.
    static func run(
        _ configure: @escaping (inout SandboxServer.Configuration) -> Void = { _ in }, _ body: (OAuthProbe) async throws -> Void
    ) async throws {
        try await Sandbox.run({ configuration in
            configuration.oauth.clients += [
                RegisteredClient(id: otherClientID, secret: otherSecret, redirectURIs: ["https://other.example/return"]),
                RegisteredClient(id: desktopClientID, secret: desktopSecret, kind: .native, redirectURIs: [desktopRedirect]),
            ]
            configure(&configuration)
        }) { sandbox in
            try await body(OAuthProbe(sandbox: sandbox))
        }
    }
}

@Suite("Sandbox: OAuth held to IRD's Identity and Access build pack")
struct SandboxOAuthRulesTests {
    @Test("authorize refuses a missing or wrong response_type, client_id or redirect_uri with IRD's JSON errors and statuses")
    func authorizeRequestErrors() async throws {
        try await OAuthProbe.run { probe in
            var answer = try await probe.authorize(["response_type": nil])
            #expect(answer.status == 400 && answer.error == "invalid_request")
            #expect(answer.description == "Invalid request format. Missing parameter: response_type")
            answer = try await probe.authorize(["response_type": "token"])
            #expect(answer.status == 400 && answer.description == "Invalid response_type. Response type must be 'code'")
            answer = try await probe.authorize(["client_id": nil])
            #expect(answer.status == 400 && answer.description == "Invalid request format. Missing parameter: client_id")
            answer = try await probe.authorize(clientID: "nobody")
            #expect(answer.status == 401 && answer.error == "invalid_client" && answer.description == "Client is invalid.")
            answer = try await probe.authorize(["redirect_uri": nil])
            #expect(answer.status == 400 && answer.description == "Invalid request format. Missing parameter: redirect_uri")
            #expect(answer.location == nil)
        }
    }

    @Test("a redirect_uri not registered for the client is refused, for every client, without redirecting there")
    func unregisteredRedirectURI() async throws {
        try await OAuthProbe.run { probe in
            for uri in ["https://attacker.example/steal", Sandbox.redirectURI + "/", "https://other.example/return", "http://localhost/callback"] {
                let answer = try await probe.authorize(redirectURI: uri)
                #expect(answer.status == 400, "\(uri)")
                #expect(answer.error == "invalid_request")
                #expect(answer.description == "Invalid redirect_uri. Provided redirect_uri (\(uri)) is not configured for this client.")
                #expect(answer.location == nil)
            }
            // The other client's own URI works for it, and the desktop client's loopback URI (with its port) for it.
            #expect(try await probe.authorize(clientID: OAuthProbe.otherClientID, redirectURI: "https://other.example/return").status == 302)
            #expect(try await probe.authorize(clientID: OAuthProbe.desktopClientID, redirectURI: OAuthProbe.desktopRedirect).status == 302)
            // IRD does not accept any port on a loopback URI (§2.2).
            let otherPort = try await probe.authorize(clientID: OAuthProbe.desktopClientID, redirectURI: "http://127.0.0.1:8766/callback")
            #expect(otherPort.status == 400)
        }
    }

    @Test("a client registered without redirect URIs cannot use authorize at all")
    func clientWithoutRedirectURIs() async throws {
        try await OAuthProbe.run({ $0.oauth.clients.append(RegisteredClient(id: "grant-only", secret: "s")) }) { probe in
            let answer = try await probe.authorize(clientID: "grant-only", redirectURI: "https://anything.example/")
            #expect(answer.status == 400 && answer.error == "invalid_request")
        }
    }

    @Test("scope: missing is a 400 JSON error; anything but MYIR.Services redirects with invalid_scope and the state")
    func scope() async throws {
        try await OAuthProbe.run { probe in
            let missing = try await probe.authorize(["scope": nil])
            #expect(missing.status == 400 && missing.description == "Invalid request format. Missing parameter: scope")
            for scope in ["GWS", "MYIR.Services openid", "myir.services"] {
                let answer = try await probe.authorize(["scope": scope])
                #expect(answer.status == 302, "\(scope)")
                #expect(answer.location?.hasPrefix(Sandbox.redirectURI + "?error=invalid_scope") == true)
                #expect(answer.redirect["error_description"] == "Invalid scope requested")
                #expect(answer.redirect["state"] == "xyz")
                #expect(answer.redirect["code"] == nil)
            }
        }
    }

    @Test("state: under 200 characters of IRD's set is echoed; 200 or more, a space or another character is refused; none is allowed")
    func state() async throws {
        try await OAuthProbe.run { probe in
            let longest = String(repeating: "a", count: 190) + "-.?,:/\\+="
            #expect(longest.count == 199)
            let accepted = try await probe.authorize(["state": longest])
            #expect(accepted.status == 302)
            #expect(accepted.redirect["state"] == longest)
            #expect(accepted.redirect["code"] != nil)
            #expect(try await probe.authorize(["state": "$#" + String(repeating: "Z9", count: 5)]).redirect["state"] == "$#Z9Z9Z9Z9Z9")

            for bad in [String(repeating: "a", count: 200), "two words", "under_score", "<script>", "tilde~", "ü"] {
                let answer = try await probe.authorize(["state": bad])
                #expect(answer.status == 400, "\(bad)")
                #expect(answer.error == "invalid_request")
                #expect(answer.location == nil)
            }
            // IRD: optional, but recommended. Without one the redirect carries none.
            let none = try await probe.authorize(["state": nil])
            #expect(none.status == 302)
            #expect(none.redirect["code"] != nil)
            #expect(none.redirect["state"] == nil)
        }
    }

    @Test("PKCE: S256 with the right verifier succeeds; a wrong or missing verifier fails and spends the code; plain is refused")
    func pkce() async throws {
        try await OAuthProbe.run { probe in
            let verifier = String(repeating: "v", count: 20) + "-._~" + String(repeating: "0", count: 30)
            let challenge = OAuthProbe.challenge(verifier)
            let s256: [String: String?] = ["code_challenge": challenge, "code_challenge_method": "S256"]

            let good = try await probe.exchange(try await probe.code(s256), verifier: verifier)
            #expect(good.status == 200)
            #expect(good.json["access_token"] is String)

            let code = try await probe.code(s256)
            let wrong = try await probe.exchange(code, verifier: String(repeating: "w", count: 54))
            #expect(wrong.status == 401 && wrong.error == "invalid_grant")
            // The code was spent by the failed attempt.
            let retried = try await probe.exchange(code, verifier: verifier)
            #expect(retried.status == 401 && retried.description == "Invalid authorization code.")

            let missing = try await probe.exchange(try await probe.code(s256))
            #expect(missing.status == 401 && missing.error == "invalid_grant")
            // Too short to be a verifier, even if its hash were right.
            let short = "abc"
            let tooShort = try await probe.exchange(
                try await probe.code(["code_challenge": OAuthProbe.challenge(short), "code_challenge_method": "S256"]), verifier: short)
            #expect(tooShort.status == 401)

            for changes: [String: String?] in [
                ["code_challenge": verifier, "code_challenge_method": "plain"], ["code_challenge": challenge],
                ["code_challenge_method": "S256"], ["code_challenge": "too-short", "code_challenge_method": "S256"],
            ] {
                let refused = try await probe.authorize(changes)
                #expect(refused.status == 302, "\(changes)")
                #expect(refused.redirect["error"] == "invalid_request", "\(changes)")
                #expect(refused.redirect["code"] == nil)
                #expect(refused.redirect["state"] == "xyz")
            }
        }
    }

    @Test("consent=deny (sandbox extension) redirects with access_denied and the state, as IRD's Deny button does")
    func consentDenied() async throws {
        try await OAuthProbe.run { probe in
            let answer = try await probe.authorize(["consent": "deny"])
            #expect(answer.status == 302)
            #expect(answer.redirect["error"] == "access_denied")
            #expect(answer.redirect["state"] == "xyz")
            #expect(answer.redirect["code"] == nil)
        }
    }

    @Test("token endpoint: client authentication, grant_type, code, redirect_uri and content type errors with IRD's codes and statuses")
    func tokenErrors() async throws {
        try await OAuthProbe.run { probe in
            let code = try await probe.code()
            let form = [("grant_type", "authorization_code"), ("code", code), ("redirect_uri", Sandbox.redirectURI)]
            var answer = try await probe.post("token", form, authorization: nil)
            #expect(answer.status == 400 && answer.error == "invalid_request")
            #expect(answer.description?.hasPrefix("This API requires authentication") == true)
            answer = try await probe.post("token", form, authorization: "Bearer something")
            #expect(answer.status == 400 && answer.description == "Invalid authorization header.")
            answer = try await probe.post("token", form, authorization: "Basic !!!")
            #expect(answer.status == 400 && answer.description == "Invalid authorization header.")
            answer = try await probe.post("token", form, authorization: OAuthProbe.basic(Sandbox.clientID, "wrong"))
            #expect(answer.status == 401 && answer.error == "invalid_client")
            #expect(answer.description == "The provided secret or assertion are not valid for this client.")
            answer = try await probe.post("token", form, authorization: OAuthProbe.basic("nobody", "x"))
            #expect(answer.status == 401 && answer.description == "Client is invalid.")
            answer = try await probe.post("token", form, contentType: "application/json")
            #expect(answer.status == 400 && answer.error == "invalid_request")
            answer = try await probe.post("token", form, contentType: nil)
            #expect(answer.status == 400 && answer.error == "invalid_request")
            answer = try await probe.post("token", Array(form.dropFirst()))
            #expect(answer.status == 400 && answer.description == "Invalid request format. Missing parameter: grant_type")
            answer = try await probe.post("token", [("grant_type", "password")] + form.dropFirst())
            #expect(answer.status == 400 && answer.error == "unsupported_grant_type")
            answer = try await probe.post("token", [form[0], form[2]])
            #expect(answer.status == 400 && answer.description == "Invalid request format. Missing parameter: code")
            answer = try await probe.post("token", [form[0], form[1]])
            #expect(answer.status == 400 && answer.description == "Invalid request format. Missing parameter: redirect_uri")
            // None of those spent the code; a mismatched redirect_uri does.
            answer = try await probe.exchange(code, redirectURI: "https://localhost/other")
            #expect(answer.status == 401 && answer.error == "invalid_grant")
            #expect(answer.description == "Invalid redirect_uri. Value does not match the authorization request.")
            answer = try await probe.exchange(code)
            #expect(answer.status == 401 && answer.description == "Invalid authorization code.")

            // Credentials in the form are allowed, but not together with Basic (RFC 6749 §2.3).
            let second = try await probe.code()
            let withForm = form.dropLast(2) + [("code", second), ("redirect_uri", Sandbox.redirectURI)]
            answer = try await probe.post(
                "token", withForm + [("client_id", Sandbox.clientID), ("client_secret", Sandbox.clientSecret)])
            #expect(answer.status == 400 && answer.description == "Invalid authorization header.")
            answer = try await probe.post(
                "token", withForm + [("client_id", Sandbox.clientID), ("client_secret", Sandbox.clientSecret)], authorization: nil)
            #expect(answer.status == 200)

            // Another client cannot redeem this client's code.
            let third = try await probe.code()
            answer = try await probe.exchange(third, authorization: OAuthProbe.basic(OAuthProbe.otherClientID, OAuthProbe.otherSecret))
            #expect(answer.status == 401 && answer.description == "Invalid authorization code.")

            // A refresh token that was never issued.
            answer = try await probe.post("token", [("grant_type", "refresh_token"), ("refresh_token", "made-up")])
            #expect(answer.status == 401 && answer.error == "invalid_grant" && answer.description == "Refresh token is invalid.")
        }
    }

    @Test("an authorization code expires (IRD: 10 minutes)")
    func codeExpires() async throws {
        try await OAuthProbe.run({ $0.oauth.authorizationCodeLifetime = .milliseconds(300) }) { probe in
            let code = try await probe.code()
            try await Task.sleep(for: .milliseconds(400))
            let answer = try await probe.exchange(code)
            #expect(answer.status == 401 && answer.description == "The authorization code has expired.")
        }
    }

    @Test("a desktop (native) client gets no refresh token, from the token endpoint or /sandbox/grant, and may not refresh")
    func desktopClientGetsNoRefreshToken() async throws {
        try await OAuthProbe.run { probe in
            let basic = OAuthProbe.basic(OAuthProbe.desktopClientID, OAuthProbe.desktopSecret)
            let code = try await probe.code(clientID: OAuthProbe.desktopClientID, redirectURI: OAuthProbe.desktopRedirect)
            let answer = try await probe.exchange(code, redirectURI: OAuthProbe.desktopRedirect, authorization: basic)
            #expect(answer.status == 200)
            #expect(answer.json["access_token"] is String)
            #expect(answer.json["refresh_token"] == nil)
            #expect(answer.json["scope"] as? String == "MYIR.Services")
            let refused = try await probe.post("token", [("grant_type", "refresh_token"), ("refresh_token", "x")], authorization: basic)
            #expect(refused.status == 400 && refused.error == "unauthorized_client")

            // Tuku's own client stores such a set without a refresh token.
            let tokens = OAuthTokenClient(
                tokenURL: "\(probe.base)/oauth/token", clientID: OAuthProbe.desktopClientID, clientSecret: Secret(OAuthProbe.desktopSecret),
                transport: probe.sandbox.oneWayTLS, logger: Sandbox.quietLogger)
            let second = try await probe.code(clientID: OAuthProbe.desktopClientID, redirectURI: OAuthProbe.desktopRedirect)
            let set = try await tokens.exchange(code: Secret(second), redirectURI: OAuthProbe.desktopRedirect)
            #expect(set.refreshToken == nil)
            let envelope = try probe.sandbox.envelope("ird.ei.status", "by-payday")
            #expect(try await probe.sandbox.result(envelope, token: set.accessToken.value, listener: .oneWayTLS).wasAuthenticated)

            let granted = probe.sandbox.server.router.oauth.grant(clientID: OAuthProbe.desktopClientID, tenants: ["t"])
            #expect(granted.status == 200)
            #expect(!granted.json.contains("refresh_token"))
        }
    }

    @Test("introspect: active with IRD's fields for a current access or refresh token of the caller, inactive otherwise")
    func introspect() async throws {
        try await OAuthProbe.run { probe in
            let set = try await probe.exchange(try await probe.code())
            let access = try #require(set.json["access_token"] as? String)
            let refresh = try #require(set.json["refresh_token"] as? String)

            let active = try await probe.post("introspect", [("token", access), ("token_type_hint", "access_token")])
            #expect(active.status == 200)
            #expect(active.json["active"] as? Bool == true)
            #expect(active.json["client_id"] as? String == Sandbox.clientID)
            #expect(active.json["scope"] as? String == "MYIR.Services")
            #expect(active.json["username"] is String && active.json["sub"] is String)
            let exp = try #require(active.json["exp"] as? Int)
            let iat = try #require(active.json["iat"] as? Int)
            #expect(exp - iat == 8 * 3600)
            #expect(abs(Double(iat) - Date().timeIntervalSince1970) < 60)

            let activeRefresh = try await probe.post("introspect", [("token", refresh), ("token_type_hint", "refresh_token")])
            #expect(activeRefresh.json["active"] as? Bool == true)
            #expect(try await probe.post("introspect", [("token", refresh)]).json["active"] as? Bool == true)

            // Another client's view of the token, an unknown token: inactive, exactly {"active": false}.
            let other = try await probe.post(
                "introspect", [("token", access)], authorization: OAuthProbe.basic(OAuthProbe.otherClientID, OAuthProbe.otherSecret))
            #expect(other.status == 200 && other.json.count == 1 && other.json["active"] as? Bool == false)
            #expect(try await probe.post("introspect", [("token", "unknown")]).json["active"] as? Bool == false)

            // Once spent by a refresh, the refresh token is inactive; the new one is active.
            let rotated = try await probe.post("token", [("grant_type", "refresh_token"), ("refresh_token", refresh)])
            #expect(rotated.status == 200)
            #expect(try await probe.post("introspect", [("token", refresh)]).json["active"] as? Bool == false)
            let newRefresh = try #require(rotated.json["refresh_token"] as? String)
            #expect(try await probe.post("introspect", [("token", newRefresh)]).json["active"] as? Bool == true)

            let noToken = try await probe.post("introspect", [("token_type_hint", "access_token")])
            #expect(noToken.status == 400 && noToken.description == "Invalid request format. Missing parameter: token")
            let noClient = try await probe.post("introspect", [("token", access)], authorization: nil)
            #expect(noClient.status == 401 && noClient.error == "invalid_client")
            #expect(noClient.description == "Your client must authenticate to use this API.")
            let badHeader = try await probe.post("introspect", [("token", access)], authorization: "Basic ???")
            #expect(badHeader.status == 401 && badHeader.description == "Invalid authorization header.")
        }
    }

    @Test("revoke: an access token stops working at once; a refresh token revokes its whole family; 200 with no content")
    func revoke() async throws {
        try await OAuthProbe.run { probe in
            let envelope = try probe.sandbox.envelope("ird.ei.status", "by-payday")
            let first = try await probe.exchange(try await probe.code())
            let access = try #require(first.json["access_token"] as? String)
            let refresh = try #require(first.json["refresh_token"] as? String)
            #expect(try await probe.sandbox.result(envelope, token: access).wasAuthenticated)

            let revoked = try await probe.post("revoke", [("token", access), ("token_type_hint", "access_token")])
            #expect(revoked.status == 200 && revoked.body.isEmpty)
            #expect(try await probe.sandbox.result(envelope, token: access).firstError?.statusCode == 1)
            #expect(try await probe.post("introspect", [("token", access)]).json["active"] as? Bool == false)
            // The refresh token of the same set still works after an access token is revoked.
            let rotated = try await probe.post("token", [("grant_type", "refresh_token"), ("refresh_token", refresh)])
            #expect(rotated.status == 200)
            let newAccess = try #require(rotated.json["access_token"] as? String)
            let newRefresh = try #require(rotated.json["refresh_token"] as? String)

            // Another client's revoke does nothing (and says nothing).
            let foreign = try await probe.post(
                "revoke", [("token", newRefresh)], authorization: OAuthProbe.basic(OAuthProbe.otherClientID, OAuthProbe.otherSecret))
            #expect(foreign.status == 200)
            #expect(try await probe.sandbox.result(envelope, token: newAccess).wasAuthenticated)

            // Revoking the refresh token ends the family: its access token and the refresh token itself.
            #expect(try await probe.post("revoke", [("token", newRefresh), ("token_type_hint", "refresh_token")]).status == 200)
            #expect(try await probe.sandbox.result(envelope, token: newAccess).firstError?.statusCode == 1)
            let afterRevoke = try await probe.post("token", [("grant_type", "refresh_token"), ("refresh_token", newRefresh)])
            #expect(afterRevoke.status == 401 && afterRevoke.error == "invalid_grant")

            #expect(try await probe.post("revoke", [("token", "never-issued")]).status == 200)
            let noToken = try await probe.post("revoke", [])
            #expect(noToken.status == 400 && noToken.description == "Invalid request format. Missing parameter: token")
            let noClient = try await probe.post("revoke", [("token", access)], authorization: nil)
            #expect(noClient.status == 401 && noClient.description == "Invalid request format. Missing parameter: client_id")
            let badHeader = try await probe.post("revoke", [("token", access)], authorization: "Digest x")
            #expect(badHeader.status == 401 && badHeader.description == "Invalid authorization header.")
        }
    }

    @Test("OAuth parameters count only in the POST body, never in the query (IRD §2.1.2)")
    func queryParametersIgnored() async throws {
        try await OAuthProbe.run { probe in
            let code = try await probe.code()
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            headers.add(name: "Authorization", value: OAuthProbe.basic())
            let url = "\(probe.base)/oauth/token?grant_type=authorization_code&code=\(code)&redirect_uri=\(OAuthProbe.encode(Sandbox.redirectURI))"
            let response = try await probe.sandbox.oneWayTLS.post(url: url, body: [], headers: headers)
            #expect(response.status == .badRequest)
            #expect(response.bodyText.contains("Missing parameter: grant_type"))
        }
    }

    @Test("--redirect-uri ID=URI registers URIs for named clients only, and only absolute ones")
    func redirectURIOptions() throws {
        let clients = [RegisteredClient(id: "a", secret: "s"), RegisteredClient(id: "b", secret: "t", kind: .native)]
        let registered = try RegisteredClient.registering(
            redirectURIs: ["a=https://a.example/return", "b=http://127.0.0.1:8765/cb", "a=https://a.example/second"], in: clients)
        #expect(registered[0].redirectURIs == ["https://a.example/return", "https://a.example/second"])
        #expect(registered[1].redirectURIs == ["http://127.0.0.1:8765/cb"])
        #expect(registered[1].kind == .native)
        #expect(throws: SandboxError.self) { try RegisteredClient.registering(redirectURIs: ["c=https://c.example/"], in: clients) }
        #expect(throws: SandboxError.self) { try RegisteredClient.registering(redirectURIs: ["a=/relative"], in: clients) }
        #expect(throws: SandboxError.self) { try RegisteredClient.registering(redirectURIs: ["a=https://a.example/#frag"], in: clients) }
        #expect(throws: SandboxError.self) { try RegisteredClient.registering(redirectURIs: ["https://a.example/"], in: clients) }
    }
}

extension GatewayResult {
    /// Whether the call got past authentication: no status 1 (authentication failure), 2 (missing token) or 3
    /// (unauthorised access). A status query about a payday with no return answers 103, which is authenticated.
    var wasAuthenticated: Bool {
        self.statusMessages.allSatisfy { ![1, 2, 3].contains($0.statusCode) }
    }
}
