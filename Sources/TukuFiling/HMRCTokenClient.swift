import Foundation
import Logging
import NIOCore
import NIOHTTP1
import TukuCore
import TukuGateway
import TukuPostgres

/// HMRC's OAuth 2.0 token endpoint (`POST {base}/oauth/token`): the grant in a form body with the application's
/// `client_id` and `client_secret` in the body too (HMRC does not take HTTP Basic), a JSON answer with a 4-hour access
/// token and a new refresh token. HMRC's refresh tokens are single use: the one presented is spent once the endpoint
/// takes it, and presenting it again revokes the whole authorisation. The ``TokenStore``'s fleet-once refresh claim
/// is what keeps Tuku from ever doing that; this client only says, through ``TokenError``, what became of the token:
///
/// - `400 invalid_grant`: the authorisation is gone (revoked, expired after 18 months, or the token already spent):
///   ``TokenError/Code/needsAuthorisation``, a person must consent again (`tuku tokens authorize --authority hmrc`);
/// - any other 4xx but 408 and 429 (`invalid_client`, `invalid_request`, a wrong URL): this worker's configuration,
///   ``TokenError/Code/clientRejected``; the set stays healthy for a correctly configured worker;
/// - 408, 429, 5xx but 502/504, or no connection: ``TokenError/Code/refreshFailed``, the token was not taken;
/// - 502/504, a send that may have arrived unanswered, or a 200 that is not a token response:
///   ``TokenError/Code/refreshOutcomeUnknown``, the token may be spent, so it is never presented again.
///
/// Every call has a deadline (``timeout``). Neither the secret nor any token appears in a log or an error.
public struct HMRCTokenClient: TokenRefresher {
    /// HMRC's production API platform.
    public static let productionBaseURL = "https://api.service.hmrc.gov.uk"
    /// HMRC's sandbox (test) API platform.
    public static let testBaseURL = "https://test-api.service.hmrc.gov.uk"
    /// The scopes the VAT (MTD) API needs.
    public static let vatScopes = ["read:vat", "write:vat"]

    /// The token endpoint, `{base}/oauth/token`.
    public var tokenURL: String
    /// The HMRC application's client id.
    public var clientID: String
    /// The HMRC application's client secret.
    public var clientSecret: Secret
    /// The deadline of one call to the token endpoint. Defaults to 30 seconds.
    public var timeout: Duration
    private let transport: GatewayTransport
    private let logger: Logger

    /// Creates a client for the token endpoint under `baseURL` (e.g. ``productionBaseURL``).
    public init(
        baseURL: String, clientID: String, clientSecret: Secret, transport: GatewayTransport, logger: Logger,
        timeout: Duration = .seconds(30)
    ) {
        self.tokenURL = Self.url(baseURL, "/oauth/token")
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.transport = transport
        self.logger = logger
        self.timeout = timeout
    }

    /// `{base}{path}` with exactly one slash between them.
    public static func url(_ baseURL: String, _ path: String) -> String {
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        return base + path
    }

    public func refresh(_ refreshToken: Secret) async throws -> TokenSet {
        try await self.request([("grant_type", "refresh_token"), ("refresh_token", refreshToken.value)])
    }

    /// Exchanges an authorization code from HMRC's authorize redirect for a token set.
    ///
    /// - Parameters:
    ///   - code: The code from the redirect.
    ///   - redirectURI: The redirect URI the authorization request named (HMRC compares them).
    public func exchange(code: Secret, redirectURI: String) async throws -> TokenSet {
        try await self.request([("grant_type", "authorization_code"), ("code", code.value), ("redirect_uri", redirectURI)])
    }

    private func request(_ grant: [(String, String)]) async throws -> TokenSet {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let form = grant + [("client_id", self.clientID), ("client_secret", self.clientSecret.value)]
        let body = form.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")" }.joined(separator: "&")
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        headers.add(name: "Accept", value: "application/json")
        let response: GatewayHTTPResponse
        do {
            response = try await self.transport.post(
                url: self.tokenURL, body: ByteBuffer(string: body), headers: headers, timeout: self.timeout, logger: self.logger)
        } catch {
            throw OAuthTokenClient.tokenError(sending: error)
        }
        do {
            return try OAuthTokenClient.tokenSet(from: response)
        } catch let error as TokenError {
            self.logger.notice(
                "HMRC's token endpoint did not issue a token set",
                metadata: ["oauth.error": "\(error.code)", "http.status": "\(response.status.code)"])
            throw error
        }
    }
}
