import Foundation
import Logging
import NIOCore
import NIOHTTP1
import TukuCore
import TukuGateway
import TukuPostgres

/// The OAuth 2.0 token endpoint, as IRD runs it (Identity and Access build pack §2.1.3.6, §2.1.4): the grant in a
/// form body (`Content-Type: application/x-www-form-urlencoded;charset=UTF-8`, never in the query), client
/// authentication with HTTP Basic only, a JSON answer with a new access token and, for cloud clients, a new (rotated)
/// refresh token.
public struct OAuthTokenClient: TokenRefresher {
    public var tokenURL: String
    public var clientID: String
    public var clientSecret: Secret
    private let transport: GatewayTransport
    private let logger: Logger

    public init(tokenURL: String, clientID: String, clientSecret: Secret, transport: GatewayTransport, logger: Logger) {
        self.tokenURL = tokenURL
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.transport = transport
        self.logger = logger
    }

    public func refresh(_ refreshToken: Secret) async throws -> TokenSet {
        try await self.request(["grant_type": "refresh_token", "refresh_token": refreshToken.value])
    }

    /// Exchanges an authorization code (from IRD's authorize redirect) for a token set.
    ///
    /// - Parameters:
    ///   - code: The code from the redirect.
    ///   - redirectURI: The redirect URI the authorization request named (IRD compares them).
    ///   - codeVerifier: The PKCE verifier whose S256 challenge the authorization request sent, if it sent one.
    public func exchange(code: Secret, redirectURI: String, codeVerifier: Secret? = nil) async throws -> TokenSet {
        var form = ["grant_type": "authorization_code", "code": code.value, "redirect_uri": redirectURI]
        if let codeVerifier { form["code_verifier"] = codeVerifier.value }
        return try await self.request(form)
    }

    private struct Answer: Decodable {
        var accessToken: String
        var refreshToken: String?
        var expiresIn: Double

        enum CodingKeys: String, CodingKey {
            case accessToken = "access_token", refreshToken = "refresh_token", expiresIn = "expires_in"
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.accessToken = try container.decode(String.self, forKey: .accessToken)
            self.refreshToken = try container.decodeIfPresent(String.self, forKey: .refreshToken)
            // IRD's samples show expires_in both as a number and as a string.
            if let number = try? container.decode(Double.self, forKey: .expiresIn) {
                self.expiresIn = number
            } else if let text = try? container.decode(String.self, forKey: .expiresIn), let number = Double(text) {
                self.expiresIn = number
            } else {
                throw DecodingError.dataCorruptedError(forKey: .expiresIn, in: container, debugDescription: "expires_in is not a number")
            }
        }
    }

    private func request(_ form: [String: String]) async throws -> TokenSet {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let body = form.sorted { $0.key < $1.key }
            .map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")" }
            .joined(separator: "&")
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded;charset=UTF-8")
        headers.add(name: "Accept", value: "application/json")
        // RFC 6749 §2.3.1: the id and secret are form-encoded before they are joined and base64-encoded.
        let encode = { (text: String) in text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text }
        let basic = Data("\(encode(self.clientID)):\(encode(self.clientSecret.value))".utf8).base64EncodedString()
        headers.add(name: "Authorization", value: "Basic \(basic)")
        let response: GatewayHTTPResponse
        do {
            response = try await self.transport.post(
                url: self.tokenURL, body: ByteBuffer(string: body), headers: headers, timeout: .seconds(30))
        } catch {
            throw Self.tokenError(sending: error)
        }
        return try Self.tokenSet(from: response)
    }

    /// What a failed send to a token endpoint says about the refresh token it carried.
    ///
    /// If the request may have reached the endpoint, the refresh token may be spent: the token store then asks a
    /// person rather than presenting it again. Otherwise nothing was taken.
    static func tokenError(sending error: TransportError) -> TokenError {
        if error.requestMayHaveReachedGateway {
            return TokenError(.refreshOutcomeUnknown, "the token endpoint may have received the request but did not answer (\(error.code))")
        }
        return TokenError(.refreshFailed, "the token endpoint could not be reached (\(error.code))")
    }

    /// Reads a token endpoint's answer (RFC 6749 §5.1, §5.2) into a token set, or the ``TokenError`` that says what
    /// became of the refresh token. IRD's and HMRC's endpoints answer alike.
    static func tokenSet(from response: GatewayHTTPResponse) throws -> TokenSet {
        let status = Int(response.status.code)
        if (400..<500).contains(status), status != 408, status != 429 {
            let error =
                (try? JSONDecoder().decode([String: String].self, from: Data(response.body.readableBytesView)))?["error"]
                ?? "HTTP \(status)"
            // Only invalid_grant says the grant itself (the refresh token) is dead. Everything else a 4xx says
            // (invalid_client, unauthorized_client, invalid_request, a wrong URL) is about this client's credentials
            // or request: one misconfigured worker must not send a healthy set to a person.
            if error == "invalid_grant" {
                throw TokenError(.needsAuthorisation, "the token endpoint refused the refresh token (invalid_grant)")
            }
            throw TokenError(
                .clientRejected,
                "the token endpoint refused this client's request (\(Self.safeErrorCode(error))): check the worker's OAuth client id, secret and token URL"
            )
        }
        guard status == 200 else {
            if status == 502 || status == 504 {
                // A proxy answered for an endpoint that may have processed the refresh.
                throw TokenError(.refreshOutcomeUnknown, "the token endpoint's proxy answered HTTP \(status)")
            }
            throw TokenError(.refreshFailed, "the token endpoint answered HTTP \(status)")
        }
        guard let answer = try? JSONDecoder().decode(Answer.self, from: Data(response.body.readableBytesView)) else {
            // It accepted the request, so the refresh token is spent, but the new one cannot be read.
            throw TokenError(.refreshOutcomeUnknown, "the token endpoint's answer is not a token response")
        }
        return TokenSet(
            accessToken: Secret(answer.accessToken), expiresAt: Date().addingTimeInterval(answer.expiresIn),
            refreshToken: answer.refreshToken.map(Secret.init))
    }

    /// The OAuth error code as reported, if it looks like one (letters and underscores); never echoes anything else
    /// the endpoint sent.
    static func safeErrorCode(_ code: String) -> String {
        code.count <= 40 && code.allSatisfy({ $0.isASCII && ($0.isLetter || $0 == "_" || $0 == " " || $0.isNumber) })
            ? code : "unrecognised error"
    }
}
