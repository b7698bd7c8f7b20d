import Foundation
import Logging
import NIOHTTP1
import PostgresNIO
import Synchronization
import Testing
import TukuCore
import TukuFiling
import TukuGateway
import TukuPostgres
import TukuTestSupport
import TukuWorker

/// The seam without IRD: a JSON `GET` over one-way TLS through `PacedGatewayCall`, with another gateway's token
/// set, its own rate-limit key and outcome table, as an HMRC handler will use it.
@Suite("The paced gateway call, for a gateway that is not IRD")
struct PacedGatewayCallTests {
    static let certificates = Result { try TestCertificates.make() }

    /// Hands out the next access token on each refresh, and counts the refreshes.
    final class CountingRefresher: TokenRefresher {
        let count = Mutex(0)

        func refresh(_ refreshToken: Secret) async throws -> TokenSet {
            let n = self.count.withLock { count in
                count += 1
                return count
            }
            return TokenSet(
                accessToken: Secret("json-\(n + 1)"), expiresAt: Date().addingTimeInterval(14_400), refreshToken: Secret("r\(n + 1)"))
        }
    }

    /// A JSON answer: `{"code": …}` on errors, `{"id": …}` on success.
    struct Answer: Sendable, Decodable {
        var code: String?
        var id: String?
    }

    /// A small outcome table in the shape of HMRC's: 401 `INVALID_CREDENTIALS` → refresh once, 429 → throttled,
    /// 2xx → succeeded, 504 or no answer after sending → outcome unknown, anything else → rejected with the code.
    static let dialect = GatewayDialect<Answer?>(
        parse: { response in try? JSONDecoder().decode(Answer.self, from: Data(response.body.readableBytesView)) },
        classify: { exchange in
            switch exchange {
            case .noResponse(let sent): return sent ? .outcomeUnknown(reason: "no answer") : .retry(after: .seconds(1))
            case .response(let status, let retryAfter, let answer):
                switch status {
                case 200..<300: return .succeeded(gatewayId: answer?.id, submissionKey: nil)
                case 401 where answer?.code == "INVALID_CREDENTIALS": return .reauthorize
                case 429: return .throttled(retryAfter: retryAfter ?? .seconds(1))
                case 504: return .outcomeUnknown(reason: "HTTP 504")
                default: return .rejected(code: nil, message: answer?.code ?? "HTTP \(status)")
                }
            }
        },
        fill: { record, answer in record.gatewayID = answer?.id })

