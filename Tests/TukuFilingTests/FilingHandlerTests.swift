import Foundation
import Logging
import PostgresNIO
import Synchronization
import Testing
import TukuCore
import TukuFiling
import TukuGateway
import TukuPostgres
import TukuTestSupport
import TukuWorker

/// The IRD filing handler end to end: a real worker, a real PostgreSQL, real mutual TLS to a scripted gateway.
@Suite("IRD filing over mutual TLS")
struct FilingHandlerTests {
    static let certificates = Result { try TestCertificates.make() }

    /// What a test's gateway answers: a queue of replies per SOAP action (`File`, `RetrieveStatus`) and for the
    /// token endpoint; an empty queue answers success.
    final class Script: Sendable {
        let replies = Mutex<[String: [ScriptedGateway.Reply]]>([:])

        func add(_ action: String, _ replies: ScriptedGateway.Reply...) {
            self.replies.withLock { $0[action, default: []] += replies }
        }

        func reply(to request: ScriptedGateway.Request) -> ScriptedGateway.Reply {
            if request.path.hasSuffix("/oauth/token") {
                let scripted = self.replies.withLock { $0["token"]?.isEmpty == false ? $0["token"]!.removeFirst() : nil }
                return scripted
                    ?? .respond(
                        status: 200, headers: ["Content-Type": "application/json"],
                        body: #"{"access_token":"refreshed-access","token_type":"Bearer","expires_in":"28800","refresh_token":"refresh-2"}"#
                    )
            }
            let action = request.action
            if let scripted = self.replies.withLock({ $0[action]?.isEmpty == false ? $0[action]!.removeFirst() : nil }) {
                return scripted
            }
            return .respond(
                status: 200, body: action == "RetrieveStatus" ? GatewayReplies.noReturnFound : GatewayReplies.file())
        }
    }

