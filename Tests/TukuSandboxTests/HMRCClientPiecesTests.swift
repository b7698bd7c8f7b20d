import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Testing
import TukuHMRC
import TukuSandbox

/// TukuHMRC's requests, fraud prevention headers, redirect policy, classifier and return lookup against the real
/// sandbox's HMRC personality over real TLS: the pieces a worker's HMRC handler puts together.
@Suite("TukuHMRC against the sandbox's HMRC personality")
struct HMRCClientPiecesTests {
    static let vrn = "123456789"
    static let now = Date()

    static let vendor = FraudPreventionHeaders.Configuration(
        productName: "Tuku", versions: ["tuku": "1.0.0"], licenseIDs: ["tuku": "0a1b2c"], publicIP: "203.0.113.6",
        batchProcess: .init(
            deviceID: "beec798b-b366-47fa-b1f8-92cede14a1ce", localIPs: ["10.1.2.3"], macAddresses: ["ea:43:1a:5c:ea:b2"],
            timezone: "UTC+13:00", osFamily: "Linux", osVersion: "6.1", deviceManufacturer: "Tuku", deviceModel: "worker",
            userIDs: ["tuku": "worker-1"]))

    static func payload(periodKey: String) throws -> VATReturnPayload {
        let url = TestCertificates.repositoryRoot.appendingPathComponent("Tests/Fixtures/hmrc-payloads/vat-return.json")
        var object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        object["periodKey"] = periodKey
        return try VATReturnPayload.decodeValidated(from: JSONSerialization.data(withJSONObject: object))
    }

    /// Sends `request` with the bearer token, following redirects as `HMRCRedirectPolicy` decides; the exchange,
    /// and the hops followed.
    static func send(
        _ request: HMRCRequest, prefix: String = "", token: String, client: HMRCClient, checks: HMRCSchemaCheck
    ) async throws -> (HMRCExchange, [HMRCRedirectPolicy.Hop]) {
        let policy = HMRCRedirectPolicy()
        var url = try #require(URL(string: client.base + prefix + request.path))
        var method = request.method
        var body = request.body
        var hops: [HMRCRedirectPolicy.Hop] = []
        if let body { checks.expect(String(decoding: body, as: UTF8.self), "VATReturnDeclaration", "TukuHMRC request body") }
        while true {
            var call = HTTPClientRequest(url: url.absoluteString)
            call.method = method
            call.headers = request.headers
            call.headers.add(name: "Authorization", value: "Bearer \(token)")
            if let body { call.body = .bytes(ByteBuffer(bytes: body)) }
            let response = try await client.http.execute(call, timeout: .seconds(15))
            let bytes = Data(buffer: try await response.body.collect(upTo: 1 << 20))
            let status = Int(response.status.code)
            switch policy.decide(
                status: status, location: response.headers.first(name: "Location"), method: method, url: url, hopsSoFar: hops.count)
            {
            case .follow(let hop)?:
                hops.append(hop)
                url = hop.to
                method = hop.method
                if !hop.keepsBody { body = nil }
            case .refuse(let reason, _)?:
                Issue.record("redirect refused: \(reason)")
                return (.response(status: status, headers: response.headers, body: bytes), hops)
            case nil:
                return (.response(status: status, headers: response.headers, body: bytes), hops)
            }
        }
    }

    @Test(
        "a return built by TukuHMRC follows a 308, a 504-after-store is settled by the lookup, filing again is DUPLICATE_SUBMISSION; receipts, obligations, 401 and 403 classified"
    )
    func endToEnd() async throws {
        try await Sandbox.run({ configuration in
            var hmrc = HMRCConfiguration(applications: [
                RegisteredClient(id: HMRCClient.applicationID, secret: HMRCClient.applicationSecret)
            ])
            hmrc.rate = nil
            hmrc.movedPrefix = "/v0"
            configuration.hmrc = hmrc
            configuration.faults = FaultPlan(script: [.gatewayTimeoutAfterStore])
        }) { sandbox in
            let checks = HMRCSchemaCheck()
            let client = HMRCClient(sandbox: sandbox, checks: checks)
            do {
                try await Self.scenario(sandbox: sandbox, client: client, checks: checks)
            } catch {
                try? await client.shutdown()
                throw error
            }
            try await client.shutdown()
            let failures = try checks.failures()
            #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
        }
    }

