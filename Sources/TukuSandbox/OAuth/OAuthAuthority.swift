import Crypto
import Foundation
import Synchronization
import TukuIRD

/// The sandbox's OAuth 2.0 authorization server, behaving like IRD's (Identity and Access build pack §2.1):
/// authorization-code grant with `scope` and `state` checked and PKCE (S256 only) verified, access tokens with an
/// expiry, single-use, rotating refresh tokens where reusing a spent refresh token revokes the whole token family
/// (every access and refresh token issued from the same authorization), no refresh tokens for native (desktop)
/// clients, token introspection and revocation, and IRD's documented error codes and HTTP statuses.
///
/// Tokens are opaque random strings, kept in memory only. Nothing here logs a token or a secret.
public final class OAuthAuthority: Sendable {
    /// Registered clients and token lifetimes.
    public struct Configuration: Sendable {
        /// The registered clients.
        public var clients: [RegisteredClient]
        /// How long an access token is valid. Defaults to 8 hours (IRD's value).
        public var accessTokenLifetime: Duration
        /// How long a refresh token is valid. Defaults to 1 year (IRD's value).
        public var refreshTokenLifetime: Duration
        /// How long an authorization code is valid. Defaults to 10 minutes (IRD's value).
        public var authorizationCodeLifetime: Duration

        /// Creates a configuration.
        public init(
            clients: [RegisteredClient], accessTokenLifetime: Duration = .seconds(8 * 3600),
            refreshTokenLifetime: Duration = .seconds(365 * 86400), authorizationCodeLifetime: Duration = .seconds(600)
        ) {
            self.clients = clients
            self.accessTokenLifetime = accessTokenLifetime
            self.refreshTokenLifetime = refreshTokenLifetime
            self.authorizationCodeLifetime = authorizationCodeLifetime
        }
    }

    private struct Code {
        var clientID: String
        var redirectURI: String
        var tenants: [String]
        var employers: Set<String>
        /// The PKCE S256 challenge of the authorization request, if it sent one.
        var challenge: String?
        var expiresAt: Date
    }

    private struct Family {
        var clientID: String
        var tenants: [String]
        /// The employers (9-digit IRD numbers) the logon may act for; empty for any.
        var employers: Set<String>
        /// The logon's subject identifier, as IRD's introspection answer gives it.
        var subject: String
        var revoked = false
    }

    private struct Issued {
        var family: Int
        var issuedAt: Date
        var expiresAt: Date
        /// A refresh token that was exchanged, or an access token revoked on its own.
        var spent = false
    }

    private struct State {
        var codes: [String: Code] = [:]
        var families: [Int: Family] = [:]
        var accessTokens: [String: Issued] = [:]
        var refreshTokens: [String: Issued] = [:]
        var nextFamily = 1
    }

