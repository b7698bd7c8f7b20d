import Foundation
import Testing
import TukuSandbox

/// The sandbox's HMRC personality (VAT (MTD) API 1.0) over real TLS, every body checked against HMRC's OpenAPI.
@Suite("Sandbox: HMRC VAT (MTD)")
struct HMRCSandboxTests {
    static let vrn = "123456789"
    static let otherVRN = "987654321"

    /// A return that satisfies every rule (the OpenAPI's first example, pence exact).
    static func declaration(_ periodKey: String = "A001", overriding changes: [String: Any] = [:]) -> String {
        var object: [String: Any] = [
            "periodKey": periodKey, "vatDueSales": 105.5, "vatDueAcquisitions": -100.45, "totalVatDue": 5.05,
            "vatReclaimedCurrPeriod": 105.15, "netVatDue": 100.1, "totalValueSalesExVAT": 300, "totalValuePurchasesExVAT": 300,
            "totalValueGoodsSuppliedExVAT": 3000, "totalAcquisitionsExVAT": 3000, "finalised": true,
        ]
        for (key, value) in changes { object[key] = value }
        return HMRCClient.jsonObject(object)
    }

    /// Runs `body` against a sandbox with two HMRC applications, then validates every recorded body.
    private func withHMRC(
        _ configure: @escaping (inout HMRCConfiguration) -> Void = { _ in },
        server: @escaping (inout SandboxServer.Configuration) -> Void = { _ in },
        _ body: (Sandbox, HMRCClient, HMRCSchemaCheck) async throws -> Void
    ) async throws {
        try await Sandbox.run({ configuration in
            var hmrc = HMRCConfiguration(applications: [
                RegisteredClient(id: HMRCClient.applicationID, secret: HMRCClient.applicationSecret),
                RegisteredClient(id: HMRCClient.otherApplicationID, secret: HMRCClient.otherApplicationSecret),
            ])
            hmrc.rate = nil
            configure(&hmrc)
            configuration.hmrc = hmrc
            server(&configuration)
        }) { sandbox in
            let checks = HMRCSchemaCheck()
            let client = HMRCClient(sandbox: sandbox, checks: checks)
            do {
                try await body(sandbox, client, checks)
            } catch {
                try? await client.shutdown()
                throw error
            }
            try await client.shutdown()
            let failures = try checks.failures()
            #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
        }
    }