    static func scenario(sandbox: Sandbox, client: HMRCClient, checks: HMRCSchemaCheck) async throws {
        let tokens = try await client.authorise(vrns: [Self.vrn])
        let classifier = HMRCOutcomeClassifier()
        let fraud = try FraudPreventionHeaders(configuration: Self.vendor)

        // File #001 through the moved prefix: 308 followed with the POST and its body, then 504 after the store.
        let first = try Self.payload(periodKey: "#001")
        let submit = HMRCRequest.submitReturn(first, fraudPreventionHeaders: try fraud.headers(for: first.fraudPrevention, now: Self.now))
        let (answer, hops) = try await Self.send(submit, prefix: "/v0", token: tokens.access, client: client, checks: checks)
        #expect(hops.count == 1)
        #expect(hops.first?.status == 308)
        #expect(hops.first?.method == .POST)
        #expect(hops.first?.keepsBody == true)
        #expect(classifier.classify(answer, operation: .submitReturn, now: Self.now).label == "outcomeUnknown")

        // The lookup settles it: HMRC holds the return, so the filing is done.
        let lookup = HMRCRequest.viewReturn(
            vrn: Self.vrn, periodKey: "#001", fraudPreventionHeaders: try fraud.headers(for: first.fraudPrevention, now: Self.now))
        let (held, _) = try await Self.send(lookup, token: tokens.access, client: client, checks: checks)
        #expect(
            HMRCReturnLookup.read(held, classifier: classifier, now: Self.now)
                == .held(periodKey: "#001", correlationID: held.correlationID))

        // Filing it again would be a duplicate, which HMRC refuses and the classifier names.
        let (again, _) = try await Self.send(submit, token: tokens.access, client: client, checks: checks)
        let duplicate = classifier.classify(again, operation: .submitReturn, now: Self.now)
        #expect(duplicate.label == "duplicateSubmission")
        #expect(duplicate.jobError?.code == "hmrc_duplicate_submission")

        // Another period files cleanly: 201 with the receipt.
        let second = try Self.payload(periodKey: "#002")
        let (filed, _) = try await Self.send(
            .submitReturn(second, fraudPreventionHeaders: try fraud.headers(for: second.fraudPrevention, now: Self.now)),
            token: tokens.access, client: client, checks: checks)
        guard case .succeeded(let receipt) = classifier.classify(filed, operation: .submitReturn, now: Self.now) else {
            Issue.record("the second return was not filed: \(filed)")
            return
        }
        #expect(receipt.receiptID.flatMap(UUID.init(uuidString:)) != nil)
        #expect(receipt.receiptTimestamp != nil)
        #expect(receipt.correlationID != nil)
        #expect(receipt.formBundleNumber?.count == 12)
        #expect(receipt.chargeRefNumber == nil)  // box 3 (5.05) < box 4 (105.15): a credit, no charge reference

        // No return for #003; obligations for the year as a batch process.
        let (none, _) = try await Self.send(
            .viewReturn(
                vrn: Self.vrn, periodKey: "#003", fraudPreventionHeaders: try fraud.headers(for: first.fraudPrevention, now: Self.now)),
            token: tokens.access, client: client, checks: checks)
        #expect(HMRCReturnLookup.read(none, classifier: classifier, now: Self.now) == .none)
        let obligations = try VATObligationsPayload.decodeValidated(
            from: Data(
                #"{"vrn":"123456789","from":"2026-01-01","to":"2026-12-31","fraudPrevention":{"connectionMethod":"BATCH_PROCESS_DIRECT"}}"#
                    .utf8))
        let batch = try fraud.headers(for: obligations.fraudPrevention, now: Self.now)
        let (listed, _) = try await Self.send(
            .obligations(obligations, fraudPreventionHeaders: batch), token: tokens.access, client: client, checks: checks)
        #expect(classifier.classify(listed, operation: .obligations, now: Self.now).label == "succeeded")
        if case .response(_, _, let body) = listed { checks.expect(String(decoding: body, as: UTF8.self), "Obligations", "obligations") }

        // A refused token is reauthorize; a VRN the grant does not name needs consent.
        let (refused, _) = try await Self.send(submit, token: "not-a-token", client: client, checks: checks)
        #expect(classifier.classify(refused, operation: .submitReturn, now: Self.now) == .reauthorize)
        var other = second
        other.vrn = "987654321"
        let (forbidden, _) = try await Self.send(
            .submitReturn(other, fraudPreventionHeaders: try fraud.headers(for: other.fraudPrevention, now: Self.now)),
            token: tokens.access, client: client, checks: checks)
        #expect(classifier.classify(forbidden, operation: .submitReturn, now: Self.now).label == "needsConsent")

        #expect(sandbox.server.router.currentStatistics.hmrcDuplicateSubmissions == 1)
    }
}

extension HMRCExchange {
    fileprivate var correlationID: String? {
        if case .response(_, let headers, _) = self { return headers.first(name: "X-CorrelationId") }
        return nil
    }
}
