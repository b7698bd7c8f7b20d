import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import Testing
import TukuTestSupport

/// `tuku sandbox --hmrc-client …` as a real process: the HMRC flags reach the personality, over real TLS.
@Suite("Sandbox process: HMRC flags")
struct HMRCSandboxProcessTests {
    static let certificates = Result { try TestCertificates.make() }

    static let batchHeaders: [(String, String)] = [
        ("Gov-Client-Connection-Method", "BATCH_PROCESS_DIRECT"), ("Gov-Client-Device-ID", "beec798b-b366-47fa-b1f8-92cede14a1ce"),
        ("Gov-Client-Local-IPs", "10.1.2.3"), ("Gov-Client-Local-IPs-Timestamp", "2026-12-05T03:00:00.123Z"),
        ("Gov-Client-MAC-Addresses", "ea%3A43%3A1a%3A5c%3Aea%3Ab2"), ("Gov-Client-Timezone", "UTC+13:00"),
        ("Gov-Client-User-Agent", "os-family=Linux&os-version=6.1&device-manufacturer=Tuku&device-model=worker"),
        ("Gov-Client-User-IDs", "tuku=worker-1"), ("Gov-Vendor-License-IDs", "tuku=0a1b2c"), ("Gov-Vendor-Product-Name", "Tuku"),
        ("Gov-Vendor-Version", "tuku=1.0.0"),
    ]

    @Test("--hmrc-client, --hmrc-access-token-ttl, --hmrc-rate and --hmrc-moved-prefix: token lifetime, a filed return, 308, 429 over the rate, stats and arrivals")
    func flags() async throws {
        let certificates = try Self.certificates.get()
        let sandbox = try await SandboxProcess(
            certificates: certificates,
            arguments: ["--hmrc-client", "hmrc-app:hmrc-secret", "--hmrc-access-token-ttl", "600", "--hmrc-rate", "2", "--hmrc-moved-prefix", "/v0"])
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .file(certificates.path("ca.pem"))
        let http = HTTPClient(configuration: .init(tlsConfiguration: tls, redirectConfiguration: .disallow))
        let base = "https://\(sandbox.oneWayTLSAddress)"
        func send(_ method: HTTPMethod, _ path: String, body: String? = nil, contentType: String = "application/json", token: String? = nil)
            async throws -> (status: Int, headers: HTTPHeaders, json: [String: Any])
        {
            var request = HTTPClientRequest(url: base + path)
            request.method = method
            request.headers.add(name: "Accept", value: "application/vnd.hmrc.1.0+json")
            if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
            for (name, value) in Self.batchHeaders { request.headers.add(name: name, value: value) }
            if let body {
                request.headers.add(name: "Content-Type", value: contentType)
                request.body = .bytes(ByteBuffer(string: body))
            }
            let response = try await http.execute(request, timeout: .seconds(15))
            let bytes = try await response.body.collect(upTo: 1 << 20)
            let json = (try? JSONSerialization.jsonObject(with: Data(buffer: bytes))) as? [String: Any] ?? [:]
            return (Int(response.status.code), response.headers, json)
        }
        do {
            let grant = try await send(.POST, "/sandbox/hmrc/grant", body: "{\"client_id\":\"hmrc-app\",\"vrns\":[\"123456789\"]}")
            let code = try #require(grant.json["code"] as? String)
            let token = try await send(
                .POST, "/oauth/token", body: "grant_type=authorization_code&code=\(code)&client_id=hmrc-app&client_secret=hmrc-secret",
                contentType: "application/x-www-form-urlencoded")
            #expect(token.json["expires_in"] as? Int == 600)
            let access = try #require(token.json["access_token"] as? String)

            let declaration =
                "{\"periodKey\":\"26A1\",\"vatDueSales\":1000.00,\"vatDueAcquisitions\":0,\"totalVatDue\":1000.00,\"vatReclaimedCurrPeriod\":250.25,"
                + "\"netVatDue\":749.75,\"totalValueSalesExVAT\":5000,\"totalValuePurchasesExVAT\":1250,\"totalValueGoodsSuppliedExVAT\":0,"
                + "\"totalAcquisitionsExVAT\":0,\"finalised\":true}"
            try await Task.sleep(for: .seconds(1))  // a fresh rate window for the application
            let filed = try await send(.POST, "/organisations/vat/123456789/returns", body: declaration, token: access)
            #expect(filed.status == 201)
            #expect(filed.headers.first(name: "Receipt-ID") != nil)
            let moved = try await send(.GET, "/v0/organisations/vat/123456789/returns/26A1", token: access)
            #expect(moved.status == 308)
            #expect(moved.headers.first(name: "Location") == "/organisations/vat/123456789/returns/26A1")

            try await Task.sleep(for: .seconds(1))
            let answers = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<6 { group.addTask { try await send(.GET, "/organisations/vat/123456789/returns/26A1", token: access).status } }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(answers.contains(429))
            #expect(answers.filter { $0 == 200 }.count <= 4)
            #expect(answers.allSatisfy { $0 == 200 || $0 == 429 })

            let statistics = try sandbox.statistics()
            #expect(statistics["hmrcReturnsStored"] as? Int == 1)
            let arrivals = try sandbox.arrivals()
            #expect(arrivals.contains { $0["action"] as? String == "hmrc.vat.return" && $0["status"] as? Int == 201 })
            #expect(arrivals.contains { $0["action"] as? String == "hmrc.vat.return.view" && $0["fault"] as? String == "rate-limit" })
        } catch {
            try? await http.shutdown()
            try? await sandbox.stop()
            throw error
        }
        try await http.shutdown()
        try await sandbox.stop()
        #expect(sandbox.process.log.contains("hmrc_returns=1 hmrc_duplicate_submissions=0"), "\(sandbox.process.log)")
    }
}
