import Foundation
import Synchronization

/// HMRC's OAuth 2.0 authorize and token endpoints as the sandbox emulates them, separate from IRD's
/// ``OAuthAuthority``: the authorization-code grant (codes from `GET /oauth/authorize`, which consents at once for
/// the VRNs its `vrn=` extension names, or minted by the loopback-only `POST /sandbox/hmrc/grant`), the refresh-token grant with single-use refresh tokens (a spent one presented again revokes
/// every token of the authorisation), access tokens of 4 hours, and no refreshing 18 months after the user's
/// authorisation. Client id and secret travel in the form body, as HMRC requires. Tokens live in memory only and
/// are never logged.
public final class HMRCAuthority: Sendable {
    /// The scopes the VAT (MTD) API uses.
    public static let scopes: Set<String> = ["read:vat", "write:vat"]

    /// An answer of the token endpoint or the grant route.
    public struct Reply: Sendable, Hashable {
        /// The HTTP status.
        public var status: Int
        /// The JSON body.
        public var json: String
    }

    private struct Code {
        var clientID: String
        var vrns: Set<String>
        var scopes: Set<String>
        var redirectURI: String?
        var expiresAt: Date
    }

    private struct Family {
        var clientID: String
        var vrns: Set<String>
        var scopes: Set<String>
        /// When refreshing stops: the user's authorisation plus the refresh lifetime.
        var refreshableUntil: Date
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

    /// The settings.
    public let configuration: HMRCConfiguration
    private let applications: [String: RegisteredClient]
    private let state = Mutex(State())