    /// Runs `body` with a migrated database, a loaded token set for tenant `acme`, a scripted gateway and a
    /// worker running the standard handlers against it.
    func withFiling(
        script: Script, timeout: Duration = .seconds(10), _ body: @Sendable (PostgresClient, ScriptedGateway) async throws -> Void
    ) async throws {
        let certificates = try Self.certificates.get()
        try await TestDatabase.withFresh { client, _ in
            let cipher = try TokenCipher(base64: TokenCipher.generateKey())
            let tokens = TokenStore(client: client, cipher: cipher, logger: .test())
            try await tokens.store(
                name: "payroll-admin", gateway: .ird,
                tokens: TokenSet(
                    accessToken: Secret("access-1"), expiresAt: Date().addingTimeInterval(3600), refreshToken: Secret("refresh-1")),
                tenants: ["acme"])
            let gateway = try await ScriptedGateway(certificates: certificates) { script.reply(to: $0) }
            var transportConfiguration = GatewayTransport.Configuration(
                tls: .init(
                    clientIdentity: .init(
                        certificateChainPath: certificates.path("client.pem"), privateKeyPath: certificates.path("client.key")),
                    trustRoots: .caBundle(path: certificates.path("ca.pem"))))
            transportConfiguration.timeouts.request = timeout
            let transport = try GatewayTransport(configuration: transportConfiguration, logger: .test())
            do {
                let endpoint = try GatewayEndpoint.sandbox(baseURL: gateway.baseURL, profile: .cloud)
                let dependencies = IRDFilingHandler.Dependencies(
                    endpoint: endpoint, transport: transport, tokens: tokens,
                    refreshers: [.ird: OAuthTokenClient(
                        tokenURL: "https://127.0.0.1:\(gateway.port)/oauth/token", clientID: "tuku-test", clientSecret: Secret("s3cret"),
                        transport: transport, logger: .test())],
                    envelopes: SOAPEnvelopeBuilder(
                        configuration: .init(softwareProvider: "Tuku", softwarePlatform: "Linux", softwareRelease: "test")))
                var definitions = try KindDefinition.bundled()
                // Short per-call timeouts so the ambiguous cases do not take a minute.
                for kind in definitions.keys where kind.hasPrefix("ird.") { definitions[kind]?.timeoutSeconds = timeout.inSeconds }
                let handlers = try StandardHandlers.registry(definitions: definitions, filing: dependencies)
                try await WorkerHarness.withWorker(client: client, handlers: handlers) { _ in
                    try await body(client, gateway)
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

    static func example(_ kind: String, _ name: String) throws -> String {
        try String(
            contentsOf: TestCertificates.repositoryRoot.appendingPathComponent("jobs/\(kind)/examples/\(name).json"), encoding: .utf8)
    }

    func enqueue(_ client: PostgresClient, kind: String = "ird.ei.file", example: String = "three-employees") async throws -> Int64 {
        let payload = try Self.example(kind, example)
        return try await client.scalar("SELECT tuku.enqueue(\(kind), 'acme', \(payload)::jsonb)", as: Int64.self)
    }

    @Test("a valid return is filed over mutual TLS with the bearer token; the job succeeds and the exchange is stored without credentials")
    func filesAReturn() async throws {
        try await self.withFiling(script: Script()) { client, gateway in
            let id = try await self.enqueue(client)
            try await client.waitUntil("SELECT state = 'succeeded' FROM tuku.jobs WHERE id = \(id)")
            let requests = gateway.requests
            #expect(requests.map(\.action) == ["File"])
            #expect(requests.first?.headers["authorization"] == "Bearer access-1")
            #expect(requests.first?.headers["content-type"]?.hasPrefix("application/soap+xml") == true)
            #expect(requests.first?.path == "/gateway/gws/returns/")
            let stored = try await client.scalar(
                """
                SELECT concat_ws('|', purpose, action, http_status, gateway_id, submission_key, outcome,
                    position('access-1' in request_body) = 0, position('<ei:fileRequest' in request_body) > 0)
                FROM tuku.exchanges WHERE job_id = \(id)
                """, as: String.self)
            #expect(stored == "submit|https://services.ird.govt.nz/GWS/Returns/Return/File|200|0000 002G N2?N N|987654321|succeeded|t|t")
        }
    }

    @Test("an invalid payload is rejected with every problem and no call is made")
    func rejectsInvalidPayload() async throws {
        try await self.withFiling(script: Script()) { client, gateway in
            var payload = try Self.example("ird.ei.file", "three-employees")
            payload = payload.replacingOccurrences(of: "\"payDayDate\": \"2025-05-16\"", with: "\"payDayDate\": \"2025-06-40\"")
            let id = try await client.scalar("SELECT tuku.enqueue('ird.ei.file', 'acme', \(payload)::jsonb)", as: Int64.self)
            try await client.waitUntil("SELECT state = 'rejected' FROM tuku.jobs WHERE id = \(id)")
            #expect(
                try await client.scalar("SELECT last_error->>'code' FROM tuku.jobs WHERE id = \(id)", as: String.self) == "payload_invalid")
            #expect(
                try await client.scalar("SELECT last_error->'problems'->0->>'path' FROM tuku.jobs WHERE id = \(id)", as: String.self)
                    == "payDayDate")
            #expect(gateway.requests.isEmpty)
        }
    }

    @Test("IRD's rejection (status 134) ends the job rejected with IRD's code and message")
    func gatewayRejection() async throws {
        let script = Script()
        script.add("File", .respond(status: 200, body: GatewayReplies.file(code: 134, message: "Invalid IRD number")))
        try await self.withFiling(script: script) { client, _ in
            let id = try await self.enqueue(client)
            try await client.waitUntil("SELECT state = 'rejected' FROM tuku.jobs WHERE id = \(id)")
            #expect(
                try await client.scalar("SELECT last_error->>'message' FROM tuku.jobs WHERE id = \(id)", as: String.self)
                    == "IRD status 134: Invalid IRD number")
            #expect(
                try await client.scalar("SELECT gateway_status->0->>'code' FROM tuku.exchanges WHERE job_id = \(id)", as: String.self)
                    == "134")
        }
    }