    @Test("OAuth: a granted code gives a 4-hour token set for read:vat write:vat; codes and refresh tokens are single use; a spent refresh token revokes the family")
    func oauth() async throws {
        try await withHMRC { _, client, _ in
            let first = try await client.authorise(vrns: [Self.vrn])
            #expect(first.answer.json["expires_in"] as? Int == 14_400)
            #expect(first.answer.json["scope"] as? String == "read:vat write:vat")
            #expect(first.answer.json["token_type"] as? String == "bearer")
            #expect(first.answer.headers.first(name: "Cache-Control") == "no-store")

            // The secret is checked, in the body.
            let wrongSecret = try await client.token([
                "grant_type": "refresh_token", "refresh_token": first.refresh, "client_id": HMRCClient.applicationID, "client_secret": "nope",
            ])
            #expect(wrongSecret.status == 401)
            #expect(wrongSecret.json["error"] as? String == "invalid_client")
            // Another application cannot use this application's refresh token.
            let otherApplication = try await client.token([
                "grant_type": "refresh_token", "refresh_token": first.refresh, "client_id": HMRCClient.otherApplicationID,
                "client_secret": HMRCClient.otherApplicationSecret,
            ])
            #expect(otherApplication.json["error"] as? String == "invalid_grant")

            let refresh = ["grant_type": "refresh_token", "client_id": HMRCClient.applicationID, "client_secret": HMRCClient.applicationSecret]
            let second = try await client.token(refresh.merging(["refresh_token": first.refresh]) { $1 })
            #expect(second.status == 200)
            let secondAccess = try #require(second.json["access_token"] as? String)
            let secondRefresh = try #require(second.json["refresh_token"] as? String)
            #expect(secondRefresh != first.refresh)
            #expect(try await client.send(.GET, "/organisations/vat/\(Self.vrn)/returns/A001", token: secondAccess).code == "NOT_FOUND")

            // The spent refresh token again: refused, and every token of the authorisation is revoked.
            let replay = try await client.token(refresh.merging(["refresh_token": first.refresh]) { $1 })
            #expect(replay.status == 400)
            #expect(replay.json["error"] as? String == "invalid_grant")
            let revoked = try await client.send(.GET, "/organisations/vat/\(Self.vrn)/returns/A001", token: secondAccess)
            #expect(revoked.status == 401)
            #expect(revoked.code == "INVALID_CREDENTIALS")
            let afterRevocation = try await client.token(refresh.merging(["refresh_token": secondRefresh]) { $1 })
            #expect(afterRevocation.json["error"] as? String == "invalid_grant")

            // A code is single use; an unknown grant type is refused.
            let grant = try await client.send(
                .POST, "/sandbox/hmrc/grant", body: HMRCClient.jsonObject(["client_id": HMRCClient.applicationID, "vrns": [Self.vrn]]))
            let code = try #require(grant.json["code"] as? String)
            let exchange = ["grant_type": "authorization_code", "code": code, "client_id": HMRCClient.applicationID, "client_secret": HMRCClient.applicationSecret]
            #expect(try await client.token(exchange).status == 200)
            #expect(try await client.token(exchange).json["error"] as? String == "invalid_grant")
            #expect(try await client.token(refresh.merging(["grant_type": "password"]) { $1 }).json["error"] as? String == "unsupported_grant_type")
            // Bad grants: a VRN that is not nine digits, a scope HMRC does not have.
            let badVRN = try await client.send(
                .POST, "/sandbox/hmrc/grant", body: HMRCClient.jsonObject(["client_id": HMRCClient.applicationID, "vrns": ["12345"]]))
            #expect(badVRN.status == 400)
            let badScope = try await client.send(
                .POST, "/sandbox/hmrc/grant",
                body: HMRCClient.jsonObject(["client_id": HMRCClient.applicationID, "vrns": [Self.vrn], "scope": "read:vat write:everything"]))
            #expect(badScope.json["error"] as? String == "invalid_scope")
        }
    }

    @Test("OAuth: access tokens expire (401 INVALID_CREDENTIALS) and refreshing stops when the authorisation's refresh lifetime ends")
    func lifetimes() async throws {
        try await withHMRC({
            $0.accessTokenLifetime = .milliseconds(1500)
            // Long enough that a loaded machine still refreshes within it; the last step waits it out by the clock.
            $0.refreshLifetime = .seconds(10)
        }) { _, client, checks in
            let tokens = try await client.authorise(vrns: [Self.vrn])
            // The sandbox starts the refresh lifetime when it exchanges the code, before this point.
            let authorisedBy = ContinuousClock.now
            #expect(tokens.answer.json["expires_in"] as? Int == 1)
            let path = "/organisations/vat/\(Self.vrn)/returns/A001"
            #expect(try await client.send(.GET, path, token: tokens.access).code == "NOT_FOUND")
            try await Task.sleep(for: .milliseconds(1700))
            let expired = try await client.send(.GET, path, token: tokens.access)
            #expect(expired.status == 401)
            #expect(expired.code == "INVALID_CREDENTIALS")
            checks.expect(expired.body, "errorResponse", "expired token")
            let refresh = ["grant_type": "refresh_token", "client_id": HMRCClient.applicationID, "client_secret": HMRCClient.applicationSecret]
            let renewed = try await client.token(refresh.merging(["refresh_token": tokens.refresh]) { $1 })
            #expect(renewed.status == 200)
            let renewedRefresh = try #require(renewed.json["refresh_token"] as? String)
            try await Task.sleep(until: authorisedBy + .milliseconds(10_300))
            let tooLate = try await client.token(refresh.merging(["refresh_token": renewedRefresh]) { $1 })
            #expect(tooLate.status == 400)
            #expect(tooLate.json["error"] as? String == "invalid_grant")
        }
    }

