import Foundation
import Testing
import TukuCore
import TukuHMRC

@Suite("hmrc.vat.return and hmrc.vat.obligations payloads (docs/hmrc.md)")
struct VATReturnPayloadTests {
    static func problems(_ object: [String: Any]) -> [JobError.Problem] {
        do {
            _ = try VATReturnPayload.decodeValidated(from: HMRCFixtures.json(object))
            return []
        } catch {
            #expect(error.code == "payload_invalid")
            return error.problems ?? []
        }
    }

    static func paths(_ object: [String: Any]) -> [String] { problems(object).map(\.path) }

    @Test("HMRC's own example decodes, boxes exact to the penny")
    func example() throws {
        let payload = try VATReturnPayload.decodeValidated(from: HMRCFixtures.json(HMRCFixtures.returnObject()))
        #expect(payload.vrn == "123456789")
        #expect(payload.periodKey == "A001")
        #expect(payload.vatDueSales.pence == 10_550)
        #expect(payload.vatDueAcquisitions.pence == -10_045)
        #expect(payload.totalVatDue.pence == 505)
        #expect(payload.netVatDue.pence == 10_010)
        #expect(payload.totalAcquisitionsExVAT.pence == 300_000)
        #expect(payload.fraudPrevention.connectionMethod == .webAppViaServer)
        #expect(payload.fraudPrevention.publicPort == 51234)
        #expect(payload.fraudPrevention.userIDs == ["acme-payroll": "alice smith&co"])
    }

    @Test("money from JSON strings and numbers is exact: 0.07, 1.10 and the largest amounts survive")
    func exactMoney() throws {
        let object = HMRCFixtures.returnObject([
            "vatDueSales": HMRCFixtures.raw("0.07"), "vatDueAcquisitions": "1.10", "totalVatDue": HMRCFixtures.raw("1.17"),
            "vatReclaimedCurrPeriod": HMRCFixtures.raw("9999999999999.99"), "netVatDue": HMRCFixtures.raw("99999999999.99"),
            "totalValueSalesExVAT": HMRCFixtures.raw("9999999999999"), "totalValuePurchasesExVAT": "-9999999999999.00",
        ])
        // netVatDue must still be |1.17 − 9999999999999.99|, which is out of box 5's range: check the rest decodes exactly.
        let problems = Self.problems(object)
        #expect(problems.map(\.path) == ["netVatDue"])
        var fixed = object
        fixed["vatReclaimedCurrPeriod"] = HMRCFixtures.raw("-99999999998.82")
        let payload = try VATReturnPayload.decodeValidated(from: HMRCFixtures.json(fixed))
        #expect(payload.vatDueSales.pence == 7)
        #expect(payload.vatDueAcquisitions.pence == 110)
        #expect(payload.totalVatDue.pence == 117)
        #expect(payload.netVatDue.text == "99999999999.99")
        #expect(payload.totalValueSalesExVAT.text == "9999999999999.00")
        #expect(payload.totalValuePurchasesExVAT.text == "-9999999999999.00")
    }

