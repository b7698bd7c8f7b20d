import Foundation
import Logging
import Synchronization
import Testing
import TukuCore
import TukuFiling
import TukuGateway
import TukuPostgres
import TukuTestSupport

/// What `HMRCTokenClient` sends to HMRC's token endpoint, and how each kind of answer maps to what became of the
/// single-use refresh token, against a scripted endpoint over real TLS (the sandbox cannot answer 5xx or 429 on its
/// token route). The client's own 30-second deadline applies: a loaded machine must not turn an answer into a timeout.
@Suite("HMRC token endpoint: request and answers")
struct HMRCTokenEndpointTests {
    static let certificates = Result { try TestCertificates.make() }
    static let secret = "s3cret&=+ /x"

    func withEndpoint(
        _ replies: [ScriptedGateway.Reply],
        _ body: @Sendable (HMRCTokenClient, ScriptedGateway) async throws -> Void
    ) async throws {
        let certificates = try Self.certificates.get()
        let queue = Mutex(replies)
        let gateway = try await ScriptedGateway(certificates: certificates, requireClientCertificate: false) { _ in
            queue.withLock { $0.isEmpty ? nil : $0.removeFirst() }
                ?? .respond(
                    status: 200, headers: ["Content-Type": "application/json"],
                    body:
                        #"{"access_token":"new-access","refresh_token":"new-refresh","expires_in":14400,"scope":"read:vat write:vat","token_type":"bearer"}"#
                )
        }
        let transport = try GatewayTransport(
            configuration: .init(tls: .init(trustRoots: .caBundle(path: certificates.path("ca.pem")))), logger: .test())
        let client = HMRCTokenClient(
            baseURL: "https://127.0.0.1:\(gateway.port)/", clientID: "hmrc-app", clientSecret: Secret(Self.secret), transport: transport,
            logger: .test())
        do {
            try await body(client, gateway)
            try await transport.shutdown()
            try await gateway.shutdown()
        } catch {
            try? await transport.shutdown()
            try? await gateway.shutdown()
            throw error
        }
    }

    static func form(_ body: String) -> [String: String] {
        Dictionary(
            body.split(separator: "&").map { pair -> (String, String) in
                let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding ?? String($0) }
                return (parts[0], parts.count > 1 ? parts[1] : "")
            }, uniquingKeysWith: { first, _ in first })
    }

    @Test(
        "a refresh is POST {base}/oauth/token with the grant and the client's id and secret form-encoded in the body, no Basic header; the answer is a 4-hour set"
    )
    func refreshRequest() async throws {
        try await withEndpoint([]) { client, gateway in
            let set = try await client.refresh(Secret("refresh/1+="))
            #expect(set.accessToken.value == "new-access")
            #expect(set.refreshToken?.value == "new-refresh")
            #expect(abs(set.expiresAt.timeIntervalSinceNow - 14_400) < 60)
            let request = try #require(gateway.requests.first)
            #expect(request.method == "POST")
            #expect(request.path == "/oauth/token")
            #expect(request.headers["content-type"] == "application/x-www-form-urlencoded")
            #expect(request.headers["authorization"] == nil)
            #expect(
                Self.form(request.body) == [
                    "grant_type": "refresh_token", "refresh_token": "refresh/1+=", "client_id": "hmrc-app", "client_secret": Self.secret,
                ])
        }
    }

    @Test("a code exchange sends grant_type=authorization_code with the code and the redirect URI")
    func exchangeRequest() async throws {
        try await withEndpoint([]) { client, gateway in
            _ = try await client.exchange(code: Secret("code-1"), redirectURI: "http://127.0.0.1:8766/hmrc-callback")
            let request = try #require(gateway.requests.first)
            #expect(
                Self.form(request.body) == [
                    "grant_type": "authorization_code", "code": "code-1", "redirect_uri": "http://127.0.0.1:8766/hmrc-callback",
                    "client_id": "hmrc-app", "client_secret": Self.secret,
                ])
        }
    }

    static func json(_ status: Int, _ body: String) -> ScriptedGateway.Reply {
        .respond(status: status, headers: ["Content-Type": "application/json"], body: body)
    }

    @Test(
        "each answer maps to what it says about the single-use refresh token",
        arguments: [
            (
                json(400, #"{"error":"invalid_grant","error_description":"the refresh token was already used"}"#),
                TokenError.Code.needsAuthorisation
            ),
            (json(401, #"{"error":"invalid_client","error_description":"invalid client credentials"}"#), .clientRejected),
            (json(400, #"{"error":"invalid_request"}"#), .clientRejected),
            (json(400, #"{"error":"unsupported_grant_type"}"#), .clientRejected),
            (.respond(status: 429, body: ""), .refreshFailed),
            (.respond(status: 500, body: "oops"), .refreshFailed),
            (json(503, #"{"code":"SCHEDULED_MAINTENANCE","message":"down"}"#), .refreshFailed),
            (.respond(status: 502, body: "bad gateway"), .refreshOutcomeUnknown),
            (.respond(status: 504, body: "timed out"), .refreshOutcomeUnknown),
            (json(200, #"{"access_token":"a"}"#), .refreshOutcomeUnknown),
            // Read, then closed unanswered: the token may be spent (a timeout after sending is the same case).
            (.drop, .refreshOutcomeUnknown),
        ])
    func classification(reply: ScriptedGateway.Reply, expected: TokenError.Code) async throws {
        try await withEndpoint([reply]) { client, _ in
            do {
                _ = try await client.refresh(Secret("refresh-1"))
                Issue.record("the answer was taken as a token set")
            } catch let error as TokenError {
                #expect(error.code == expected)
                #expect(!error.message.contains("refresh-1") && !error.message.contains(Self.secret))
            }
        }
    }
}