    @Test("bearer, scope, VRN and Accept checks answer with HMRC's codes")
    func access() async throws {
        try await withHMRC { _, client, checks in
            let tokens = try await client.authorise(vrns: [Self.vrn])
            let readOnly = try await client.authorise(vrns: [Self.vrn], scope: "read:vat")
            let path = "/organisations/vat/\(Self.vrn)/returns"
            let cases: [(HMRCClient.Answer, Int, String)] = [
                (try await client.send(.POST, path, body: Self.declaration()), 401, "MISSING_CREDENTIALS"),
                (try await client.send(.POST, path, body: Self.declaration(), token: "not-a-token"), 401, "INVALID_CREDENTIALS"),
                (try await client.send(.POST, path, body: Self.declaration(), token: tokens.access, accept: nil), 406, "ACCEPT_HEADER_INVALID"),
                (
                    try await client.send(.POST, path, body: Self.declaration(), token: tokens.access, accept: "application/json"), 406,
                    "ACCEPT_HEADER_INVALID"
                ),
                (try await client.send(.POST, path, body: Self.declaration(), token: readOnly.access), 403, "INVALID_SCOPE"),
                (
                    try await client.send(.POST, "/organisations/vat/\(Self.otherVRN)/returns", body: Self.declaration(), token: tokens.access),
                    403, "CLIENT_OR_AGENT_NOT_AUTHORISED"
                ),
                (try await client.send(.POST, "/organisations/vat/12345678/returns", body: Self.declaration(), token: tokens.access), 400, "VRN_INVALID"),
                (try await client.send(.GET, path, token: tokens.access), 405, "METHOD_NOT_ALLOWED"),
                (try await client.send(.GET, "/organisations/vat/\(Self.vrn)/liabilities", token: tokens.access), 404, "MATCHING_RESOURCE_NOT_FOUND"),
            ]
            for (answer, status, code) in cases {
                #expect(answer.status == status, "\(code): \(answer.body)")
                #expect(answer.code == code)
                #expect(answer.headers.first(name: "X-CorrelationId")?.count == 36)
                checks.expect(answer.body, "errorResponse", code)
            }
            // The read-only token may read.
            #expect(try await client.send(.GET, path + "/A001", token: readOnly.access).code == "NOT_FOUND")
        }
    }

    @Test("a valid return is stored (201 with receipt headers), read back exactly, and a second one for the period is 403 DUPLICATE_SUBMISSION, counted in the stats")
    func submitAndView() async throws {
        try await withHMRC { sandbox, client, checks in
            let tokens = try await client.authorise(vrns: [Self.vrn])
            let path = "/organisations/vat/\(Self.vrn)/returns"
            let body = Self.declaration()
            checks.expect(body, "VATReturnDeclaration", "the declaration")
            let created = try await client.send(.POST, path, body: body, token: tokens.access)
            #expect(created.status == 201, "\(created.body)")
            checks.expect(created.body, "MTDFB-API56v1.0Submit9-BoxVatReturn-Successresponse", "the receipt")
            #expect(created.headers.first(name: "X-CorrelationId")?.count == 36)
            #expect(created.headers.first(name: "Receipt-ID")?.count == 36)
            let stamp = try #require(created.headers.first(name: "Receipt-Timestamp"))
            #expect(ISO8601DateFormatter().date(from: stamp) != nil)
            // totalVatDue 5.05 < reclaimed 105.15: a credit, paid to the bank, no charge reference.
            #expect(created.json["paymentIndicator"] as? String == "BANK")
            #expect(created.json["chargeRefNumber"] == nil)

            let view = try await client.send(.GET, path + "/A001", token: tokens.access)
            #expect(view.status == 200)
            checks.expect(view.body, "SubmitVAT", "the stored return")
            let sent = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
            for (key, value) in view.json {
                if let number = value as? NSNumber, let original = sent[key] as? NSNumber {
                    #expect(abs(number.doubleValue - original.doubleValue) < 0.001, "\(key)")
                } else {
                    #expect(value as? String == sent[key] as? String, "\(key)")
                }
            }
            #expect(view.json.count == 10)

            let again = try await client.send(.POST, path, body: Self.declaration(overriding: ["vatDueSales": 200.55, "totalVatDue": 100.1, "netVatDue": 5.05]), token: tokens.access)
            #expect(again.status == 403)
            #expect(again.code == "DUPLICATE_SUBMISSION")
            checks.expect(again.body, "errorResponse", "duplicate")

            // A debit: Direct Debit and a charge reference; a hash in the period key (percent-encoded in the path).
            let debit = Self.declaration("#001", overriding: ["vatDueSales": 1000.00, "totalVatDue": 899.55, "netVatDue": 794.40])
            checks.expect(debit, "VATReturnDeclaration", "the debit declaration")
            let charged = try await client.send(.POST, path, body: debit, token: tokens.access)
            #expect(charged.status == 201, "\(charged.body)")
            #expect(charged.json["paymentIndicator"] as? String == "DD")
            #expect((charged.json["chargeRefNumber"] as? String)?.count == 16)
            checks.expect(charged.body, "MTDFB-API56v1.0Submit9-BoxVatReturn-Successresponse", "the debit receipt")
            let hashView = try await client.send(.GET, path + "/%23001", token: tokens.access)
            #expect(hashView.status == 200)
            #expect(hashView.json["periodKey"] as? String == "#001")

            let missing = try await client.send(.GET, path + "/A002", token: tokens.access)
            #expect(missing.status == 404)
            #expect(missing.code == "NOT_FOUND")
            checks.expect(missing.body, "errorResponse", "not found")
            let badKey = try await client.send(.GET, path + "/A0012", token: tokens.access)
            #expect(badKey.code == "PERIOD_KEY_INVALID")

            let statistics = sandbox.server.router.currentStatistics
            #expect(statistics.hmrcReturnsStored == 2)
            #expect(statistics.hmrcDuplicateSubmissions == 1)
            #expect(statistics.callsByAction["hmrc.vat.return"] == 3)
        }
    }