    @Test("a GET with another gateway's token, paced by its own key; a refused token is refreshed once and the call made again")
    func jsonGet() async throws {
        let certificates = try Self.certificates.get()
        try await TestDatabase.withFresh { client, _ in
            let tokens = TokenStore(client: client, cipher: try TokenCipher(base64: TokenCipher.generateKey()), logger: .test())
            let hour = Date().addingTimeInterval(3600)
            try await tokens.store(
                name: "acme-json", gateway: .hmrc,
                tokens: TokenSet(accessToken: Secret("json-1"), expiresAt: hour, refreshToken: Secret("r1")),
                tenants: ["acme"])
            try await tokens.store(
                name: "acme-ird", gateway: .ird,
                tokens: TokenSet(accessToken: Secret("ird-1"), expiresAt: hour, refreshToken: Secret("i1")),
                tenants: ["acme"])
            try await client.execute("SELECT tuku.set_rate('json.api', 3)")
            let served = Mutex(0)
            let gateway = try await ScriptedGateway(certificates: certificates, requireClientCertificate: false) { _ in
                let n = served.withLock { n in
                    n += 1
                    return n
                }
                return n == 1
                    ? .respond(status: 401, headers: ["Content-Type": "application/json"], body: #"{"code":"INVALID_CREDENTIALS"}"#)
                    : .respond(status: 200, headers: ["Content-Type": "application/json"], body: #"{"id":"obligations-1"}"#)
            }
            let transport = try GatewayTransport(
                configuration: .init(tls: .init(clientIdentity: nil, trustRoots: .caBundle(path: certificates.path("ca.pem")))),
                logger: .test())
            do {
                let refresher = CountingRefresher()
                let call = PacedGatewayCall(
                    dependencies: .init(
                        gateway: .hmrc, transport: transport, tokens: tokens, refresher: refresher,
                        limiter: RateLimiter(client: client, logger: .test())),
                    rateLimitKey: "json.api", timeout: .seconds(10))
                let url = "https://127.0.0.1:\(gateway.port)/organisations/vat/123456789/obligations?status=O"
                var registry = HandlerRegistry()
                registry.register(kind: "json.obligations", retryPolicy: RetryPolicy()) { job, context in
                    var headers = HTTPHeaders()
                    headers.add(name: "Accept", value: "application/vnd.hmrc.1.0+json")
                    let request = GatewayRequest(method: .GET, url: url, headers: headers, body: nil, action: "GET obligations")
                    let completion: PacedGatewayCall.Completion<Answer?> = await call.perform(
                        request, dialect: Self.dialect, job: job, context: context, purpose: .submit, reportsSettlement: false)
                    switch completion {
                    case .stopped(let outcome): return outcome
                    case .answered(.succeeded, _, _): return .succeeded
                    case .answered(let outcome, _, _): return .rejected(JobError(code: "unexpected", message: "\(outcome)"))
                    }
                }
                try await WorkerHarness.withWorker(client: client, handlers: registry) { _ in
                    let id = try await client.scalar("SELECT tuku.enqueue('json.obligations', 'acme', '{}'::jsonb)", as: Int64.self)
                    try await client.waitUntil("SELECT state = 'succeeded' FROM tuku.jobs WHERE id = \(id)")
                    let requests = gateway.requests
                    #expect(requests.map(\.method) == ["GET", "GET"])
                    #expect(
                        requests.map(\.path) == [
                            "/organisations/vat/123456789/obligations?status=O", "/organisations/vat/123456789/obligations?status=O",
                        ])
                    #expect(requests.map { $0.headers["authorization"] } == ["Bearer json-1", "Bearer json-2"])
                    #expect(
                        requests.allSatisfy {
                            $0.headers["accept"] == "application/vnd.hmrc.1.0+json" && $0.headers["content-length"] == nil
                        })
                    #expect(refresher.count.withLock { $0 } == 1)
                    let rows = try await client.query(
                        "SELECT http_status, outcome, action, coalesce(gateway_id, ''), request_body IS NULL FROM tuku.exchanges WHERE job_id = \(id) ORDER BY id"
                    )
                    var exchanges: [String] = []
                    for try await (status, outcome, action, gatewayID, noBody) in rows.decode((Int, String, String, String, Bool).self) {
                        exchanges.append("\(status) \(outcome) \(action) \(gatewayID) \(noBody)")
                    }
                    #expect(exchanges == ["401 reauthorize GET obligations  true", "200 succeeded GET obligations obligations-1 true"])
                    // Both sends were paced and reported under the gateway's own key.
                    #expect(
                        try await client.scalar("SELECT count(*) FROM tuku.rate_limit_sends WHERE key = 'json.api'", as: Int64.self) == 2)
                    // The other gateway's set for the same tenant was neither used nor refreshed.
                    #expect(
                        try await client.scalar("SELECT generation FROM tuku.oauth_tokens WHERE name = 'acme-ird'", as: Int64.self) == 1)
                    #expect(
                        try await client.scalar("SELECT generation FROM tuku.oauth_tokens WHERE name = 'acme-json'", as: Int64.self) == 2)
                }
                try await transport.shutdown()
                try await gateway.shutdown()
            } catch {
                try? await transport.shutdown()
                try? await gateway.shutdown()
                throw error
            }
        }
    }
}