    @Test("HTTP 429 throttles the job without spending an attempt, honouring Retry-After")
    func throttled() async throws {
        let script = Script()
        script.add("File", .respond(status: 429, headers: ["Retry-After": "1"], body: GatewayReplies.unauthorisedFault))
        try await self.withFiling(script: script) { client, gateway in
            let id = try await self.enqueue(client)
            try await client.waitUntil("SELECT state = 'succeeded' FROM tuku.jobs WHERE id = \(id)", timeout: .seconds(20))
            #expect(try await client.scalar("SELECT attempt FROM tuku.jobs WHERE id = \(id)", as: Int32.self) == 1)
            #expect(
                try await client.scalar(
                    "SELECT string_agg(outcome, ',' ORDER BY id) FROM tuku.attempts WHERE job_id = \(id)", as: String.self)
                    == "throttled,succeeded")
            let requests = gateway.requests
            #expect(requests.count == 2)
            let gap = try await client.scalar(
                "SELECT extract(epoch FROM max(started_at) - min(started_at))::float8 FROM tuku.exchanges WHERE job_id = \(id)",
                as: Double.self)
            #expect(gap >= 0.95)
        }
    }

    @Test("IRD status 1 refreshes the token set once and calls again with the new token")
    func reauthorises() async throws {
        let script = Script()
        script.add("File", .respond(status: 200, body: GatewayReplies.file(code: 1, message: "Authentication failure")))
        try await self.withFiling(script: script) { client, gateway in
            let id = try await self.enqueue(client)
            try await client.waitUntil("SELECT state = 'succeeded' FROM tuku.jobs WHERE id = \(id)")
            let requests = gateway.requests
            #expect(requests.map { $0.path.hasSuffix("/oauth/token") ? "token" : $0.action } == ["File", "token", "File"])
            #expect(requests.last?.headers["authorization"] == "Bearer refreshed-access")
            #expect(requests[1].body.contains("grant_type=refresh_token") && requests[1].body.contains("refresh_token=refresh-1"))
            #expect(requests[1].headers["authorization"] == "Basic " + Data("tuku-test:s3cret".utf8).base64EncodedString())
            #expect(try await client.scalar("SELECT generation FROM tuku.oauth_tokens", as: Int64.self) == 2)
            #expect(try await client.scalar("SELECT count(*)::int8 FROM tuku.attempts WHERE job_id = \(id)", as: Int64.self) == 1)
        }
    }

    @Test(
        "a timeout after sending is an unknown outcome: the next attempt asks RetrieveStatus and, finding the return, files nothing again")
    func reconcilesInsteadOfRefiling() async throws {
        let script = Script()
        script.add("File", .stall(.seconds(8)))
        script.add("RetrieveStatus", .respond(status: 200, body: GatewayReplies.status(submissionKey: 555_000_111)))
        try await self.withFiling(script: script, timeout: .seconds(3)) { client, gateway in
            let id = try await self.enqueue(client)
            try await client.waitUntil("SELECT state = 'succeeded' FROM tuku.jobs WHERE id = \(id)", timeout: .seconds(30))
            #expect(gateway.requests.map(\.action) == ["File", "RetrieveStatus"])
            let exchanges = try await client.scalar(
                "SELECT string_agg(concat_ws(':', attempt, purpose, coalesce(transport_error, http_status::text), outcome, submission_key), ',' ORDER BY id) FROM tuku.exchanges WHERE job_id = \(id)",
                as: String.self)
            #expect(exchanges == "1:submit:timed_out_after_send:outcome_unknown,2:reconcile:200:succeeded:555000111")
            #expect(
                try await client.scalar(
                    "SELECT string_agg(outcome || '>' || resulting_state, ',' ORDER BY id) FROM tuku.attempts WHERE job_id = \(id)",
                    as: String.self)
                    == "retry>retryable,succeeded>succeeded")
        }
    }

    @Test("a dropped connection after sending is reconciled too; when IRD has nothing, the return is filed again")
    func reconcilesThenRefiles() async throws {
        let script = Script()
        script.add("File", .drop)
        try await self.withFiling(script: script) { client, gateway in
            let id = try await self.enqueue(client)
            try await client.waitUntil("SELECT state = 'succeeded' FROM tuku.jobs WHERE id = \(id)", timeout: .seconds(30))
            #expect(gateway.requests.map(\.action) == ["File", "RetrieveStatus", "File"])
            #expect(
                try await client.scalar(
                    "SELECT count(*)::int8 FROM tuku.exchanges WHERE job_id = \(id) AND outcome = 'outcome_unknown'", as: Int64.self) == 1)
        }
    }

    @Test(
        "a timeout that never reached IRD: RetrieveStatus answers 103 (No return found) or EXP without a key, and the return is filed once",
        arguments: [("103", GatewayReplies.noReturnFound), ("EXP", GatewayReplies.expected)])
    func noReturnHeldIsFiled(answer: String, reply: String) async throws {
        let script = Script()
        script.add("File", .stall(.seconds(8)))
        script.add("RetrieveStatus", .respond(status: 200, body: reply))
        try await self.withFiling(script: script, timeout: .seconds(3)) { client, gateway in
            let id = try await self.enqueue(client)
            try await client.waitUntil("SELECT state = 'succeeded' FROM tuku.jobs WHERE id = \(id)", timeout: .seconds(40))
            #expect(gateway.requests.map(\.action) == ["File", "RetrieveStatus", "File"], "after \(answer)")
            let exchanges = try await client.scalar(
                "SELECT string_agg(concat_ws(':', attempt, purpose, coalesce(transport_error, http_status::text), outcome), ',' ORDER BY id) FROM tuku.exchanges WHERE job_id = \(id)",
                as: String.self)
            #expect(exchanges == "1:submit:timed_out_after_send:outcome_unknown,2:reconcile:200:not_filed,2:submit:200:succeeded", "after \(answer)")
        }
    }

    @Test("a return whose previous worker died mid-call (lease expired) is reconciled before it is filed again")
    func reconcilesAfterLostLease() async throws {
        try await self.withFiling(script: Script()) { client, gateway in
            let payload = try Self.example("ird.ei.file", "three-employees")
            // As the rescuer leaves a job whose worker vanished: retryable, one attempt spent, lease_expired, and
            // "may have reached the gateway" set (unsettled_since).
            try await client.execute(
                """
                INSERT INTO tuku.jobs (kind, tenant, payload, run_at) VALUES ('ird.ei.file', 'acme', \(payload)::jsonb, now() + interval '1 hour')
                """)
            try await client.execute(
                """
                UPDATE tuku.jobs SET state = 'retryable', attempt = 1, run_at = now(), unsettled_since = now() - interval '1 minute',
                    last_error = '{"code": "lease_expired", "message": "worker 9 stopped renewing its lease"}'
                """)
            try await client.waitUntil("SELECT state = 'succeeded' FROM tuku.jobs", timeout: .seconds(30))
            #expect(gateway.requests.map(\.action) == ["RetrieveStatus", "File"])
        }
    }

    @Test("IRD refuses the token and the token endpoint is down (503): the job waits without spending an attempt and files once it is back")
    func tokenEndpointDownCostsNoAttempt() async throws {
        let script = Script()
        script.add("File", .respond(status: 200, body: GatewayReplies.file(code: 1, message: "Authentication failure")))
        script.add("token", .respond(status: 503, headers: ["Content-Type": "application/json"], body: #"{"error":"temporarily_unavailable"}"#))
        try await self.withFiling(script: script) { client, gateway in
            let id = try await self.enqueue(client)
            // Throttled runs wait as `scheduled` (docs/job-states.md).
            try await client.waitUntil("SELECT state = 'scheduled' FROM tuku.jobs WHERE id = \(id)")
            #expect(
                try await client.scalar("SELECT last_error->>'code' FROM tuku.jobs WHERE id = \(id)", as: String.self) == "auth_refresh_failed")
            #expect(try await client.scalar("SELECT string_agg(outcome, ',') FROM tuku.attempts WHERE job_id = \(id)", as: String.self) == "throttled")
            // A short wait for the endpoint, not the five minutes an operator's problem gets.
            #expect(try await client.scalar("SELECT run_at < now() + interval '30 seconds' FROM tuku.jobs WHERE id = \(id)", as: Bool.self))
            try await client.waitUntil("SELECT state = 'succeeded' FROM tuku.jobs WHERE id = \(id)", timeout: .seconds(45))
            #expect(try await client.scalar("SELECT attempt FROM tuku.jobs WHERE id = \(id)", as: Int32.self) == 1)
            // The next run presents the set it has (this scripted gateway then accepts it); the refresh token was
            // never taken, so the set is still generation 1 and healthy.
            #expect(gateway.requests.map { $0.path.hasSuffix("/oauth/token") ? "token" : $0.action } == ["File", "token", "File"])
            #expect(
                try await client.scalar(
                    "SELECT generation = 1 AND needs_authorisation_since IS NULL FROM tuku.oauth_tokens", as: Bool.self))
        }
    }

    @Test("a job for a tenant without a token set waits (retry) with a clear error instead of failing the filing")
    func noToken() async throws {
        try await self.withFiling(script: Script()) { client, gateway in
            let payload = try Self.example("ird.ei.file", "three-employees")
            let id = try await client.scalar("SELECT tuku.enqueue('ird.ei.file', 'stranger', \(payload)::jsonb)", as: Int64.self)
            try await client.waitUntil("SELECT state = 'retryable' FROM tuku.jobs WHERE id = \(id)")
            #expect(
                try await client.scalar("SELECT last_error->>'code' FROM tuku.jobs WHERE id = \(id)", as: String.self) == "auth_no_token")
            #expect(gateway.requests.isEmpty)
        }
    }

    @Test("a reply that is not valid UTF-8 is stored exactly (response_body_bytes) beside its readable text; a valid one only as text")
    func storesRepliesExactly() async throws {
        // Latin-1 "é" (0xE9) and a lone 0xFF inside an otherwise ordinary fault: not UTF-8.
        let reply = Array(GatewayReplies.unauthorisedFault.utf8.prefix(60)) + [0x41, 0x6E, 0x64, 0x72, 0xE9, 0xFF, 0x0A]
            + Array(GatewayReplies.unauthorisedFault.utf8.dropFirst(60))
        #expect(String(validating: reply, as: UTF8.self) == nil)
        let script = Script()
        script.add("File", .respondBytes(status: 503, headers: ["Retry-After": "1"], body: reply))
        try await self.withFiling(script: script) { client, _ in
            let id = try await self.enqueue(client)
            try await client.waitUntil("SELECT state = 'succeeded' FROM tuku.jobs WHERE id = \(id)")
            let first = try await client.scalar(
                "SELECT encode(response_body_bytes, 'hex') FROM tuku.exchanges WHERE job_id = \(id) ORDER BY id LIMIT 1", as: String.self)
            #expect(first == reply.map { String(format: "%02x", $0) }.joined())
            #expect(
                try await client.scalar(
                    "SELECT position(U&'\\FFFD' in response_body) > 0 FROM tuku.exchanges WHERE job_id = \(id) ORDER BY id LIMIT 1",
                    as: Bool.self))
            #expect(
                try await client.scalar(
                    "SELECT count(*)::int8 FROM tuku.exchanges WHERE job_id = \(id) AND response_body IS NOT NULL AND response_body_bytes IS NULL",
                    as: Int64.self) == 1)
        }
    }
}