    @Test("HMRC's validation: period key, exact two-decimal amounts within the OpenAPI's bounds, the two sums, finalised, malformed JSON")
    func validation() async throws {
        try await withHMRC { sandbox, client, checks in
            let tokens = try await client.authorise(vrns: [Self.vrn])
            let path = "/organisations/vat/\(Self.vrn)/returns"
            struct Case {
                var body: String
                var status: Int
                var code: String
                var fields: [(String, String)]
                var schemaValid: Bool
            }
            let cases: [Case] = [
                Case(body: Self.declaration("A01"), status: 400, code: "PERIOD_KEY_INVALID", fields: [], schemaValid: false),
                Case(
                    body: Self.declaration(overriding: ["vatDueSales": 105.505, "totalVatDue": 5.055]), status: 400, code: "INVALID_REQUEST",
                    fields: [("INVALID_MONETARY_AMOUNT", "/vatDueSales"), ("INVALID_MONETARY_AMOUNT", "/totalVatDue")], schemaValid: false),
                Case(
                    body: Self.declaration(overriding: ["netVatDue": -100.1]), status: 400, code: "INVALID_REQUEST",
                    fields: [("INVALID_MONETARY_AMOUNT", "/netVatDue")], schemaValid: false),
                Case(
                    body: Self.declaration(overriding: ["netVatDue": 100_000_000_000.00]), status: 400, code: "INVALID_REQUEST",
                    fields: [("INVALID_MONETARY_AMOUNT", "/netVatDue")], schemaValid: false),
                Case(
                    body: Self.declaration(overriding: ["totalValueSalesExVAT": 10_000_000_000_000]), status: 400, code: "INVALID_REQUEST",
                    fields: [("INVALID_MONETARY_AMOUNT", "/totalValueSalesExVAT")], schemaValid: false),
                Case(
                    body: Self.declaration(overriding: ["totalValueSalesExVAT": 300.5]), status: 400, code: "INVALID_REQUEST",
                    fields: [("INVALID_MONETARY_AMOUNT", "/totalValueSalesExVAT")], schemaValid: true),
                Case(
                    body: Self.declaration(overriding: ["vatDueSales": "105.50"]), status: 400, code: "INVALID_REQUEST",
                    fields: [("INVALID_NUMERIC_VALUE", "/vatDueSales")], schemaValid: false),
                Case(
                    body: Self.declaration(overriding: ["totalVatDue": 5.06, "netVatDue": 100.09]), status: 400, code: "INVALID_REQUEST",
                    fields: [("VAT_TOTAL_VALUE", "/totalVatDue")], schemaValid: true),
                Case(
                    body: Self.declaration(overriding: ["netVatDue": 110.2]), status: 400, code: "INVALID_REQUEST",
                    fields: [("VAT_NET_VALUE", "/netVatDue")], schemaValid: true),
                Case(body: Self.declaration(overriding: ["finalised": false]), status: 403, code: "NOT_FINALISED", fields: [], schemaValid: true),
                Case(body: "{\"periodKey\": \"A001\", ", status: 400, code: "INVALID_REQUEST", fields: [], schemaValid: false),
            ]
            for item in cases {
                let answer = try await client.send(.POST, path, body: item.body, token: tokens.access, requestSchemaValid: item.schemaValid)
                #expect(answer.status == item.status, "\(item.body): \(answer.body)")
                #expect(answer.code == item.code, "\(item.body)")
                let fields = answer.fieldErrors
                #expect(fields.map(\.code) == item.fields.map(\.0), "\(item.body): \(answer.body)")
                #expect(fields.map(\.path) == item.fields.map(\.1), "\(item.body)")
                checks.expect(answer.body, "errorResponse", item.code)
            }
            #expect(sandbox.server.router.currentStatistics.hmrcReturnsStored == 0)
        }
    }

