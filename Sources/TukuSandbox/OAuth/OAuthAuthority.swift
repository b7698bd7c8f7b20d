import Foundation
import Synchronization
import TukuIRD

/// The sandbox's OAuth 2.0 authorization server, behaving like IRD's (Identity and Access build pack §2.1):
/// authorization-code grant, access tokens with an expiry, and single-use, rotating refresh tokens where reusing a
/// spent refresh token revokes the whole token family (every access and refresh token issued from the same
/// authorization).
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
        var expiresAt: Date
    }

    private struct Family {
        var clientID: String
        var tenants: [String]
        /// The employers (9-digit IRD numbers) the logon may act for; empty for any.
        var employers: Set<String>
        var revoked = false
    }

    private struct Issued {
        var family: Int
        var expiresAt: Date
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

    // MARK: Routes

    /// `GET /oauth/authorize?response_type=code&client_id=…&redirect_uri=…&state=…`: consents at once and redirects
    /// with a code. The sandbox extensions `tenant=…` and `employer=…` (each repeatable or comma-separated) name the
    /// tenants the token set is for and the employers' IRD numbers the logon may act for (IRD status 3 for any other
    /// employer; none named: any employer).
    public func authorize(query: [(String, String)]) -> OAuthReply {
        let values = Dictionary(query, uniquingKeysWith: { first, _ in first })
        guard values["response_type"] == "code" else {
            return .error(400, "unsupported_response_type", "response_type must be code")
        }
        guard let clientID = values["client_id"], let client = clients[clientID] else {
            return .error(400, "invalid_client", "unknown client_id")
        }
        guard let redirectURI = values["redirect_uri"], !redirectURI.isEmpty,
            client.redirectURIs.isEmpty || client.redirectURIs.contains(redirectURI)
        else {
            return .error(400, "invalid_request", "redirect_uri is missing or not registered for the client")
        }
        let tenants = query.filter { $0.0 == "tenant" }.flatMap { $0.1.split(separator: ",").map(String.init) }
        let employers = query.filter { $0.0 == "employer" }.flatMap { $0.1.split(separator: ",").map(String.init) }
        guard let normalised = Self.employerNumbers(employers) else {
            return .error(400, "invalid_request", "employer must be an IRD number")
        }
        let code = Self.randomToken()
        let expiresAt = now().addingTimeInterval(Self.seconds(configuration.authorizationCodeLifetime))
        state.withLock { $0.codes[code] = Code(
                clientID: clientID, redirectURI: redirectURI, tenants: tenants, employers: normalised, expiresAt: expiresAt) }
        var location = redirectURI + (redirectURI.contains("?") ? "&" : "?") + "code=\(Self.formEncode(code))"
        if let stateValue = values["state"] { location += "&state=\(Self.formEncode(stateValue))" }
        return .redirect(location)
    }

    /// `POST /oauth/token` with a form body: `grant_type=authorization_code` (`code`, `redirect_uri`) or
    /// `grant_type=refresh_token` (`refresh_token`). The client authenticates with HTTP Basic (or, as RFC 6749
    /// allows, `client_id`/`client_secret` in the form).
    public func token(form: [(String, String)], authorization: String?) -> OAuthReply {
        let values = Dictionary(form, uniquingKeysWith: { first, _ in first })
        guard let clientID = authenticate(values: values, authorization: authorization) else {
            return .error(401, "invalid_client", "client authentication failed")
        }
        switch values["grant_type"] {
        case "authorization_code":
            guard let code = values["code"] else { return .error(400, "invalid_request", "code is missing") }
            return exchange(code: code, redirectURI: values["redirect_uri"], clientID: clientID)
        case "refresh_token":
            guard let refresh = values["refresh_token"] else {
                return .error(400, "invalid_request", "refresh_token is missing")
            }
            return self.refresh(refresh, clientID: clientID)
        case nil:
            return .error(400, "invalid_request", "grant_type is missing")
        default:
            return .error(400, "unsupported_grant_type", "grant_type must be authorization_code or refresh_token")
        }
    }

    /// `POST /sandbox/grant`: a fresh token set (a new family) for a registered client and tenants, without the
    /// browser dance. For tests and the demo. `employers` are the IRD numbers the logon may act for (any when empty).
    public func grant(
        clientID: String, tenants: [String], employers: [String] = [], accessTokenLifetime: Duration? = nil
    ) -> OAuthReply {
        guard clients[clientID] != nil else { return .error(400, "invalid_client", "unknown client_id") }
        guard let normalised = Self.employerNumbers(employers) else {
            return .error(400, "invalid_request", "employers must be IRD numbers")
        }
        return state.withLock { state in
            let family = state.nextFamily
            state.nextFamily += 1
            state.families[family] = Family(clientID: clientID, tenants: tenants, employers: normalised)
            return issue(family: family, in: &state, accessTokenLifetime: accessTokenLifetime)
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

    private func authenticate(values: [String: String], authorization: String?) -> String? {
        var id = values["client_id"]
        var secret = values["client_secret"]
        if let authorization, authorization.lowercased().hasPrefix("basic ") {
            let encoded = authorization.dropFirst(6).trimmingCharacters(in: .whitespaces)
            guard let data = Data(base64Encoded: encoded), let text = String(data: data, encoding: .utf8) else { return nil }
            let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 2 else { return nil }
            id = parts[0].removingPercentEncoding ?? parts[0]
            secret = parts[1].removingPercentEncoding ?? parts[1]
        }
        guard let id, let secret, let client = clients[id] else { return nil }
        // Constant-time comparison: the sandbox should not teach clients to rely on anything else.
        let expected = Array(client.secret.utf8)
        let given = Array(secret.utf8)
        guard expected.count == given.count else { return nil }
        var difference: UInt8 = 0
        for (a, b) in zip(expected, given) { difference |= a ^ b }
        return difference == 0 ? id : nil
    }

    private func exchange(code: String, redirectURI: String?, clientID: String) -> OAuthReply {
        let now = now()
        return state.withLock { state in
            // Single use: the code is gone whatever happens next.
            guard let issued = state.codes.removeValue(forKey: code) else {
                return .error(401, "invalid_grant", "the authorization code is invalid or was already used")
            }
            guard issued.expiresAt > now else { return .error(401, "invalid_grant", "the authorization code expired") }
            guard issued.clientID == clientID else {
                return .error(401, "invalid_grant", "the authorization code was issued to another client")
            }
            guard redirectURI == issued.redirectURI else {
                return .error(400, "invalid_grant", "redirect_uri does not match the authorization request")
            }
            let family = state.nextFamily
            state.nextFamily += 1
            state.families[family] = Family(clientID: clientID, tenants: issued.tenants, employers: issued.employers)
            return issue(family: family, in: &state, accessTokenLifetime: nil)
        }
    }

    private func refresh(_ token: String, clientID: String) -> OAuthReply {
        let now = now()
        return state.withLock { state in
            guard let issued = state.refreshTokens[token], var family = state.families[issued.family] else {
                return .error(400, "invalid_grant", "Refresh token is invalid")
            }
            guard family.clientID == clientID else {
                return .error(400, "invalid_grant", "Refresh token is invalid")
            }
            if issued.spent {
                // Reuse of a spent refresh token: someone else may hold the family; revoke all of it.
                family.revoked = true
                state.families[issued.family] = family
                return .error(400, "invalid_grant", "Refresh token is invalid")
            }
            guard !family.revoked, issued.expiresAt > now else {
                return .error(400, "invalid_grant", "Refresh token is invalid")
            }
            state.refreshTokens[token]?.spent = true
            return issue(family: issued.family, in: &state, accessTokenLifetime: nil)
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

    /// Issues an access token and a refresh token in `family` and answers with IRD's token response.
    private func issue(family: Int, in state: inout State, accessTokenLifetime: Duration?) -> OAuthReply {
        let now = now()
        let accessLifetime = accessTokenLifetime ?? configuration.accessTokenLifetime
        let access = Self.randomToken()
        let refresh = Self.randomToken()
        state.accessTokens[access] = Issued(family: family, expiresAt: now.addingTimeInterval(Self.seconds(accessLifetime)))
        state.refreshTokens[refresh] = Issued(
            family: family, expiresAt: now.addingTimeInterval(Self.seconds(configuration.refreshTokenLifetime)))
        let tenants = state.families[family]?.tenants ?? []
        let expiresIn = Int(Self.seconds(accessLifetime).rounded(.down))
        let json =
            "{\"access_token\":\(Arrival.quoted(access)),\"token_type\":\"Bearer\",\"expires_in\":\(expiresIn),"
            + "\"scope\":\(Arrival.quoted(Self.scope)),\"refresh_token\":\(Arrival.quoted(refresh)),"
            + "\"tenants\":[\(tenants.map(Arrival.quoted).joined(separator: ","))]}"
        return .json(200, json)
    }

    static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    /// 32 random bytes, base64url without padding.
    static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func formEncode(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}