    @Test("every problem is reported with its JSON path")
    func everyProblem() {
        let object = HMRCFixtures.returnObject([
            "vrn": "12345678", "periodKey": "A0 1", "vatDueSales": HMRCFixtures.raw("1.005"), "vatDueAcquisitions": true,
            "totalValueSalesExVAT": HMRCFixtures.raw("300.50"), "totalValuePurchasesExVAT": HMRCFixtures.raw("10000000000000"),
            "netVatDue": HMRCFixtures.raw("-1"), "finalised": false, "totalVatDue": nil, "vatDueSale": 1,
        ])
        let problems = Self.problems(object)
        #expect(
            problems.map(\.path).sorted() == [
                "finalised", "netVatDue", "periodKey", "totalValuePurchasesExVAT", "totalValueSalesExVAT", "totalVatDue",
                "vatDueAcquisitions",
                "vatDueSale", "vatDueSales", "vrn",
            ])
        #expect(problems.first { $0.path == "vrn" }?.reason.contains("VRN_INVALID") == true)
        #expect(problems.first { $0.path == "totalVatDue" }?.reason == "is required")
        #expect(problems.first { $0.path == "vatDueSale" }?.reason == "is not a field of this payload")
        #expect(problems.first { $0.path == "finalised" }?.reason.contains("NOT_FINALISED") == true)
        #expect(problems.first { $0.path == "totalValueSalesExVAT" }?.reason.contains("whole number of pounds") == true)
    }

    @Test("totalVatDue and netVatDue are checked as HMRC checks them, in pence")
    func totals() {
        #expect(Self.paths(HMRCFixtures.returnObject(["totalVatDue": HMRCFixtures.raw("5.06")])) == ["totalVatDue", "netVatDue"])
        #expect(Self.problems(HMRCFixtures.returnObject(["totalVatDue": HMRCFixtures.raw("5.06")]))[0].reason.contains("VAT_TOTAL_VALUE"))
        #expect(Self.paths(HMRCFixtures.returnObject(["netVatDue": HMRCFixtures.raw("100.11")])) == ["netVatDue"])
        // A credit: box 4 larger than box 3 still gives a positive box 5.
        #expect(
            Self.paths(
                HMRCFixtures.returnObject([
                    "vatDueSales": 10, "vatDueAcquisitions": 0, "totalVatDue": 10, "vatReclaimedCurrPeriod": 25.5, "netVatDue": 15.5,
                ])) == [])
        #expect(
            Self.paths(
                HMRCFixtures.returnObject([
                    "vatDueSales": 10, "vatDueAcquisitions": 0, "totalVatDue": 10, "vatReclaimedCurrPeriod": 25.5, "netVatDue": -15.5,
                ])) == ["netVatDue"])
    }

    @Test("period keys: four letters, digits or #")
    func periodKeys() {
        for key in ["18A1", "#001", "a0b1", "0000"] { #expect(Self.paths(HMRCFixtures.returnObject(["periodKey": key])) == [], "\(key)") }
        for key in ["18A", "18A12", "18-1", "18A\u{00E9}", ""] {
            #expect(Self.paths(HMRCFixtures.returnObject(["periodKey": key])) == ["periodKey"], "\(key)")
        }
    }

    @Test("fraudPrevention is required and its keys and types are checked")
    func fraudShape() {
        #expect(Self.paths(HMRCFixtures.returnObject(["fraudPrevention": nil])) == ["fraudPrevention"])
        var fraud = HMRCFixtures.webFraudPrevention
        fraud["publicPort"] = "51234"
        fraud["connectionMethod"] = "DESKTOP_APP_DIRECT"
        fraud["screens"] = [["width": "wide", "height": 1080, "scalingFactor": 1, "colourDepth": 24]]
        fraud["deviceId"] = "x"
        fraud["windowSize"] = ["width": 1256, "height": 803, "depth": 2]
        #expect(
            Self.paths(HMRCFixtures.returnObject(["fraudPrevention": fraud])).sorted() == [
                "fraudPrevention.connectionMethod", "fraudPrevention.deviceId", "fraudPrevention.publicPort",
                "fraudPrevention.screens[0].width", "fraudPrevention.windowSize.depth",
            ])
    }

    @Test("JSON numbers with exponents and trailing zeros are read exactly; a string keeps the two-decimal rule")
    func numberForms() throws {
        let object = HMRCFixtures.returnObject([
            "vatDueSales": HMRCFixtures.raw("1.055e2"), "vatDueAcquisitions": HMRCFixtures.raw("-10045e-2"),
            "totalVatDue": HMRCFixtures.raw("5.0500"), "netVatDue": HMRCFixtures.raw("1.001e2"),
        ])
        let payload = try VATReturnPayload.decodeValidated(from: HMRCFixtures.json(object))
        #expect(payload.vatDueSales.pence == 10_550)
        #expect(payload.vatDueAcquisitions.pence == -10_045)
        #expect(payload.totalVatDue.pence == 505)
        #expect(Self.paths(HMRCFixtures.returnObject(["vatDueSales": HMRCFixtures.raw("1.05501e2")])).contains("vatDueSales"))
        #expect(Self.paths(HMRCFixtures.returnObject(["vatDueSales": "105.500"])) == ["vatDueSales"])
        #expect(Self.paths(HMRCFixtures.returnObject(["vatDueSales": "1e2"])) == ["vatDueSales"])
    }

    @Test("not a JSON object: payload_invalid")
    func notObject() {
        #expect(throws: JobError.self) { try VATReturnPayload.decodeValidated(from: Data("[1]".utf8)) }
        #expect(throws: JobError.self) { try VATReturnPayload.decodeValidated(from: Data("{".utf8)) }
    }

    @Test("the request body is HMRC's VATReturnDeclaration, money with two decimals")
    func body() throws {
        let payload = try VATReturnPayload.decodeValidated(from: HMRCFixtures.json(HMRCFixtures.returnObject(["periodKey": "#001"])))
        #expect(
            String(decoding: payload.requestBody, as: UTF8.self)
                == ##"{"periodKey":"#001","vatDueSales":105.50,"vatDueAcquisitions":-100.45,"totalVatDue":5.05,"vatReclaimedCurrPeriod":105.15,"netVatDue":100.10,"totalValueSalesExVAT":300.00,"totalValuePurchasesExVAT":300.00,"totalValueGoodsSuppliedExVAT":3000.00,"totalAcquisitionsExVAT":3000.00,"finalised":true}"##
        )
    }

    // MARK: Obligations

    static func obligationPaths(_ changes: [String: Any?]) -> [String] {
        var object: [String: Any] = [
            "vrn": "123456789", "from": "2026-01-01", "to": "2026-12-31", "fraudPrevention": HMRCFixtures.webFraudPrevention,
        ]
        for (key, value) in changes { object[key] = value }
        do {
            _ = try VATObligationsPayload.decodeValidated(from: HMRCFixtures.json(object))
            return []
        } catch {
            return (error.problems ?? []).map(\.path).sorted()
        }
    }

    @Test("obligations: from and to unless status O, real dates, at most 366 days, status O or F")
    func obligations() throws {
        #expect(Self.obligationPaths([:]) == [])
        #expect(Self.obligationPaths(["from": nil, "to": nil, "status": "O"]) == [])
        #expect(Self.obligationPaths(["from": nil, "to": nil]) == ["from", "to"])
        #expect(Self.obligationPaths(["status": "X"]) == ["status"])
        #expect(Self.obligationPaths(["from": "2026-02-30"]) == ["from"])
        #expect(Self.obligationPaths(["from": "2027-01-01"]) == ["to"])
        #expect(Self.obligationPaths(["from": "2024-01-01", "to": "2024-12-31"]) == [])  // 365 days in a leap year
        #expect(Self.obligationPaths(["from": "2024-01-01", "to": "2025-01-02"]) == ["to"])  // 367 days
        #expect(Self.obligationPaths(["vrn": "GB123456789"]) == ["vrn"])
        let payload = try VATObligationsPayload.decodeValidated(
            from: HMRCFixtures.json([
                "vrn": "123456789", "from": "2026-01-01", "to": "2026-12-31", "status": "F",
                "fraudPrevention": ["connectionMethod": "BATCH_PROCESS_DIRECT"],
            ]))
        #expect(payload.query == "from=2026-01-01&to=2026-12-31&status=F")
        #expect(payload.fraudPrevention.connectionMethod == .batchProcessDirect)
    }
}