    @Test("obligations: quarters open until a return is stored, then fulfilled; status filter; HMRC's date and status validation")
    func obligations() async throws {
        try await withHMRC { _, client, checks in
            let tokens = try await client.authorise(vrns: [Self.vrn])
            let base = "/organisations/vat/\(Self.vrn)/obligations"
            let open = try await client.send(.GET, base + "?from=2026-01-01&to=2026-12-31", token: tokens.access)
            #expect(open.status == 200, "\(open.body)")
            checks.expect(open.body, "Obligations", "all open")
            let keys = (open.json["obligations"] as? [[String: Any]] ?? []).map { $0["periodKey"] as? String ?? "" }
            #expect(keys == ["26A1", "26A2", "26A3", "26A4"])
            let second = try #require((open.json["obligations"] as? [[String: Any]])?[1])
            #expect(second["start"] as? String == "2026-04-01")
            #expect(second["end"] as? String == "2026-06-30")
            #expect(second["due"] as? String == "2026-08-07")
            #expect(second["status"] as? String == "O")

            let filed = try await client.send(.POST, "/organisations/vat/\(Self.vrn)/returns", body: Self.declaration("26A2"), token: tokens.access)
            #expect(filed.status == 201)
            let fulfilled = try await client.send(.GET, base + "?from=2026-01-01&to=2026-12-31&status=F", token: tokens.access)
            #expect(fulfilled.status == 200)
            checks.expect(fulfilled.body, "Obligations", "fulfilled")
            let items = fulfilled.json["obligations"] as? [[String: Any]] ?? []
            #expect(items.map { $0["periodKey"] as? String } == ["26A2"])
            #expect((items.first?["received"] as? String)?.count == 10)
            let stillOpen = try await client.send(.GET, base + "?from=2026-01-01&to=2026-12-31&status=O", token: tokens.access)
            #expect((stillOpen.json["obligations"] as? [[String: Any]])?.count == 3)

            let errors: [(String, Int, String)] = [
                ("?from=2026-01-01&to=2026-12-31&status=X", 400, "INVALID_STATUS"),
                ("?from=2026-13-01&to=2026-12-31", 400, "INVALID_DATE_FROM"),
                ("?to=2026-12-31", 400, "INVALID_DATE_FROM"),
                ("?from=2026-01-01", 400, "INVALID_DATE_TO"),
                ("?from=2026-01-01&to=2027-01-03", 400, "INVALID_DATE_RANGE"),
                ("?from=2026-06-01&to=2026-01-01", 400, "INVALID_DATE_RANGE"),
                ("?from=1990-01-01&to=1990-01-01&status=F", 404, "NOT_FOUND"),
            ]
            for (query, status, code) in errors {
                let answer = try await client.send(.GET, base + query, token: tokens.access)
                #expect(answer.status == status, "\(query): \(answer.body)")
                #expect(answer.code == code, "\(query)")
                checks.expect(answer.body, "errorResponse", code)
            }
        }
    }

