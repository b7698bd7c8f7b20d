import Foundation
import NIOHTTP1
import Testing
import TukuHMRC

@Suite("HMRC requests (docs/hmrc.md)")
struct HMRCRequestTests {
    static let now = Date(timeIntervalSince1970: 1_796_453_412)

    @Test("a return is POSTed to /organisations/vat/{vrn}/returns with HMRC's Accept header and no Authorization")
    func submit() throws {
        let payload = try VATReturnPayload.decodeValidated(from: HMRCFixtures.json(HMRCFixtures.returnObject()))
        let fraud = try HMRCFixtures.headers().headers(for: payload.fraudPrevention, now: Self.now)
        let request = HMRCRequest.submitReturn(payload, fraudPreventionHeaders: fraud)
        #expect(request.method == .POST)
        #expect(request.path == "/organisations/vat/123456789/returns")
        #expect(request.headers.first(name: "Accept") == "application/vnd.hmrc.1.0+json")
        #expect(request.headers.first(name: "Content-Type") == "application/json")
        #expect(request.headers.first(name: "Content-Length") == nil)  // framing is the transport's
        #expect(request.headers.first(name: "Authorization") == nil)
        #expect(request.headers.first(name: "Gov-Client-Public-IP") == "198.51.100.7")
        #expect(request.body == payload.requestBody)
    }

    @Test("the lookup GETs /returns/{periodKey} with # sent as %23; obligations carry their query")
    func gets() throws {
        let lookup = HMRCRequest.viewReturn(vrn: "123456789", periodKey: "#001", fraudPreventionHeaders: HTTPHeaders())
        #expect(lookup.method == .GET)
        #expect(lookup.path == "/organisations/vat/123456789/returns/%23001")
        #expect(lookup.body == nil)
        #expect(lookup.headers.first(name: "Content-Type") == nil)
        #expect(lookup.headers.first(name: "Accept") == "application/vnd.hmrc.1.0+json")
        let open = try VATObligationsPayload.decodeValidated(
            from: HMRCFixtures.json(["vrn": "123456789", "status": "O", "fraudPrevention": ["connectionMethod": "BATCH_PROCESS_DIRECT"]]))
        #expect(
            HMRCRequest.obligations(open, fraudPreventionHeaders: HTTPHeaders()).path == "/organisations/vat/123456789/obligations?status=O"
        )
    }

    /// Varied valid returns (SplitMix64, fixed seed): edge amounts at every box's limits, credits and debits, 0.01 steps.
    static func generatedPayloads(count: Int) throws -> [VATReturnPayload] {
        var state: UInt64 = 0x1234_5678
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        func amount(_ limit: Int64) -> Int64 {
            switch next() % 6 {
            case 0: return limit
            case 1: return -limit
            case 2: return 0
            case 3: return Int64(next() % 100)
            default: return Int64(next() % UInt64(limit)) * (next() % 2 == 0 ? 1 : -1)
            }
        }
        let keys = ["18A1", "#001", "A001", "24AD", "zz99"]
        var payloads: [VATReturnPayload] = []
        while payloads.count < count {
            let box1 = amount(499_999_999_999_999)
            let box2 = amount(499_999_999_999_999)
            let box3 = box1 + box2
            let net = amount(9_999_999_999_999).magnitude
            let box4 = next() % 2 == 0 ? box3 - Int64(net) : box3 + Int64(net)
            guard (-999_999_999_999_999...999_999_999_999_999).contains(box4) else { continue }
            func pounds(_ limit: Int64) -> String { String(amount(limit)) }
            func money(_ pence: Int64) -> String { HMRCFixtures.raw(HMRCMoney(pence: pence).text) }
            let object = HMRCFixtures.returnObject([
                "periodKey": keys[Int(next() % UInt64(keys.count))], "vatDueSales": money(box1), "vatDueAcquisitions": money(box2),
                "totalVatDue": money(box3), "vatReclaimedCurrPeriod": money(box4), "netVatDue": money(Int64(net)),
                "totalValueSalesExVAT": HMRCFixtures.raw(pounds(9_999_999_999_999)),
                "totalValuePurchasesExVAT": HMRCFixtures.raw(pounds(9_999_999_999_999)),
                "totalValueGoodsSuppliedExVAT": HMRCFixtures.raw(pounds(9_999_999_999_999)),
                "totalAcquisitionsExVAT": HMRCFixtures.raw(pounds(9_999_999_999_999)),
            ])
            payloads.append(try VATReturnPayload.decodeValidated(from: HMRCFixtures.json(object)))
        }
        return payloads
    }

    @Test("the bodies the builder writes pass HMRC's OpenAPI schema (VATReturnDeclaration), and broken ones do not")
    func schema() throws {
        let payloads = try Self.generatedPayloads(count: 200)
        var lines = payloads.map { "VATReturnDeclaration\t" + String(decoding: $0.requestBody, as: UTF8.self) }
        // Controls: the validator must be able to say no.
        lines.append(
            #"VATReturnDeclaration\#t{"periodKey":"A001","vatDueSales":1.005,"vatDueAcquisitions":0,"totalVatDue":0,"vatReclaimedCurrPeriod":0,"netVatDue":0,"totalValueSalesExVAT":0,"totalValuePurchasesExVAT":0,"totalValueGoodsSuppliedExVAT":0,"totalAcquisitionsExVAT":0,"finalised":true}"#
        )
        lines.append(
            #"VATReturnDeclaration\#t{"periodKey":"A001","vatDueSales":0,"vatDueAcquisitions":0,"totalVatDue":0,"vatReclaimedCurrPeriod":0,"netVatDue":-1.00,"totalValueSalesExVAT":0,"totalValuePurchasesExVAT":0,"totalValueGoodsSuppliedExVAT":0,"totalAcquisitionsExVAT":0,"finalised":true}"#
        )
        let verdicts = try Self.schemaCheck(lines)
        #expect(verdicts.count == lines.count)
        let bad = zip(payloads.indices, verdicts).filter { $0.1 != "ok" }
        #expect(bad.isEmpty, "\(bad.prefix(3).map { "\(String(decoding: payloads[$0.0].requestBody, as: UTF8.self)): \($0.1)" })")
        #expect(verdicts.suffix(2).allSatisfy { $0.hasPrefix("invalid") })
    }

    /// Runs `scripts/lib/hmrc-schema-check.py` (jsonschema, numbers as decimals) over `SCHEMA\tJSON` lines.
    static func schemaCheck(_ lines: [String]) throws -> [String] {
        let root = HMRCFixtures.repositoryRoot
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", root.appendingPathComponent("scripts/lib/hmrc-schema-check.py").path,
            root.appendingPathComponent("Tests/Fixtures/hmrc-vat-1.0/vat-api-1.0.openapi.yaml").path,
        ]
        // The input goes through a file, so a large batch cannot fill a pipe while the answers fill the other.
        let inputURL = FileManager.default.temporaryDirectory.appendingPathComponent("hmrc-schema-\(UUID().uuidString).tsv")
        try Data(lines.map { $0 + "\n" }.joined().utf8).write(to: inputURL)
        defer { try? FileManager.default.removeItem(at: inputURL) }
        let output = Pipe()
        process.standardInput = try FileHandle(forReadingFrom: inputURL)
        process.standardOutput = output
        try process.run()
        let answers = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        return String(decoding: answers, as: UTF8.self).split(separator: "\n").map(String.init)
    }
}
