import Foundation
import Logging
import NIOCore
import NIOHTTP1
import PostgresNIO
import Testing
import TukuCore
import TukuFiling
import TukuGateway
import TukuHMRC
import TukuPostgres
import TukuSandbox
import TukuTestSupport
import TukuWorker

/// The HMRC VAT handler end to end: a real worker and PostgreSQL, the real sandbox's HMRC personality over one-way
/// TLS, a token set from the sandbox's own authorisation-code grant.
@Suite("HMRC VAT handler against the sandbox")
struct HMRCVATHandlerTests {
    static let certificates = Result { try TestCertificates.make() }
    static let applicationID = "hmrc-app"
    static let applicationSecret = "hmrc-app-secret"
    static let vrn = "123456789"

    static let vendor = FraudPreventionHeaders.Configuration(
        productName: "Tuku", versions: ["tuku": "1.0.0"], licenseIDs: ["tuku": "0a1b2c"], publicIP: "203.0.113.6",
        batchProcess: .init(
            deviceID: "beec798b-b366-47fa-b1f8-92cede14a1ce", localIPs: ["10.1.2.3"], macAddresses: ["ea:43:1a:5c:ea:b2"],
            timezone: "UTC+13:00", osFamily: "Linux", osVersion: "6.1", deviceManufacturer: "Tuku", deviceModel: "worker",
            userIDs: ["tuku": "worker-1"]))

    /// What a test gets: the database, the running sandbox, its base URL, the transport and the access token.
    struct Harness: Sendable {
        var client: PostgresClient
        var sandbox: SandboxServer
        var base: String
        var transport: GatewayTransport
        var accessToken: String

        var statistics: SandboxStatistics { sandbox.router.currentStatistics }

        func enqueue(_ kind: String, _ payload: String) async throws -> Int64 {
            try await client.scalar("SELECT tuku.enqueue(\(kind), 'acme', \(payload)::jsonb)", as: Int64.self)
        }
    }

    /// HMRC's token endpoint on the sandbox, as the token store's refresher: the minimal conformance this test target
    /// needs (a refresh-token grant with the application's credentials in the form).
    struct SandboxRefresher: TokenRefresher {
        var url: String
        var transport: GatewayTransport

        func refresh(_ refreshToken: Secret) async throws -> TokenSet {
            let form =
                "grant_type=refresh_token&refresh_token=\(refreshToken.value)&client_id=\(HMRCVATHandlerTests.applicationID)"
                + "&client_secret=\(HMRCVATHandlerTests.applicationSecret)"
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            let response = try await transport.post(url: url, body: Array(form.utf8), headers: headers)
            guard response.status == .ok, let set = HMRCVATHandlerTests.tokenSet(response.bodyBytes) else {
                throw TokenError(.needsAuthorisation, "HMRC refused the refresh: HTTP \(response.status.code)")
            }
            return set
        }
    }