    @Test("Gov-Test-Scenario answers the OpenAPI's simple error scenarios")
    func scenarios() async throws {
        try await withHMRC { sandbox, client, checks in
            let tokens = try await client.authorise(vrns: [Self.vrn])
            let returns = "/organisations/vat/\(Self.vrn)/returns"
            let cases: [(String, String, Int, String)] = [
                (returns, "INVALID_VRN", 400, "VRN_INVALID"),
                (returns, "INVALID_PERIODKEY", 400, "PERIOD_KEY_INVALID"),
                (returns, "INVALID_PAYLOAD", 400, "INVALID_REQUEST"),
                (returns, "DUPLICATE_SUBMISSION", 403, "DUPLICATE_SUBMISSION"),
                (returns, "TAX_PERIOD_NOT_ENDED", 403, "TAX_PERIOD_NOT_ENDED"),
                (returns, "INSOLVENT_TRADER", 403, "RULE_INSOLVENT_TRADER"),
                (returns + "/A001", "DATE_RANGE_TOO_LARGE", 403, "DATE_RANGE_TOO_LARGE"),
                (returns + "/A001", "INSOLVENT_TRADER", 403, "RULE_INSOLVENT_TRADER"),
                ("/organisations/vat/\(Self.vrn)/obligations?from=2026-01-01&to=2026-12-31", "NOT_FOUND", 404, "NOT_FOUND"),
                ("/organisations/vat/\(Self.vrn)/obligations?from=2026-01-01&to=2026-12-31", "INSOLVENT_TRADER", 403, "RULE_INSOLVENT_TRADER"),
            ]
            for (path, scenario, status, code) in cases {
                let post = path == returns
                let answer = try await client.send(
                    post ? .POST : .GET, path, body: post ? Self.declaration() : nil, token: tokens.access,
                    headers: [("Gov-Test-Scenario", scenario)])
                #expect(answer.status == status, "\(scenario): \(answer.body)")
                #expect(answer.code == code, "\(scenario)")
                checks.expect(answer.body, "errorResponse", scenario)
            }
            // Scenarios store nothing; without the header the same return is stored.
            #expect(sandbox.server.router.currentStatistics.hmrcReturnsStored == 0)
            #expect(try await client.send(.POST, returns, body: Self.declaration(), token: tokens.access).status == 201)
        }
    }

    @Test("a request to a moved endpoint counts against the application's rate like any other")
    func movedCountsAgainstRate() async throws {
        try await withHMRC({
            $0.rate = 1
            $0.movedPrefix = "/v0"
        }) { _, client, checks in
            let tokens = try await client.authorise(vrns: [Self.vrn])
            // At 1 request/s, two redirects sent back to back: the second comes within the first one's second.
            let first = try await client.send(.GET, "/v0/organisations/vat/\(Self.vrn)/returns/A001", token: tokens.access)
            let second = try await client.send(.GET, "/v0/organisations/vat/\(Self.vrn)/returns/A001", token: tokens.access)
            #expect(first.status == 308)
            #expect(second.status == 429)
            #expect(second.code == "MESSAGE_THROTTLED_OUT")
            checks.expect(second.body, "errorResponse", "throttled redirect")
        }
    }