    /// Creates the authority.
    public init(configuration: HMRCConfiguration) {
        self.configuration = configuration
        self.applications = Dictionary(configuration.applications.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// Whether `clientID` is a registered HMRC application (the shared `/oauth/token` route sends its form here).
    public func isApplication(_ clientID: String) -> Bool { applications[clientID] != nil }

    /// `POST /sandbox/hmrc/grant`: an authorization code for `clientID`, as if its user had consented to `scopes`
    /// for the VAT registration numbers `vrns`.
    public func grant(clientID: String, vrns: [String], scopes: [String], redirectURI: String?, now: Date = Date()) -> Reply {
        guard isApplication(clientID) else { return Self.oauthError(401, "invalid_client", "unknown client_id") }
        guard !vrns.isEmpty, vrns.allSatisfy(HMRCVATReturn.isValidVRN) else {
            return Self.oauthError(400, "invalid_request", "vrns must be a non-empty list of 9-digit VAT registration numbers")
        }
        let requested = Set(scopes)
        guard !requested.isEmpty, requested.isSubset(of: Self.scopes) else {
            return Self.oauthError(400, "invalid_scope", "scope must be read:vat and/or write:vat")
        }
        let code = OAuthAuthority.randomToken()
        state.withLock {
            $0.codes[code] = Code(
                clientID: clientID, vrns: Set(vrns), scopes: requested, redirectURI: redirectURI,
                expiresAt: now.addingTimeInterval(OAuthAuthority.seconds(configuration.authorizationCodeLifetime)))
        }
        return Reply(status: 200, json: "{\"code\":\(Arrival.quoted(code))}")
    }

    /// `GET /oauth/authorize?response_type=code&client_id=…&scope=read:vat+write:vat&state=…&redirect_uri=…` for a
    /// registered HMRC application: consents at once (the sandbox has no Government Gateway sign-in) and redirects to
    /// the redirect URI with a code (valid ``HMRCConfiguration/authorizationCodeLifetime``, single use, bound to that
    /// redirect URI) and the state, echoed as sent.
    ///
    /// `response_type`, the application and `redirect_uri` (exactly one of the application's registered URIs) are
    /// answered as JSON errors; once the redirect URI is known to be the application's, a missing or foreign scope is a
    /// redirect with `error=invalid_scope`, and a bad `vrn` one with `error=invalid_request`.
    ///
    /// Sandbox extensions: `vrn=…` (repeatable or comma-separated, at least one, 9 digits each) names the VAT
    /// registration numbers the user consents for (HMRC learns them from the sign-in); `consent=deny` answers as if
    /// the user refused (`error=access_denied`).
    public func authorize(query: [(String, String)], now: Date = Date()) -> OAuthReply {
        var values: [String: String] = [:]
        for (name, value) in query where values[name] == nil && !value.isEmpty { values[name] = value }
        guard values["response_type"] == "code" else {
            return .error(400, "unsupported_response_type", "response_type must be code")
        }
        guard let clientID = values["client_id"], let application = applications[clientID] else {
            return .error(400, "invalid_client", "unknown client_id")
        }
        guard let redirectURI = values["redirect_uri"], application.redirectURIs.contains(redirectURI) else {
            return .error(400, "invalid_request", "redirect_uri is missing or not registered for this application")
        }
        let stateValue = values["state"]
        func refuse(_ error: String, _ description: String) -> OAuthReply {
            .redirect(OAuthAuthority.appending([("error", error), ("error_description", description)], state: stateValue, to: redirectURI))
        }
        let scopes = (values["scope"] ?? "").split(separator: " ").map(String.init)
        guard !scopes.isEmpty, Set(scopes).isSubset(of: Self.scopes) else {
            return refuse("invalid_scope", "scope must be read:vat and/or write:vat")
        }
        let vrns = query.filter { $0.0 == "vrn" }.flatMap { $0.1.split(separator: ",").map(String.init) }
        guard !vrns.isEmpty, vrns.allSatisfy(HMRCVATReturn.isValidVRN) else {
            return refuse("invalid_request", "vrn must name at least one 9-digit VAT registration number (sandbox extension)")
        }
        if values["consent"] == "deny" {
            return .redirect(OAuthAuthority.appending([("error", "access_denied")], state: stateValue, to: redirectURI))
        }
        let code = OAuthAuthority.randomToken()
        state.withLock {
            $0.codes[code] = Code(
                clientID: clientID, vrns: Set(vrns), scopes: Set(scopes), redirectURI: redirectURI,
                expiresAt: now.addingTimeInterval(OAuthAuthority.seconds(configuration.authorizationCodeLifetime)))
        }
        return .redirect(OAuthAuthority.appending([("code", code)], state: stateValue, to: redirectURI))
    }

    /// `POST /oauth/token` for an HMRC application.
    public func token(form: [(String, String)], contentType: String?, now: Date = Date()) -> Reply {
        guard (contentType ?? "").lowercased().hasPrefix("application/x-www-form-urlencoded") else {
            return Self.oauthError(400, "invalid_request", "the body must be application/x-www-form-urlencoded")
        }
        var values: [String: String] = [:]
        for (name, value) in form where values[name] == nil { values[name] = value }
        guard let clientID = values["client_id"], let secret = values["client_secret"] else {
            return Self.oauthError(400, "invalid_request", "client_id and client_secret are required in the body")
        }
        guard let application = applications[clientID], Self.constantTimeEqual(application.secret, secret) else {
            return Self.oauthError(401, "invalid_client", "invalid client credentials")
        }
        switch values["grant_type"] {
        case "authorization_code"?:
            guard let code = values["code"], !code.isEmpty else { return Self.oauthError(400, "invalid_request", "code is required") }
            return state.withLock { state in
                guard let granted = state.codes.removeValue(forKey: code), granted.clientID == clientID, granted.expiresAt > now else {
                    return Self.oauthError(400, "invalid_grant", "the authorization code is invalid or expired")
                }
                if let expected = granted.redirectURI, values["redirect_uri"] != expected {
                    return Self.oauthError(400, "invalid_grant", "redirect_uri does not match the authorization request")
                }
                let family = state.nextFamily
                state.nextFamily += 1
                state.families[family] = Family(
                    clientID: clientID, vrns: granted.vrns, scopes: granted.scopes,
                    refreshableUntil: now.addingTimeInterval(OAuthAuthority.seconds(configuration.refreshLifetime)))
                return issue(family: family, in: &state, now: now)
            }
        case "refresh_token"?:
            guard let token = values["refresh_token"], !token.isEmpty else {
                return Self.oauthError(400, "invalid_request", "refresh_token is required")
            }
            return state.withLock { state in
                guard let issued = state.refreshTokens[token], var family = state.families[issued.family], family.clientID == clientID
                else {
                    return Self.oauthError(400, "invalid_grant", "the refresh token is invalid")
                }
                if issued.spent {
                    // A spent refresh token presented again: someone holds a copy. Revoke the whole authorisation.
                    family.revoked = true
                    state.families[issued.family] = family
                    return Self.oauthError(400, "invalid_grant", "the refresh token was already used")
                }
                guard !family.revoked, family.refreshableUntil > now else {
                    return Self.oauthError(400, "invalid_grant", "the authorisation has expired or was revoked")
                }
                state.refreshTokens[token]?.spent = true
                return issue(family: issued.family, in: &state, now: now)
            }
        default:
            return Self.oauthError(400, "unsupported_grant_type", "grant_type must be authorization_code or refresh_token")
        }
    }

    /// Checks the `Authorization` header of a VAT call.
    public func verify(authorization: String?, now: Date = Date()) -> HMRCBearer {
        guard let authorization, authorization.lowercased().hasPrefix("bearer ") else { return .missing }
        let token = String(authorization.dropFirst(7)).trimmingCharacters(in: .whitespaces)
        guard !token.isEmpty else { return .missing }
        return state.withLock { state in
            guard let issued = state.accessTokens[token], let family = state.families[issued.family], !family.revoked,
                !issued.spent, issued.expiresAt > now
            else { return .invalid }
            return .valid(clientID: family.clientID, vrns: family.vrns, scopes: family.scopes)
        }
    }

    /// The application a bearer token was issued to, live or not (the rate limit counts per application).
    public func clientID(forAuthorization authorization: String?) -> String? {
        guard let authorization, authorization.lowercased().hasPrefix("bearer ") else { return nil }
        let token = String(authorization.dropFirst(7)).trimmingCharacters(in: .whitespaces)
        return state.withLock { state in state.accessTokens[token].flatMap { state.families[$0.family]?.clientID } }
    }

    private func issue(family: Int, in state: inout State, now: Date) -> Reply {
        guard let scopes = state.families[family]?.scopes else { return Self.oauthError(400, "invalid_grant", "unknown authorisation") }
        let access = OAuthAuthority.randomToken()
        let refresh = OAuthAuthority.randomToken()
        let lifetime = OAuthAuthority.seconds(configuration.accessTokenLifetime)
        state.accessTokens[access] = Issued(family: family, expiresAt: now.addingTimeInterval(lifetime))
        state.refreshTokens[refresh] = Issued(family: family, expiresAt: state.families[family]?.refreshableUntil ?? now)
        let scope = scopes.sorted().joined(separator: " ")
        let expiresIn = max(1, Int(lifetime.rounded(.down)))
        return Reply(
            status: 200,
            json: "{\"access_token\":\(Arrival.quoted(access)),\"refresh_token\":\(Arrival.quoted(refresh)),"
                + "\"expires_in\":\(expiresIn),\"scope\":\(Arrival.quoted(scope)),\"token_type\":\"bearer\"}")
    }

    static func oauthError(_ status: Int, _ error: String, _ description: String) -> Reply {
        Reply(status: status, json: "{\"error\":\(Arrival.quoted(error)),\"error_description\":\(Arrival.quoted(description))}")
    }

    private static func constantTimeEqual(_ lhs: String, _ rhs: String) -> Bool {
        let left = Array(lhs.utf8)
        let right = Array(rhs.utf8)
        var difference = UInt8(left.count == right.count ? 0 : 1)
        for index in 0..<min(left.count, right.count) { difference |= left[index] ^ right[index] }
        return difference == 0
    }
}
