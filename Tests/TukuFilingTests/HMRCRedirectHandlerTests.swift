import Foundation
import Logging
import PostgresNIO
import Synchronization
import Testing
import TukuCore
import TukuFiling
import TukuGateway
import TukuHMRC
import TukuPostgres
import TukuTestSupport
import TukuWorker

/// The redirects the sandbox does not make (it only answers a moved prefix with 308): a 303 after a POST, a
/// redirect to another origin, and too many hops, answered by a scripted HTTPS server.
@Suite("HMRC VAT handler: redirects it refuses")
struct HMRCRedirectHandlerTests {
    static let certificates = Result { try TestCertificates.make() }

    /// Replies in order; when they run out, a POST is filed (201 with a receipt) and a GET finds the return held.
    final class Script: Sendable {
        let replies = Mutex<[ScriptedGateway.Reply]>([])

        init(_ replies: ScriptedGateway.Reply...) { self.replies.withLock { $0 = replies } }

        func reply(to request: ScriptedGateway.Request) -> ScriptedGateway.Reply {
            if let next = self.replies.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) { return next }
            let json = ["Content-Type": "application/json", "X-CorrelationId": "c-1"]
            if request.method == "POST" {
                return .respond(
                    status: 201, headers: json.merging(["Receipt-ID": UUID().uuidString]) { $1 },
                    body: #"{"processingDate":"2026-12-05T07:00:00.000Z","formBundleNumber":"123456789012","paymentIndicator":"BANK"}"#)
            }
            return .respond(status: 200, headers: json, body: #"{"periodKey":"26A1","vatDueSales":2400.00}"#)
        }
    }

    /// A refresher for a token set that never needs one here.
    struct NoRefresh: TokenRefresher {
        func refresh(_ refreshToken: Secret) async throws -> TokenSet {
            throw TokenError(.needsAuthorisation, "not expected in this test")
        }
    }

    func withHandler(_ script: Script, _ body: @Sendable (PostgresClient, ScriptedGateway) async throws -> Void) async throws {
        let certificates = try Self.certificates.get()
        try await TestDatabase.withFresh { client, _ in
            let tokens = TokenStore(client: client, cipher: try TokenCipher(base64: TokenCipher.generateKey()), logger: .test())
            try await tokens.store(
                name: "vat-agent", gateway: .hmrc,
                tokens: TokenSet(accessToken: Secret("access-1"), expiresAt: Date().addingTimeInterval(3600), refreshToken: Secret("r-1")),
                tenants: ["acme"])
            let gateway = try await ScriptedGateway(certificates: certificates, requireClientCertificate: false) { script.reply(to: $0) }
            let transport = try GatewayTransport(
                configuration: .init(tls: .init(trustRoots: .caBundle(path: certificates.path("ca.pem")))), logger: .test())
            do {
                let vendor = try FraudPreventionHeaders(configuration: HMRCVATHandlerTests.vendor)
                let dependencies = HMRCVATHandler.Dependencies(
                    call: .init(gateway: .hmrc, transport: transport, tokens: tokens, refresher: NoRefresh(), limiter: nil),
                    baseURL: "https://127.0.0.1:\(gateway.port)", vendor: vendor)
                let handlers = try StandardHandlers.registry(definitions: try KindDefinition.bundled(), filing: nil, hmrc: dependencies)
                try await WorkerHarness.withWorker(client: client, handlers: handlers) { _ in try await body(client, gateway) }
                try await transport.shutdown()
                try await gateway.shutdown()
            } catch {
                try? await transport.shutdown()
                try? await gateway.shutdown()
                throw error
            }
        }
    }

    func enqueue(_ client: PostgresClient) async throws -> Int64 {
        let payload = try HMRCVATHandlerTests.example("hmrc.vat.return", "batch-debit")
        return try await client.scalar("SELECT tuku.enqueue('hmrc.vat.return', 'acme', \(payload)::jsonb)", as: Int64.self)
    }

    @Test("a 303 answering the POST may mean it was filed: outcome unknown, and the next attempt looks the period up")
    func seeOtherAfterPost() async throws {
        let script = Script(.respond(status: 303, headers: ["Location": "/organisations/vat/123456789/returns/26A1"], body: ""))
        try await self.withHandler(script) { client, gateway in
            let id = try await self.enqueue(client)
            try await client.waitUntil("SELECT state = 'succeeded' FROM tuku.jobs WHERE id = \(id)", timeout: .seconds(30))
            #expect(try await HMRCVATHandlerTests.exchanges(client, id) == "submit 303 outcome_unknown, reconcile 200 already_filed")
            #expect(
                gateway.requests.map { "\($0.method) \($0.path)" } == [
                    "POST /organisations/vat/123456789/returns", "GET /organisations/vat/123456789/returns/26A1",
                ])
        }
    }

    @Test("a redirect to another origin is not followed: the token and fraud headers stay with HMRC; the job is rejected")
    func otherOrigin() async throws {
        let script = Script(.respond(status: 307, headers: ["Location": "https://elsewhere.example/organisations"], body: ""))
        try await self.withHandler(script) { client, gateway in
            let id = try await self.enqueue(client)
            try await client.waitUntil("SELECT state = 'rejected' FROM tuku.jobs WHERE id = \(id)")
            #expect(
                try await client.scalar("SELECT last_error->>'message' FROM tuku.jobs WHERE id = \(id)", as: String.self)
                    .contains("another origin"))
            #expect(gateway.requests.count == 1)
        }
    }

    @Test("redirects are followed with the POST and its body five times, each its own row, and the sixth is refused")
    func tooManyHops() async throws {
        let hop = ScriptedGateway.Reply.respond(status: 301, headers: ["Location": "/organisations/vat/123456789/returns"], body: "")
        let script = Script(hop, hop, hop, hop, hop, hop)
        try await self.withHandler(script) { client, gateway in
            let id = try await self.enqueue(client)
            try await client.waitUntil("SELECT state = 'rejected' FROM tuku.jobs WHERE id = \(id)")
            #expect(
                try await HMRCVATHandlerTests.exchanges(client, id)
                    == Array(repeating: "submit 301 redirected", count: 5).joined(separator: ", ") + ", submit 301 rejected")
            #expect(
                try await client.scalar("SELECT last_error->>'message' FROM tuku.jobs WHERE id = \(id)", as: String.self)
                    .contains("more than 5 redirects"))
            let requests = gateway.requests
            #expect(requests.count == 6)
            #expect(requests.allSatisfy { $0.method == "POST" && $0.body.contains("\"vatDueSales\"") })
        }
    }
}