    static func tokenSet(_ body: [UInt8]) -> TokenSet? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
            let access = object["access_token"] as? String, let refresh = object["refresh_token"] as? String
        else { return nil }
        let lifetime = (object["expires_in"] as? Double) ?? 14400
        return TokenSet(accessToken: Secret(access), expiresAt: Date().addingTimeInterval(lifetime), refreshToken: Secret(refresh))
    }

    /// Runs `body` with a migrated database, a sandbox serving HMRC (configured by `configure`), an `hmrc` token set
    /// for tenant `acme` from the sandbox's grant, and a worker running the standard handlers with HMRC's.
    func withHMRC(
        prefix: String = "", timeout: Duration = .seconds(5), revokeAccessToken: Bool = false, paced: Bool = false,
        configure: @Sendable (inout SandboxServer.Configuration) -> Void = { _ in },
        _ body: @Sendable (Harness) async throws -> Void
    ) async throws {
        let certificates = try Self.certificates.get()
        try await TestDatabase.withFresh { client, _ in
            var configuration = SandboxServer.Configuration(
                tls: .init(
                    certificatePath: certificates.path("server.pem"), privateKeyPath: certificates.path("server.key"),
                    clientCAPath: certificates.path("ca.pem")),
                oauth: .init(clients: [RegisteredClient(id: "tuku-test", secret: "sandbox-test-secret")]))
            configuration.mutualTLSPort = 0
            configuration.oneWayTLSPort = 0
            configuration.shutdownGracePeriod = .milliseconds(200)
            var hmrc = HMRCConfiguration(applications: [RegisteredClient(id: Self.applicationID, secret: Self.applicationSecret)])
            // HMRC's 3 requests/s per application, enforced by the sandbox only when the test paces its calls.
            hmrc.rate = paced ? 3 : nil
            configuration.hmrc = hmrc
            configure(&configuration)
            let sandbox = try await SandboxServer(configuration: configuration, logger: .test())
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await sandbox.run() }
                var transportConfiguration = GatewayTransport.Configuration(
                    tls: .init(trustRoots: .caBundle(path: certificates.path("ca.pem"))))
                transportConfiguration.timeouts.request = timeout
                let transport = try GatewayTransport(configuration: transportConfiguration, logger: .test())
                do {
                    let port = try await sandbox.addresses().oneWayTLSPort
                    let origin = "https://127.0.0.1:\(port)"
                    let tokens = TokenStore(client: client, cipher: try TokenCipher(base64: TokenCipher.generateKey()), logger: .test())
                    var set = try await Self.authorise(origin: origin, transport: transport)
                    // An access token HMRC does not know (as after a revocation): 401 INVALID_CREDENTIALS until refreshed.
                    if revokeAccessToken { set.accessToken = Secret("not-a-token-hmrc-issued") }
                    try await tokens.store(name: "vat-agent", gateway: .hmrc, tokens: set, tenants: ["acme"])
                    let dependencies = HMRCVATHandler.Dependencies(
                        call: .init(
                            gateway: .hmrc, transport: transport, tokens: tokens,
                            refresher: SandboxRefresher(url: origin + "/oauth/token", transport: transport),
                            limiter: paced ? RateLimiter(client: client, logger: .test()) : nil),
                        baseURL: origin + prefix, vendor: try FraudPreventionHeaders(configuration: Self.vendor),
                        classifier: HMRCOutcomeClassifier(configuration: .init(throttleDelay: .seconds(1))))
                    if paced {
                        // A wider jitter margin than the default 1 %, as the fleet tests use: the test run keeps the
                        // machine busy, and late wake-ups must stay inside the sandbox's exact 3/s.
                        try await client.execute("SELECT tuku.set_rate('hmrc.api', 3)")
                        try await client.execute("UPDATE tuku.rate_limits SET safety_margin = 0.25 WHERE key = 'hmrc.api'")
                    }
                    var definitions = try KindDefinition.bundled()
                    for kind in definitions.keys where kind.hasPrefix("hmrc.") { definitions[kind]?.timeoutSeconds = timeout.inSeconds }
                    let handlers = try StandardHandlers.registry(definitions: definitions, filing: nil, hmrc: dependencies)
                    let harness = Harness(
                        client: client, sandbox: sandbox, base: origin, transport: transport, accessToken: set.accessToken.value)
                    try await WorkerHarness.withWorker(client: client, handlers: handlers) { _ in try await body(harness) }
                    try await transport.shutdown()
                } catch {
                    try? await transport.shutdown()
                    group.cancelAll()
                    throw error
                }
                group.cancelAll()
            }
        }
    }

    /// An access and refresh token for VRN 123456789 through `/sandbox/hmrc/grant` and the authorisation-code
    /// exchange at `/oauth/token`.
    static func authorise(origin: String, transport: GatewayTransport) async throws -> TokenSet {
        let grant = try await transport.post(
            url: origin + "/sandbox/hmrc/grant",
            body: Array(#"{"client_id":"\#(applicationID)","scope":"read:vat write:vat","vrns":["\#(vrn)"]}"#.utf8),
            headers: ["Content-Type": "application/json"])
        let code = try #require(
            (try JSONSerialization.jsonObject(with: Data(grant.bodyBytes)) as? [String: Any])?["code"] as? String, "grant: \(grant)")
        let form = "grant_type=authorization_code&code=\(code)&client_id=\(applicationID)&client_secret=\(applicationSecret)"
        let answer = try await transport.post(
            url: origin + "/oauth/token", body: Array(form.utf8), headers: ["Content-Type": "application/x-www-form-urlencoded"])
        return try #require(tokenSet(answer.bodyBytes), "token: \(answer)")
    }

    static func example(_ kind: String, _ name: String, _ change: (inout [String: Any]) -> Void = { _ in }) throws -> String {
        let url = TestCertificates.repositoryRoot.appendingPathComponent("jobs/\(kind)/examples/\(name).json")
        var object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        change(&object)
        return String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }

    static func exchanges(_ client: PostgresClient, _ id: Int64) async throws -> String {
        try await client.scalar(
            """
            SELECT string_agg(concat_ws(' ', purpose, coalesce(http_status::text, transport_error), outcome), ', ' ORDER BY id)
            FROM tuku.exchanges WHERE job_id = \(id)
            """, as: String.self)
    }

    @Test("a return is filed: the receipt is on the exchange row and in the job's result, and no credential is stored")
    func filesAReturn() async throws {
        try await self.withHMRC { harness in
            let client = harness.client
            let id = try await harness.enqueue("hmrc.vat.return", try Self.example("hmrc.vat.return", "web-app-credit"))
            try await client.waitUntil("SELECT state = 'succeeded' FROM tuku.jobs WHERE id = \(id)")
            #expect(try await Self.exchanges(client, id) == "submit 201 succeeded")
            let row = try await client.scalar(
                """
                SELECT concat_ws('|', action, length(receipt->>'formBundleNumber'), gateway_id = receipt->>'formBundleNumber',
                    (receipt->>'receiptID')::uuid IS NOT NULL, receipt ? 'receiptTimestamp', receipt ? 'correlationID',
                    receipt ? 'processingDate', position('Bearer' in request_body) = 0, position('"periodKey"' in request_body) > 0)
                FROM tuku.exchanges WHERE job_id = \(id)
                """, as: String.self)
            #expect(row == "POST /organisations/vat/{vrn}/returns|12|t|t|t|t|t|t|t")
            #expect(
                try await client.scalar(
                    """
                    SELECT result->>'status' || ' ' || (result->'receipt' = e.receipt)::text
                    FROM tuku.jobs j, tuku.exchanges e WHERE j.id = \(id) AND e.job_id = j.id
                    """, as: String.self) == "filed true")
            #expect(harness.statistics.hmrcReturnsStored == 1)
        }
    }

    @Test("payload problems and a missing fraud prevention value are rejected with every path and no call is made")
    func rejectsBeforeAnyCall() async throws {
        try await self.withHMRC { harness in
            let client = harness.client
            let bad = try await harness.enqueue(
                "hmrc.vat.return",
                try Self.example("hmrc.vat.return", "batch-debit") {
                    $0["netVatDue"] = "1749.70"
                    $0["vrn"] = "12345"
                })
            let noIP = try await harness.enqueue(
                "hmrc.vat.return",
                try Self.example("hmrc.vat.return", "web-app-credit") { $0["fraudPrevention"] = Self.without("publicIP", in: $0) })
            try await client.waitUntil("SELECT bool_and(state = 'rejected') FROM tuku.jobs WHERE id IN (\(bad), \(noIP))")
            #expect(
                try await client.scalar("SELECT last_error->>'code' FROM tuku.jobs WHERE id = \(bad)", as: String.self) == "payload_invalid"
            )
            let paths = try await client.scalar(
                """
                SELECT string_agg(p->>'path', ',' ORDER BY p->>'path')
                FROM tuku.jobs, jsonb_array_elements(last_error->'problems') p WHERE id = \(bad)
                """, as: String.self)
            #expect(paths.contains("vrn") && paths.contains("netVatDue"), "\(paths)")
            #expect(
                try await client.scalar("SELECT last_error->>'code' FROM tuku.jobs WHERE id = \(noIP)", as: String.self)
                    == "fraud_header_missing")
            #expect(
                try await client.scalar("SELECT last_error->>'message' FROM tuku.jobs WHERE id = \(noIP)", as: String.self)
                    .contains("Gov-Client-Public-IP"))
            #expect(try await client.scalar("SELECT count(*)::int8 FROM tuku.exchanges", as: Int64.self) == 0)
            // The sandbox saw the token grant and exchange, and not one VAT call.
            let statistics = harness.statistics
            #expect(statistics.callsByAction.keys.filter { $0.hasPrefix("hmrc.vat") }.isEmpty, "\(statistics.callsByAction)")
            #expect(statistics.callsByAction["hmrc.oauth.token"] == 1)
        }
    }

    static func without(_ key: String, in object: [String: Any]) -> [String: Any] {
        var fraud = object["fraudPrevention"] as? [String: Any] ?? [:]
        fraud[key] = nil
        return fraud
    }

    @Test("a 504 after HMRC stored the return: the next attempt looks the period up and succeeds without a second POST")
    func settlesA504ByLookup() async throws {
        try await self.withHMRC(configure: { $0.faults = FaultPlan(script: [.gatewayTimeoutAfterStore]) }) { harness in
            let client = harness.client
            let id = try await harness.enqueue("hmrc.vat.return", try Self.example("hmrc.vat.return", "batch-debit"))
            try await client.waitUntil("SELECT state = 'succeeded' FROM tuku.jobs WHERE id = \(id)", timeout: .seconds(40))
            #expect(try await Self.exchanges(client, id) == "submit 504 outcome_unknown, reconcile 200 already_filed")
            #expect(
                try await client.scalar(
                    "SELECT string_agg(outcome || ':' || coalesce(error->>'code', ''), ',' ORDER BY id) FROM tuku.attempts WHERE job_id = \(id)",
                    as: String.self) == "retry:outcome_unknown,succeeded:")
            #expect(try await client.scalar("SELECT result->>'status' FROM tuku.jobs WHERE id = \(id)", as: String.self) == "already_filed")
            #expect(try await client.scalar("SELECT unsettled_since IS NULL FROM tuku.jobs WHERE id = \(id)", as: Bool.self))
            let statistics = harness.statistics
            #expect(statistics.hmrcReturnsStored == 1)
            #expect(statistics.hmrcDuplicateSubmissions == 0)
            #expect(statistics.callsByAction["hmrc.vat.return"] == 1)
        }
    }

    @Test(
        "after an ambiguous outcome, a lookup finding nothing files, and DUPLICATE_SUBMISSION answering that filing means done"
    )
    func duplicateAfterAmbiguityIsDone() async throws {
        // The first POST stalls (nothing stored, no answer: ambiguous); the lookup is answered 404 but slowly, and while
        // it is on its way someone else files the period: the handler's POST meets DUPLICATE_SUBMISSION.
        try await self.withHMRC(
            timeout: .seconds(6),
            configure: {
                $0.faults = FaultPlan(script: [.stall, .slow])
                $0.slowDelay = .seconds(3)
            }
        ) { harness in
            let client = harness.client
            let payload = try Self.example("hmrc.vat.return", "batch-debit")
            let id = try await harness.enqueue("hmrc.vat.return", payload)
            try await client.waitUntil("SELECT attempt = 2 AND state = 'running' FROM tuku.jobs WHERE id = \(id)", timeout: .seconds(30))
            try await Task.sleep(for: .seconds(1))
            // The lookup has been answered "none" and is held back by the sandbox: file the period directly now.
            let direct = try VATReturnPayload.decodeValidated(from: Data(payload.utf8))
            let fraud = try FraudPreventionHeaders(configuration: Self.vendor).headers(for: direct.fraudPrevention, now: Date())
            let request = HMRCRequest.submitReturn(direct, fraudPreventionHeaders: fraud)
            var headers = request.headers
            headers.add(name: "Authorization", value: "Bearer \(harness.accessToken)")
            let filed = try await harness.transport.send(
                .POST, url: harness.base + request.path, body: request.body.map { ByteBuffer(bytes: $0) }, headers: headers,
                timeout: .seconds(5), logger: .test())
            #expect(filed.status.code == 201)
            try await client.waitUntil("SELECT state = 'succeeded' FROM tuku.jobs WHERE id = \(id)", timeout: .seconds(30))
            #expect(
                try await Self.exchanges(client, id)
                    == "submit \(try await Self.transportError(client, id)) outcome_unknown, reconcile 404 not_filed, submit 403 already_done"
            )
            #expect(harness.statistics.hmrcReturnsStored == 1)
            #expect(harness.statistics.hmrcDuplicateSubmissions == 1)
        }
    }

    static func transportError(_ client: PostgresClient, _ id: Int64) async throws -> String {
        try await client.scalar(
            "SELECT coalesce(http_status::text, transport_error) FROM tuku.exchanges WHERE job_id = \(id) ORDER BY id LIMIT 1",
            as: String.self)
    }

    @Test("DUPLICATE_SUBMISSION without an ambiguous outcome of ours is a rejection for a person")
    func duplicateIsRejected() async throws {
        try await self.withHMRC { harness in
            let client = harness.client
            let payload = try Self.example("hmrc.vat.return", "batch-debit")
            let first = try await harness.enqueue("hmrc.vat.return", payload)
            try await client.waitUntil("SELECT state = 'succeeded' FROM tuku.jobs WHERE id = \(first)")
            let second = try await harness.enqueue("hmrc.vat.return", payload)
            try await client.waitUntil("SELECT state = 'rejected' FROM tuku.jobs WHERE id = \(second)")
            #expect(
                try await client.scalar("SELECT last_error->>'code' FROM tuku.jobs WHERE id = \(second)", as: String.self)
                    == "hmrc_duplicate_submission")
            #expect(try await client.scalar("SELECT result IS NULL FROM tuku.jobs WHERE id = \(second)", as: Bool.self))
        }
    }

    @Test("a moved endpoint's 308 is followed with the POST and its body, each hop its own exchange row")
    func followsA308() async throws {
        try await self.withHMRC(prefix: "/v0", configure: { $0.hmrc.movedPrefix = "/v0" }) { harness in
            let client = harness.client
            let id = try await harness.enqueue("hmrc.vat.return", try Self.example("hmrc.vat.return", "web-app-credit"))
            try await client.waitUntil("SELECT state = 'succeeded' FROM tuku.jobs WHERE id = \(id)")
            #expect(try await Self.exchanges(client, id) == "submit 308 redirected, submit 201 succeeded")
            #expect(
                try await client.scalar(
                    "SELECT string_agg(endpoint, ' ' ORDER BY id) FROM tuku.exchanges WHERE job_id = \(id)", as: String.self)
                    == "\(harness.base)/v0/organisations/vat/\(Self.vrn)/returns \(harness.base)/organisations/vat/\(Self.vrn)/returns")
            #expect(
                try await client.scalar(
                    "SELECT bool_and(position('\"vatDueSales\"' in request_body) > 0) FROM tuku.exchanges WHERE job_id = \(id)",
                    as: Bool.self))
            #expect(harness.statistics.hmrcReturnsStored == 1)
        }
    }

    @Test("429 MESSAGE_THROTTLED_OUT throttles the job without spending an attempt; it files after the cool-down")
    func throttled() async throws {
        try await self.withHMRC(configure: { $0.faults = FaultPlan(script: [.tooManyRequests]) }) { harness in
            let client = harness.client
            let id = try await harness.enqueue("hmrc.vat.return", try Self.example("hmrc.vat.return", "batch-debit"))
            try await client.waitUntil("SELECT state = 'succeeded' FROM tuku.jobs WHERE id = \(id)", timeout: .seconds(20))
            #expect(try await client.scalar("SELECT attempt FROM tuku.jobs WHERE id = \(id)", as: Int32.self) == 1)
            #expect(
                try await client.scalar(
                    "SELECT string_agg(outcome, ',' ORDER BY id) FROM tuku.attempts WHERE job_id = \(id)", as: String.self)
                    == "throttled,succeeded")
            #expect(try await Self.exchanges(client, id) == "submit 429 throttled, submit 201 succeeded")
        }
    }

    @Test("a 403 CLIENT_OR_AGENT_NOT_AUTHORISED (a VRN the grant does not name) is rejected as hmrc_consent_required")
    func consentRequired() async throws {
        try await self.withHMRC { harness in
            let client = harness.client
            let id = try await harness.enqueue(
                "hmrc.vat.obligations", try Self.example("hmrc.vat.obligations", "year-all") { $0["vrn"] = "987654321" })
            try await client.waitUntil("SELECT state = 'rejected' FROM tuku.jobs WHERE id = \(id)")
            #expect(
                try await client.scalar("SELECT last_error->>'code' FROM tuku.jobs WHERE id = \(id)", as: String.self)
                    == "hmrc_consent_required")
        }
    }

    @Test("a lookup answered CLIENT_OR_AGENT_NOT_AUTHORISED rejects the job for a person and leaves it unsettled; nothing is filed")
    func consentRequiredAtLookup() async throws {
        try await self.withHMRC(configure: { $0.faults = FaultPlan(script: [.gatewayTimeoutAfterStore]) }) { harness in
            let client = harness.client
            let id = try await harness.enqueue(
                "hmrc.vat.return", try Self.example("hmrc.vat.return", "batch-debit") { $0["vrn"] = "987654321" })
            try await client.waitUntil("SELECT state = 'rejected' FROM tuku.jobs WHERE id = \(id)", timeout: .seconds(30))
            #expect(try await Self.exchanges(client, id) == "submit 504 outcome_unknown, reconcile 403 rejected")
            #expect(
                try await client.scalar("SELECT last_error->>'code' FROM tuku.jobs WHERE id = \(id)", as: String.self)
                    == "hmrc_consent_required")
            #expect(try await client.scalar("SELECT unsettled_since IS NOT NULL FROM tuku.jobs WHERE id = \(id)", as: Bool.self))
            #expect(harness.statistics.hmrcReturnsStored == 0)
        }
    }

    @Test("both HMRC kinds share the hmrc.api pace: twelve jobs at once leave at most 3 to a second, and all succeed")
    func sharesHMRCsPace() async throws {
        try await self.withHMRC(paced: true) { harness in
            let client = harness.client
            var ids: [Int64] = []
            for index in 0..<12 {
                ids.append(
                    index.isMultiple(of: 2)
                        ? try await harness.enqueue("hmrc.vat.obligations", try Self.example("hmrc.vat.obligations", "year-all"))
                        : try await harness.enqueue(
                            "hmrc.vat.return", try Self.example("hmrc.vat.return", "batch-debit") { $0["periodKey"] = "P\(100 + index)" }))
            }
            try await client.waitUntil("SELECT bool_and(state = 'succeeded') FROM tuku.jobs WHERE id = ANY(\(ids))", timeout: .seconds(60))
            // What this test owns is Tuku's side: both kinds' calls leave by one pace, never more than 3 in a second.
            // (Arrivals at a gateway with its own 3/s limit are the fleet process test's: this sandbox runs in the
            // test process, where a loaded suite can hold an accepted connection's handshake long enough to bunch
            // arrivals; a 429 then costs the job no attempt, which is checked too.)
            let started = try await client.query(
                "SELECT extract(epoch FROM started_at)::float8 FROM tuku.exchanges ORDER BY started_at", logger: .test())
            var times: [Double] = []
            for try await time in started.decode(Double.self) { times.append(time) }
            #expect(times.count >= 12)
            var most = 0
            var first = 0
            for last in times.indices {
                while times[last] - times[first] >= 1 { first += 1 }
                most = max(most, last - first + 1)
            }
            #expect(most <= 3, "calls left \(most) to a second")
            #expect(times.count < 2 || times.last! - times.first! >= 11.0 / 3 - 0.2, "12 calls at 3/s span at least 3.5 s")
            #expect(try await client.scalar("SELECT count(*)::int8 FROM tuku.jobs WHERE attempt > 1", as: Int64.self) == 0)
        }
    }

    @Test("obligations are read and stored as the job's result")
    func storesObligations() async throws {
        try await self.withHMRC { harness in
            let client = harness.client
            let id = try await harness.enqueue("hmrc.vat.obligations", try Self.example("hmrc.vat.obligations", "year-all"))
            try await client.waitUntil("SELECT state = 'succeeded' FROM tuku.jobs WHERE id = \(id)")
            #expect(
                try await client.scalar(
                    """
                    SELECT string_agg(o->>'periodKey' || ':' || (o->>'status') || ':' || (o->>'start'), ',' ORDER BY o->>'start')
                    FROM tuku.jobs, jsonb_array_elements(result->'obligations') o WHERE id = \(id)
                    """, as: String.self) == "26A1:O:2026-01-01,26A2:O:2026-04-01,26A3:O:2026-07-01,26A4:O:2026-10-01")
            #expect(try await Self.exchanges(client, id) == "submit 200 succeeded")
        }
    }

    @Test("migration 0019: only a succeeded job has a result, and a producer reads its own tenants' results only")
    func resultColumns() async throws {
        try await TestDatabase.withFresh { client, database in
            let id = try await client.scalar("SELECT tuku.enqueue('noop', 'acme', '{}'::jsonb)", as: Int64.self)
            let other = try await client.scalar("SELECT tuku.enqueue('noop', 'kiwi', '{}'::jsonb)", as: Int64.self)
            await #expect(throws: (any Error).self) {
                try await client.query("UPDATE tuku.jobs SET result = '{\"a\":1}' WHERE id = \(id)")
            }
            try await client.query(
                "UPDATE tuku.jobs SET state = 'succeeded', finished_at = now(), result = '{\"a\":1}' WHERE id IN (\(id), \(other))")
            #expect(try await client.scalar("SELECT result->>'a' FROM tuku.jobs WHERE id = \(id)", as: String.self) == "1")
            try await TestLogin.with("tuku_producer", on: database, admin: client) { producer, login in
                try await client.execute("INSERT INTO tuku.producer_tenants (login, tenant) VALUES (\(login.name), 'acme')")
                #expect(
                    try await producer.scalar("SELECT string_agg(tenant || ':' || (result->>'a'), ',') FROM tuku.jobs", as: String.self)
                        == "acme:1")
                #expect(await producer.sqlState(of: "UPDATE tuku.jobs SET result = '{}'") != nil)
            }
        }
    }

    @Test("HMRC's 401 INVALID_CREDENTIALS refreshes the token set once through the paced call and calls again")
    func refreshesARefusedToken() async throws {
        try await self.withHMRC(revokeAccessToken: true) { harness in
            let client = harness.client
            let id = try await harness.enqueue("hmrc.vat.obligations", try Self.example("hmrc.vat.obligations", "year-all"))
            try await client.waitUntil("SELECT state = 'succeeded' FROM tuku.jobs WHERE id = \(id)")
            #expect(try await Self.exchanges(client, id) == "submit 401 reauthorize, submit 200 succeeded")
            #expect(try await client.scalar("SELECT generation FROM tuku.oauth_tokens", as: Int64.self) == 2)
            #expect(try await client.scalar("SELECT count(*)::int8 FROM tuku.attempts WHERE job_id = \(id)", as: Int64.self) == 1)
        }
    }
}