    @Test("3 requests per second per application: over it, 429 MESSAGE_THROTTLED_OUT; another application is not held back")
    func rateLimit() async throws {
        try await withHMRC({ $0.rate = 3 }) { _, client, checks in
            let tokens = try await client.authorise(vrns: [Self.vrn])
            let other = try await client.authorise(vrns: [Self.vrn], client: HMRCClient.otherApplicationID, secret: HMRCClient.otherApplicationSecret)
            let path = "/organisations/vat/\(Self.vrn)/returns/A001"
            let clock = ContinuousClock()
            let start = clock.now
            let answers = try await withThrowingTaskGroup(of: HMRCClient.Answer.self) { group in
                for _ in 0..<8 { group.addTask { try await client.send(.GET, path, token: tokens.access) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let elapsed = clock.now - start
            let throttled = answers.filter { $0.status == 429 }
            let admitted = answers.count - throttled.count
            let windows = Int((Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18).rounded(.up))
            #expect(admitted <= 3 * max(1, windows), "admitted \(admitted) in \(elapsed)")
            #expect(admitted >= 3)
            #expect(throttled.count >= 8 - 3 * max(1, windows))
            for answer in throttled {
                #expect(answer.code == "MESSAGE_THROTTLED_OUT")
                checks.expect(answer.body, "errorResponse", "throttled")
            }
            #expect(try await client.send(.GET, path, token: other.access).status == 404)
        }
    }

    @Test("a moved prefix answers 308 with the new Location; faults and the arrivals log apply to HMRC calls; 504-after-store stores the return")
    func movedFaultsAndArrivals() async throws {
        let arrivals = FileManager.default.temporaryDirectory.appendingPathComponent("hmrc-arrivals-\(UUID().uuidString).jsonl").path
        defer { try? FileManager.default.removeItem(atPath: arrivals) }
        try await withHMRC(
            { $0.movedPrefix = "/v0" },
            server: {
                $0.faults = FaultPlan(script: [.tooManyRequests, .serviceUnavailable, .gatewayTimeoutAfterStore])
                $0.arrivalsPath = arrivals
            }
        ) { sandbox, client, checks in
            let tokens = try await client.authorise(vrns: [Self.vrn])
            let moved = try await client.send(.GET, "/v0/organisations/vat/\(Self.vrn)/obligations?from=2026-01-01&to=2026-03-31", token: tokens.access)
            #expect(moved.status == 308)
            #expect(moved.headers.first(name: "Location") == "/organisations/vat/\(Self.vrn)/obligations?from=2026-01-01&to=2026-03-31")

            let path = "/organisations/vat/\(Self.vrn)/returns"
            let first = try await client.send(.POST, path, body: Self.declaration(), token: tokens.access)
            #expect(first.status == 429)
            #expect(first.code == "MESSAGE_THROTTLED_OUT")
            let second = try await client.send(.POST, path, body: Self.declaration(), token: tokens.access)
            #expect(second.status == 503)
            checks.expect(second.body, "errorResponse", "503")
            let third = try await client.send(.POST, path, body: Self.declaration(), token: tokens.access)
            #expect(third.status == 504)
            checks.expect(third.body, "errorResponse", "504")
            // The 504 came after the return was stored: reading it back settles the outcome; filing again is a duplicate.
            #expect(try await client.send(.GET, path + "/A001", token: tokens.access).status == 200)
            #expect(try await client.send(.POST, path, body: Self.declaration(), token: tokens.access).code == "DUPLICATE_SUBMISSION")

            let statistics = sandbox.server.router.currentStatistics
            #expect(statistics.faults["429"] == 1)
            #expect(statistics.faults["503"] == 1)
            #expect(statistics.faults["504-after-store"] == 1)
            #expect(statistics.hmrcDuplicateSubmissions == 1)
        }
        let lines = try String(contentsOfFile: arrivals, encoding: .utf8).split(separator: "\n")
        let returns = lines.filter { $0.contains("\"action\":\"hmrc.vat.return\"") }
        #expect(returns.count == 4)
        #expect(returns.allSatisfy { $0.contains("\"client\":\"hmrc:\(HMRCClient.applicationID)\"") && $0.contains("\"listener\":\"tls\"") })
        #expect(returns.first?.contains("\"fault\":\"429\"") == true)
        #expect(lines.contains { $0.contains("\"action\":\"hmrc.moved\"") && $0.contains("\"status\":308") })
        #expect(lines.contains { $0.contains("\"action\":\"hmrc.oauth.token\"") })
    }

    @Test("fraud prevention headers: WEB_APP_VIA_SERVER and BATCH_PROCESS_DIRECT sets pass; a missing or malformed header is 400 naming it, counted per header")
    func fraudPreventionHeaders() async throws {
        try await withHMRC { sandbox, client, checks in
            let tokens = try await client.authorise(vrns: [Self.vrn])
            let path = "/organisations/vat/\(Self.vrn)/returns/A001"
            #expect(try await client.send(.GET, path, token: tokens.access, fraudHeaders: HMRCClient.webAppHeaders).status == 404)
            #expect(try await client.send(.GET, path, token: tokens.access, fraudHeaders: HMRCClient.batchHeaders).status == 404)
            func replacing(_ base: [(String, String)], _ name: String, with value: String?) -> [(String, String)] {
                base.compactMap { $0.0 == name ? value.map { (name, $0) } : $0 }
            }
            let cases: [([(String, String)], String, String)] = [
                (replacing(HMRCClient.webAppHeaders, "Gov-Client-Public-IP", with: nil), "Gov-Client-Public-IP", "MISSING_HEADER"),
                (replacing(HMRCClient.webAppHeaders, "Gov-Client-Public-IP", with: "10.0.0.7"), "Gov-Client-Public-IP", "INVALID_HEADER"),
                (replacing(HMRCClient.webAppHeaders, "Gov-Client-Public-IP", with: "198.51.100"), "Gov-Client-Public-IP", "INVALID_HEADER"),
                (
                    replacing(HMRCClient.webAppHeaders, "Gov-Client-Public-IP-Timestamp", with: "2026-12-05T03:00:00Z"),
                    "Gov-Client-Public-IP-Timestamp", "INVALID_HEADER"
                ),
                (replacing(HMRCClient.webAppHeaders, "Gov-Client-Public-Port", with: "0"), "Gov-Client-Public-Port", "INVALID_HEADER"),
                (replacing(HMRCClient.webAppHeaders, "Gov-Client-Device-ID", with: "device-1"), "Gov-Client-Device-ID", "INVALID_HEADER"),
                (replacing(HMRCClient.webAppHeaders, "Gov-Client-Timezone", with: "GMT"), "Gov-Client-Timezone", "INVALID_HEADER"),
                (replacing(HMRCClient.webAppHeaders, "Gov-Client-User-IDs", with: "upstream=alice@example.com"), "Gov-Client-User-IDs", "INVALID_HEADER"),
                (
                    replacing(HMRCClient.webAppHeaders, "Gov-Vendor-Forwarded", with: "by=203.0.113.9&for=198.51.100.7"), "Gov-Vendor-Forwarded",
                    "INVALID_HEADER"
                ),
                (replacing(HMRCClient.webAppHeaders, "Gov-Client-Multi-Factor", with: "type=SMS"), "Gov-Client-Multi-Factor", "INVALID_HEADER"),
                (replacing(HMRCClient.webAppHeaders, "Gov-Client-Window-Size", with: "1256x803"), "Gov-Client-Window-Size", "INVALID_HEADER"),
                (replacing(HMRCClient.batchHeaders, "Gov-Client-MAC-Addresses", with: "ea:43:1a:5c:ea:b2"), "Gov-Client-MAC-Addresses", "INVALID_HEADER"),
                (replacing(HMRCClient.batchHeaders, "Gov-Client-Local-IPs", with: "10.1.2"), "Gov-Client-Local-IPs", "INVALID_HEADER"),
                (replacing(HMRCClient.batchHeaders, "Gov-Client-User-Agent", with: "os-family=Linux"), "Gov-Client-User-Agent", "INVALID_HEADER"),
                (replacing(HMRCClient.batchHeaders, "Gov-Vendor-Version", with: nil), "Gov-Vendor-Version", "MISSING_HEADER"),
                ([], "Gov-Client-Connection-Method", "MISSING_HEADER"),
                (replacing(HMRCClient.batchHeaders, "Gov-Client-Connection-Method", with: "BATCH"), "Gov-Client-Connection-Method", "INVALID_HEADER"),
            ]
            for (headers, header, code) in cases {
                let answer = try await client.send(.GET, path, token: tokens.access, fraudHeaders: headers)
                #expect(answer.status == 400, "\(header): \(answer.body)")
                #expect(answer.code == "INVALID_FRAUD_PREVENTION_HEADERS")
                #expect(answer.fieldErrors.map(\.path) == ["/headers/\(header)"], "\(header): \(answer.body)")
                #expect(answer.fieldErrors.map(\.code) == [code], "\(header)")
                checks.expect(answer.body, "errorResponse", header)
            }
            let counted = sandbox.server.router.currentStatistics.hmrcFraudHeaderProblems
            #expect(counted["Gov-Client-Public-IP"] == 3)
            #expect(counted["Gov-Client-Connection-Method"] == 2)
            #expect(counted.values.reduce(0, +) == cases.count)
        }
    }

    @Test("the HMRC routes are on the one-way TLS listener only, and off without HMRC applications")
    func listenerAndOff() async throws {
        try await Sandbox.run { sandbox in
            let client = HMRCClient(sandbox: sandbox, checks: HMRCSchemaCheck())
            let answer = try await client.send(.GET, "/organisations/vat/\(Self.vrn)/returns/A001", token: "x")
            try await client.shutdown()
            #expect(answer.status == 404)
            #expect(answer.code == nil)
        }
    }
}