    /// The scope IRD grants for Gateway Services.
    public static let scope = "MYIR.Services"
    /// The myIR user name the sandbox's introspection answers give (the sandbox has no myIR logons).
    public static let username = "sandbox-logon"
    /// The longest `state` IRD accepts, in characters ("must be < 200 characters").
    public static let maximumStateLength = 199
    /// The characters IRD allows in `state`: `a-z A-Z 0-9 - . ? , : / \ + = $ #` (no space).
    public static let stateCharacters: Set<Character> = Set(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.?,:/\\+=$#")

    /// The configuration.
    public let configuration: Configuration
    private let clients: [String: RegisteredClient]
    private let state = Mutex(State())
    private let now: @Sendable () -> Date

    /// Creates the authority.
    ///
    /// - Parameters:
    ///   - configuration: Clients and lifetimes.
    ///   - now: The wall clock. Defaults to the system clock.
    public init(configuration: Configuration, now: @escaping @Sendable () -> Date = { Date() }) {
        self.configuration = configuration
        self.clients = Dictionary(configuration.clients.map { ($0.id, $0) }, uniquingKeysWith: { _, last in last })
        self.now = now
    }

    // MARK: Authorize

    /// `GET /oauth/authorize?response_type=code&client_id=…&redirect_uri=…&scope=MYIR.Services&state=…` with an
    /// optional PKCE `code_challenge` and `code_challenge_method=S256`: consents at once (the sandbox has no myIR
    /// logon or consent page) and redirects to the registered redirect URI with a code and the state.
    ///
    /// Checked in IRD's order (build pack §2.1.3.5): `response_type`, `client_id`, `redirect_uri` (exactly one of the
    /// client's registered URIs) and `scope` are answered as JSON errors; once the redirect URI is known to be the
    /// client's, an invalid scope, an invalid PKCE challenge and a denied consent are redirects with `error=…`.
    /// A `state` that is 200 characters or longer or holds a character outside IRD's set is refused as JSON.
    ///
    /// Sandbox extensions: `tenant=…` and `employer=…` (each repeatable or comma-separated) name the tenants the token
    /// set is for and the employers' IRD numbers the logon may act for (IRD status 3 for any other employer; none
    /// named: any employer); `consent=deny` answers as if the user clicked Deny (`error=access_denied`).
    public func authorize(query: [(String, String)]) -> OAuthReply {
        let values = Self.values(query)
        guard let responseType = values["response_type"] else {
            return .error(400, "invalid_request", "Invalid request format. Missing parameter: response_type")
        }
        guard responseType == "code" else {
            return .error(400, "invalid_request", "Invalid response_type. Response type must be 'code'")
        }
        guard let clientID = values["client_id"] else {
            return .error(400, "invalid_request", "Invalid request format. Missing parameter: client_id")
        }
        guard let client = clients[clientID] else { return .error(401, "invalid_client", "Client is invalid.") }
        guard let redirectURI = values["redirect_uri"] else {
            return .error(400, "invalid_request", "Invalid request format. Missing parameter: redirect_uri")
        }
        guard client.redirectURIs.contains(redirectURI) else {
            return .error(
                400, "invalid_request", "Invalid redirect_uri. Provided redirect_uri (\(redirectURI)) is not configured for this client.")
        }
        let stateValue = values["state"]
        if let stateValue, !Self.isValidState(stateValue) {
            return .error(
                400, "invalid_request",
                "Invalid state. It must be shorter than 200 characters of a-z A-Z 0-9 - . ? , : / \\ + = $ #.")
        }
        func refuse(_ error: String, _ description: String) -> OAuthReply {
            .redirect(Self.appending([("error", error), ("error_description", description)], state: stateValue, to: redirectURI))
        }
        guard let scope = values["scope"] else {
            return .error(400, "invalid_request", "Invalid request format. Missing parameter: scope")
        }
        let scopes = scope.split(separator: " ").map(String.init)
        guard !scopes.isEmpty, scopes.allSatisfy({ $0 == Self.scope }) else {
            return refuse("invalid_scope", "Invalid scope requested")
        }
        let challenge = values["code_challenge"]
        switch (challenge, values["code_challenge_method"]) {
        case (nil, nil):
            break
        case (nil, _?):
            return refuse("invalid_request", "Invalid request format. Missing parameter: code_challenge")
        case (_?, "S256"?):
            guard let challenge, Self.isValidChallenge(challenge) else {
                return refuse("invalid_request", "Invalid code_challenge. It must be the base64url SHA-256 of the code verifier.")
            }
        case (_?, _):
            // No method means plain (RFC 7636 §4.3); IRD accepts S256 only.
            return refuse("invalid_request", "Invalid code_challenge_method. It must be S256.")
        }
        let tenants = Self.list(query, "tenant")
        guard let employers = Self.employerNumbers(Self.list(query, "employer")) else {
            return refuse("invalid_request", "employer must be an IRD number (sandbox extension)")
        }
        if values["consent"] == "deny" {
            return .redirect(Self.appending([("error", "access_denied")], state: stateValue, to: redirectURI))
        }
        let code = Self.randomToken()
        let expiresAt = now().addingTimeInterval(Self.seconds(configuration.authorizationCodeLifetime))
        state.withLock {
            $0.codes[code] = Code(
                clientID: clientID, redirectURI: redirectURI, tenants: tenants, employers: employers, challenge: challenge,
                expiresAt: expiresAt)
        }
        return .redirect(Self.appending([("code", code)], state: stateValue, to: redirectURI))
    }

    // MARK: Token

    /// `POST /oauth/token` with a form body: `grant_type=authorization_code` (`code`, `redirect_uri`, and
    /// `code_verifier` when the authorization request sent a PKCE challenge) or `grant_type=refresh_token`
    /// (`refresh_token`). The client authenticates with HTTP Basic or with `client_id`/`client_secret` in the form
    /// (not both).
    public func token(form: [(String, String)], authorization: String?, contentType: String?) -> OAuthReply {
        if let refused = Self.checkContentType(contentType) { return refused }
        let values = Self.values(form)
        let client: RegisteredClient
        switch authenticate(values: values, authorization: authorization) {
        case .client(let authenticated): client = authenticated
        case .missing:
            return .error(
                400, "invalid_request",
                "This API requires authentication using HTTP Basic Auth or by including credentials in the request body.")
        case .invalidHeader: return .error(400, "invalid_request", "Invalid authorization header.")
        case .unknownClient: return .error(401, "invalid_client", "Client is invalid.")
        case .wrongSecret: return .error(401, "invalid_client", "The provided secret or assertion are not valid for this client.")
        }
        switch values["grant_type"] {
        case "authorization_code":
            guard let code = values["code"] else {
                return .error(400, "invalid_request", "Invalid request format. Missing parameter: code")
            }
            guard let redirectURI = values["redirect_uri"] else {
                return .error(400, "invalid_request", "Invalid request format. Missing parameter: redirect_uri")
            }
            return exchange(code: code, redirectURI: redirectURI, verifier: values["code_verifier"], client: client)
        case "refresh_token":
            guard client.kind == .normal else {
                return .error(400, "unauthorized_client", "Token refresh is not allowed for this client.")
            }
            guard let refresh = values["refresh_token"] else {
                return .error(400, "invalid_request", "Invalid request format. Missing parameter: refresh_token")
            }
            return self.refresh(refresh, client: client)
        case nil:
            return .error(400, "invalid_request", "Invalid request format. Missing parameter: grant_type")
        default:
            return .error(400, "unsupported_grant_type", "Invalid grant_type.")
        }
    }

    // MARK: Introspect and revoke

    /// `POST /oauth/introspect` with `token=…` and an optional `token_type_hint` (`access_token` or
    /// `refresh_token`): `200 {"active": true, "client_id", "username", "scope", "sub", "exp", "iat"}` for a current
    /// token of the calling client, `200 {"active": false}` for any other (unknown, expired, spent, revoked, or
    /// another client's).
    public func introspect(form: [(String, String)], authorization: String?, contentType: String?) -> OAuthReply {
        if let refused = Self.checkContentType(contentType) { return refused }
        let values = Self.values(form)
        let client: RegisteredClient
        switch authenticate(values: values, authorization: authorization) {
        case .client(let authenticated): client = authenticated
        case .missing: return .error(401, "invalid_client", "Your client must authenticate to use this API.")
        case .invalidHeader: return .error(401, "invalid_client", "Invalid authorization header.")
        case .unknownClient: return .error(401, "invalid_client", "Client is invalid.")
        case .wrongSecret: return .error(401, "invalid_client", "The provided secret or assertion are not valid for this client.")
        }
        guard let token = values["token"] else {
            return .error(400, "invalid_request", "Invalid request format. Missing parameter: token")
        }
        let now = now()
        return state.withLock { state in
            let refreshFirst = values["token_type_hint"] == "refresh_token"
            let candidates = refreshFirst ? [state.refreshTokens[token], state.accessTokens[token]] : [state.accessTokens[token], state.refreshTokens[token]]
            guard let issued = candidates.compactMap({ $0 }).first, let family = state.families[issued.family],
                family.clientID == client.id, !family.revoked, !issued.spent, issued.expiresAt > now
            else {
                return .json(200, "{\"active\":false}")
            }
            let json =
                "{\"active\":true,\"client_id\":\(Arrival.quoted(client.id)),\"username\":\(Arrival.quoted(Self.username)),"
                + "\"scope\":\(Arrival.quoted(Self.scope)),\"sub\":\(Arrival.quoted(family.subject)),"
                + "\"exp\":\(Int64(issued.expiresAt.timeIntervalSince1970)),\"iat\":\(Int64(issued.issuedAt.timeIntervalSince1970))}"
            return .json(200, json)
        }
    }

    /// `POST /oauth/revoke` with `token=…` and an optional `token_type_hint`: `200` with no content. Revoking a
    /// refresh token revokes its whole token family (the grant); revoking an access token revokes that token. A
    /// token that is unknown or another client's is left alone, and the answer is the same (RFC 7009 §2.2).
    public func revoke(form: [(String, String)], authorization: String?, contentType: String?) -> OAuthReply {
        if let refused = Self.checkContentType(contentType) { return refused }
        let values = Self.values(form)
        let client: RegisteredClient
        switch authenticate(values: values, authorization: authorization) {
        case .client(let authenticated): client = authenticated
        case .missing: return .error(401, "invalid_client", "Invalid request format. Missing parameter: client_id")
        case .invalidHeader: return .error(401, "invalid_client", "Invalid authorization header.")
        case .unknownClient: return .error(401, "invalid_client", "Client is invalid.")
        case .wrongSecret: return .error(401, "invalid_client", "The provided secret or assertion are not valid for this client.")
        }
        guard let token = values["token"] else {
            return .error(400, "invalid_request", "Invalid request format. Missing parameter: token")
        }
        state.withLock { state in
            if let issued = state.refreshTokens[token], state.families[issued.family]?.clientID == client.id {
                state.families[issued.family]?.revoked = true
            } else if let issued = state.accessTokens[token], state.families[issued.family]?.clientID == client.id {
                state.accessTokens[token]?.spent = true
            }
        }
        return OAuthReply(status: 200, json: "", location: nil)
    }

    // MARK: Sandbox grant

    /// `POST /sandbox/grant`: a fresh token set (a new family) for a registered client and tenants, without the
    /// browser dance. For tests and the demo. `employers` are the IRD numbers the logon may act for (any when empty).
    /// A native client's set has no refresh token, as from the token endpoint.
    public func grant(
        clientID: String, tenants: [String], employers: [String] = [], accessTokenLifetime: Duration? = nil
    ) -> OAuthReply {
        guard let client = clients[clientID] else { return .error(401, "invalid_client", "Client is invalid.") }
        guard let normalised = Self.employerNumbers(employers) else {
            return .error(400, "invalid_request", "employers must be IRD numbers")
        }
        return state.withLock { state in
            let family = state.nextFamily
            state.nextFamily += 1
            state.families[family] = Family(clientID: clientID, tenants: tenants, employers: normalised, subject: UUID().uuidString.lowercased())
            return issue(family: family, client: client, in: &state, accessTokenLifetime: accessTokenLifetime, tenants: tenants)
        }
    }

    // MARK: Verification

    /// Checks an access token presented as `Authorization: Bearer <token>`.
    public func verify(accessToken: String) -> BearerCheck {
        let now = now()
        return state.withLock { state in
            guard let issued = state.accessTokens[accessToken], let family = state.families[issued.family] else {
                return .invalid(reason: "unknown access token")
            }
            if family.revoked { return .invalid(reason: "the token family was revoked") }
            if issued.spent { return .invalid(reason: "the access token was revoked") }
            if issued.expiresAt <= now { return .invalid(reason: "the access token expired") }
            return .valid(clientID: family.clientID, tenants: family.tenants, employers: family.employers)
        }
    }

    /// The client an access token was issued to, whether or not it is still valid (to attribute calls to a client
    /// for rate limiting on the one-way TLS listener).
    public func clientID(forAccessToken token: String) -> String? {
        state.withLock { state in
            state.accessTokens[token].flatMap { state.families[$0.family]?.clientID }
        }
    }

    // MARK: Internals

    private enum Authentication {
        case client(RegisteredClient)
        case missing, invalidHeader, unknownClient, wrongSecret
    }

    /// HTTP Basic, or `client_id` and `client_secret` in the form; using both is an invalid header (RFC 6749 §2.3).
    private func authenticate(values: [String: String], authorization: String?) -> Authentication {
        let id: String
        let secret: String
        if let authorization {
            guard values["client_secret"] == nil, authorization.lowercased().hasPrefix("basic ") else { return .invalidHeader }
            let encoded = authorization.dropFirst(6).trimmingCharacters(in: .whitespaces)
            guard let data = Data(base64Encoded: encoded), let text = String(data: data, encoding: .utf8) else { return .invalidHeader }
            let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 2 else { return .invalidHeader }
            // RFC 6749 §2.3.1: the id and secret are form-encoded before they are joined.
            id = parts[0].replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? parts[0]
            secret = parts[1].replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? parts[1]
        } else if let formID = values["client_id"], let formSecret = values["client_secret"] {
            id = formID
            secret = formSecret
        } else {
            return .missing
        }
        guard let client = clients[id] else { return .unknownClient }
        // Constant-time comparison: the sandbox should not teach clients to rely on anything else.
        let expected = Array(client.secret.utf8)
        let given = Array(secret.utf8)
        guard expected.count == given.count else { return .wrongSecret }
        var difference: UInt8 = 0
        for (a, b) in zip(expected, given) { difference |= a ^ b }
        return difference == 0 ? .client(client) : .wrongSecret
    }

    private func exchange(code: String, redirectURI: String, verifier: String?, client: RegisteredClient) -> OAuthReply {
        let now = now()
        return state.withLock { state in
            // Single use: the code is gone whatever happens next.
            guard let issued = state.codes.removeValue(forKey: code), issued.clientID == client.id else {
                return .error(401, "invalid_grant", "Invalid authorization code.")
            }
            guard issued.expiresAt > now else { return .error(401, "invalid_grant", "The authorization code has expired.") }
            guard redirectURI == issued.redirectURI else {
                return .error(401, "invalid_grant", "Invalid redirect_uri. Value does not match the authorization request.")
            }
            if let challenge = issued.challenge {
                guard let verifier, Self.isValidVerifier(verifier), Self.s256(verifier) == challenge else {
                    return .error(401, "invalid_grant", "Invalid code_verifier. It does not match the code_challenge.")
                }
            }
            let family = state.nextFamily
            state.nextFamily += 1
            state.families[family] = Family(
                clientID: client.id, tenants: issued.tenants, employers: issued.employers, subject: UUID().uuidString.lowercased())
            return issue(family: family, client: client, in: &state, accessTokenLifetime: nil, tenants: nil)
        }
    }

    private func refresh(_ token: String, client: RegisteredClient) -> OAuthReply {
        let now = now()
        return state.withLock { state in
            guard let issued = state.refreshTokens[token], var family = state.families[issued.family], family.clientID == client.id
            else {
                return .error(401, "invalid_grant", "Refresh token is invalid.")
            }
            if issued.spent {
                // Reuse of a spent refresh token: someone else may hold the family; revoke all of it.
                family.revoked = true
                state.families[issued.family] = family
                return .error(401, "invalid_grant", "Refresh token is invalid.")
            }
            guard !family.revoked, issued.expiresAt > now else {
                return .error(401, "invalid_grant", "Refresh token is invalid.")
            }
            state.refreshTokens[token]?.spent = true
            return issue(family: issued.family, client: client, in: &state, accessTokenLifetime: nil, tenants: nil)
        }
    }

    /// IRD numbers as the SOAP header carries them (9 digits), or `nil` if one is not a valid IRD number.
    static func employerNumbers(_ texts: [String]) -> Set<String>? {
        var numbers: Set<String> = []
        for text in texts {
            guard let number = try? IRDNumber(text) else { return nil }
            numbers.insert(number.wireForm)
        }
        return numbers
    }

    /// Issues an access token (and, for a normal client, a refresh token) in `family` and answers with IRD's token
    /// response; `tenants` adds the sandbox's `tenants` field (the `/sandbox/grant` answer only).
    private func issue(
        family: Int, client: RegisteredClient, in state: inout State, accessTokenLifetime: Duration?, tenants: [String]?
    ) -> OAuthReply {
        let now = now()
        let accessLifetime = accessTokenLifetime ?? configuration.accessTokenLifetime
        let access = Self.randomToken()
        state.accessTokens[access] = Issued(
            family: family, issuedAt: now, expiresAt: now.addingTimeInterval(Self.seconds(accessLifetime)))
        let expiresIn = Int(Self.seconds(accessLifetime).rounded(.down))
        var json =
            "{\"access_token\":\(Arrival.quoted(access)),\"token_type\":\"Bearer\",\"expires_in\":\(expiresIn),"
            + "\"scope\":\(Arrival.quoted(Self.scope))"
        if client.kind == .normal {
            let refresh = Self.randomToken()
            state.refreshTokens[refresh] = Issued(
                family: family, issuedAt: now, expiresAt: now.addingTimeInterval(Self.seconds(configuration.refreshTokenLifetime)))
            json += ",\"refresh_token\":\(Arrival.quoted(refresh))"
        }
        if let tenants { json += ",\"tenants\":[\(tenants.map(Arrival.quoted).joined(separator: ","))]" }
        return .json(200, json + "}")
    }

    /// Form parameters by name; the first of a repeated name wins, and a parameter sent without a value counts as
    /// omitted (RFC 6749 §3.1).
    private static func values(_ items: [(String, String)]) -> [String: String] {
        Dictionary(items.filter { !$0.1.isEmpty }, uniquingKeysWith: { first, _ in first })
    }

    private static func list(_ items: [(String, String)], _ name: String) -> [String] {
        items.filter { $0.0 == name }.flatMap { $0.1.split(separator: ",").map(String.init) }
    }

    /// `nil` when the body is a form; IRD requires `application/x-www-form-urlencoded`.
    private static func checkContentType(_ contentType: String?) -> OAuthReply? {
        guard let contentType, contentType.lowercased().hasPrefix("application/x-www-form-urlencoded") else {
            return .error(400, "invalid_request", "Invalid request format. Content-Type must be application/x-www-form-urlencoded.")
        }
        return nil
    }

    /// Whether `state` is under 200 characters from IRD's set.
    public static func isValidState(_ state: String) -> Bool {
        state.count <= maximumStateLength && state.allSatisfy { stateCharacters.contains($0) }
    }

    /// A PKCE verifier: 43 to 128 characters of `A-Z a-z 0-9 - . _ ~` (RFC 7636 §4.1).
    static func isValidVerifier(_ verifier: String) -> Bool {
        (43...128).contains(verifier.utf8.count)
            && verifier.unicodeScalars.allSatisfy { $0.isASCII && (asciiAlphanumerics.contains($0) || "-._~".unicodeScalars.contains($0)) }
    }

    private static let asciiAlphanumerics = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")

    /// An S256 challenge: the unpadded base64url of 32 bytes, 43 characters.
    static func isValidChallenge(_ challenge: String) -> Bool {
        challenge.utf8.count == 43
            && challenge.unicodeScalars.allSatisfy { $0.isASCII && (asciiAlphanumerics.contains($0) || "-_".unicodeScalars.contains($0)) }
    }

    /// `BASE64URL(SHA256(ASCII(verifier)))` without padding (RFC 7636 §4.2).
    static func s256(_ verifier: String) -> String {
        base64URL(Data(SHA256.hash(data: Data(verifier.utf8))))
    }

    static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    /// 32 random bytes, base64url without padding.
    static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return base64URL(Data((0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }))
    }

    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// `uri` with the parameters (and `state`, when the request had one) added to its query, form-encoded.
    static func appending(_ parameters: [(String, String)], state: String?, to uri: String) -> String {
        let all = parameters + (state.map { [("state", $0)] } ?? [])
        let query = all.map { "\($0.0)=\(formEncode($0.1))" }.joined(separator: "&")
        return uri + (uri.contains("?") ? "&" : "?") + query
    }

    /// Form encoding: unreserved characters as they are, space as `+`, everything else percent-encoded.
    static func formEncode(_ text: String) -> String {
        var allowed = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        allowed.insert(charactersIn: "-._~ ")
        return (text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text).replacingOccurrences(of: " ", with: "+")
    }
}
