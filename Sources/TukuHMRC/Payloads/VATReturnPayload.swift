import Foundation
import TukuCore

/// The payload of an `hmrc.vat.return` job: one VAT return (the nine boxes) for one VAT registration and period,
/// and the fraud prevention values captured upstream.
///
/// ``decodeValidated(from:)`` applies HMRC's rules before anything is sent (the VAT (MTD) API 1.0 OpenAPI and the
/// API's documented codes): `vrn` nine digits (`VRN_INVALID`), `periodKey` four characters of `A-Z a-z 0-9 #`
/// (`PERIOD_KEY_INVALID`), boxes 1–4 exact to the penny within ±9,999,999,999,999.99, box 5 from 0 to
/// 99,999,999,999.99, boxes 6–9 whole pounds within ±9,999,999,999,999 (`INVALID_MONETARY_AMOUNT`),
/// `totalVatDue = vatDueSales + vatDueAcquisitions` (`VAT_TOTAL_VALUE`), `netVatDue = |totalVatDue −
/// vatReclaimedCurrPeriod|` (`VAT_NET_VALUE`), `finalised` true (`NOT_FINALISED`). Every problem is reported
/// with its JSON path.
public struct VATReturnPayload: Sendable, Hashable {
    /// The VAT registration number, nine digits.
    public var vrn: String
    /// HMRC's key for the obligation period, e.g. `18A1` or `#001`.
    public var periodKey: String
    /// Box 1: VAT due on sales and other outputs.
    public var vatDueSales: HMRCMoney
    /// Box 2: VAT due on acquisitions from EU member states (Northern Ireland).
    public var vatDueAcquisitions: HMRCMoney
    /// Box 3: boxes 1 + 2.
    public var totalVatDue: HMRCMoney
    /// Box 4: VAT reclaimed on purchases and other inputs.
    public var vatReclaimedCurrPeriod: HMRCMoney
    /// Box 5: |box 3 − box 4|.
    public var netVatDue: HMRCMoney
    /// Box 6: total value of sales excluding VAT (whole pounds).
    public var totalValueSalesExVAT: HMRCMoney
    /// Box 7: total value of purchases excluding VAT (whole pounds).
    public var totalValuePurchasesExVAT: HMRCMoney
    /// Box 8: goods supplied to EU member states excluding VAT (whole pounds).
    public var totalValueGoodsSuppliedExVAT: HMRCMoney
    /// Box 9: acquisitions from EU member states excluding VAT (whole pounds).
    public var totalAcquisitionsExVAT: HMRCMoney
    /// The user's declaration that the return is final; always `true` once validated.
    public var finalised: Bool
    /// The fraud prevention client values.
    public var fraudPrevention: FraudPreventionClientValues

    /// Creates a payload (unchecked; ``decodeValidated(from:)`` is the checked way in).
    public init(
        vrn: String, periodKey: String, vatDueSales: HMRCMoney, vatDueAcquisitions: HMRCMoney, totalVatDue: HMRCMoney,
        vatReclaimedCurrPeriod: HMRCMoney, netVatDue: HMRCMoney, totalValueSalesExVAT: HMRCMoney, totalValuePurchasesExVAT: HMRCMoney,
        totalValueGoodsSuppliedExVAT: HMRCMoney, totalAcquisitionsExVAT: HMRCMoney, finalised: Bool,
        fraudPrevention: FraudPreventionClientValues
    ) {
        self.vrn = vrn
        self.periodKey = periodKey
        self.vatDueSales = vatDueSales
        self.vatDueAcquisitions = vatDueAcquisitions
        self.totalVatDue = totalVatDue
        self.vatReclaimedCurrPeriod = vatReclaimedCurrPeriod
        self.netVatDue = netVatDue
        self.totalValueSalesExVAT = totalValueSalesExVAT
        self.totalValuePurchasesExVAT = totalValuePurchasesExVAT
        self.totalValueGoodsSuppliedExVAT = totalValueGoodsSuppliedExVAT
        self.totalAcquisitionsExVAT = totalAcquisitionsExVAT
        self.finalised = finalised
        self.fraudPrevention = fraudPrevention
    }

    /// The job kind.
    public static let kind = "hmrc.vat.return"

    /// Boxes 1–4: ±9,999,999,999,999.99 in pence.
    static let boxLimit: Int64 = 999_999_999_999_999
    /// Box 5: 0 to 99,999,999,999.99 in pence.
    static let netLimit: Int64 = 9_999_999_999_999
    /// Boxes 6–9: ±9,999,999,999,999 pounds in pence.
    static let wholeLimit: Int64 = 999_999_999_999_900

    static let keys: Set<String> = [
        "vrn", "periodKey", "vatDueSales", "vatDueAcquisitions", "totalVatDue", "vatReclaimedCurrPeriod", "netVatDue",
        "totalValueSalesExVAT", "totalValuePurchasesExVAT", "totalValueGoodsSuppliedExVAT", "totalAcquisitionsExVAT", "finalised",
        "fraudPrevention",
    ]

    private struct Raw: Decodable {
        var vrn: LooseField<String>?
        var periodKey: LooseField<String>?
        var vatDueSales: LooseMoney?
        var vatDueAcquisitions: LooseMoney?
        var totalVatDue: LooseMoney?
        var vatReclaimedCurrPeriod: LooseMoney?
        var netVatDue: LooseMoney?
        var totalValueSalesExVAT: LooseMoney?
        var totalValuePurchasesExVAT: LooseMoney?
        var totalValueGoodsSuppliedExVAT: LooseMoney?
        var totalAcquisitionsExVAT: LooseMoney?
        var finalised: LooseField<Bool>?
        var fraudPrevention: LooseField<RawFraudPrevention>?
    }

    /// Decodes and validates a payload; throws a `JobError` with code `payload_invalid` listing every problem.
    public static func decodeValidated(from json: Data) throws(JobError) -> VATReturnPayload {
        var problems = HMRCProblems()
        guard let object = try? JSONSerialization.jsonObject(with: json) as? [String: Any],
            let raw = try? JSONDecoder().decode(Raw.self, from: json)
        else {
            throw JobError(code: "payload_invalid", message: "the hmrc.vat.return payload is not a JSON object")
        }
        problems.unknownKeys(object, known: keys, prefix: "")
        let vrn = problems.required(raw.vrn, "vrn")
        if let vrn { checkVRN(vrn, &problems) }
        let periodKey = problems.required(raw.periodKey, "periodKey")
        if let periodKey { checkPeriodKey(periodKey, &problems) }

        func money(_ field: LooseMoney?, _ path: String, range: ClosedRange<Int64>, whole: Bool) -> HMRCMoney? {
            guard let field else {
                problems.add(path, "is required")
                return nil
            }
            switch field.result {
            case .failure(let error):
                problems.add(path, error.reason)
                return nil
            case .success(let amount):
                if whole && !amount.isWholePounds {
                    problems.add(path, "must be a whole number of pounds (HMRC takes boxes 6 to 9 with .00)")
                    return nil
                }
                guard range.contains(amount.pence) else {
                    let low = HMRCMoney(pence: range.lowerBound), high = HMRCMoney(pence: range.upperBound)
                    problems.add(path, "must be between \(low) and \(high)")
                    return nil
                }
                return amount
            }
        }
        let box = -boxLimit...boxLimit
        let wholeRange = -wholeLimit...wholeLimit
        let box1 = money(raw.vatDueSales, "vatDueSales", range: box, whole: false)
        let box2 = money(raw.vatDueAcquisitions, "vatDueAcquisitions", range: box, whole: false)
        let box3 = money(raw.totalVatDue, "totalVatDue", range: box, whole: false)
        let box4 = money(raw.vatReclaimedCurrPeriod, "vatReclaimedCurrPeriod", range: box, whole: false)
        let box5 = money(raw.netVatDue, "netVatDue", range: 0...netLimit, whole: false)
        let box6 = money(raw.totalValueSalesExVAT, "totalValueSalesExVAT", range: wholeRange, whole: true)
        let box7 = money(raw.totalValuePurchasesExVAT, "totalValuePurchasesExVAT", range: wholeRange, whole: true)
        let box8 = money(raw.totalValueGoodsSuppliedExVAT, "totalValueGoodsSuppliedExVAT", range: wholeRange, whole: true)
        let box9 = money(raw.totalAcquisitionsExVAT, "totalAcquisitionsExVAT", range: wholeRange, whole: true)

        if let box1, let box2, let box3, box1.adding(box2) != box3 {
            problems.add(
                "totalVatDue",
                "must equal vatDueSales + vatDueAcquisitions (\(box1.adding(box2).map { "\($0)" } ?? "overflow")) (VAT_TOTAL_VALUE)")
        }
        if let box3, let box4, let box5 {
            let net = box3.subtracting(box4).map { HMRCMoney(pence: Int64($0.pence.magnitude)) }
            if net != box5 {
                problems.add(
                    "netVatDue", "must equal |totalVatDue − vatReclaimedCurrPeriod| (\(net.map { "\($0)" } ?? "overflow")) (VAT_NET_VALUE)")
            }
        }
        let finalised = problems.required(raw.finalised, "finalised")
        if finalised == false {
            problems.add("finalised", "must be true: the user must declare the return final (NOT_FINALISED)")
        }
        var client: FraudPreventionClientValues?
        if let fraud = problems.required(raw.fraudPrevention, "fraudPrevention") {
            client = fraud.values(&problems, raw: object["fraudPrevention"] as? [String: Any], prefix: "fraudPrevention")
        }
        guard problems.list.isEmpty, let vrn, let periodKey, let box1, let box2, let box3, let box4, let box5, let box6, let box7,
            let box8, let box9, let finalised, let client
        else {
            throw invalid(kind: kind, problems.list)
        }
        return VATReturnPayload(
            vrn: vrn, periodKey: periodKey, vatDueSales: box1, vatDueAcquisitions: box2, totalVatDue: box3, vatReclaimedCurrPeriod: box4,
            netVatDue: box5, totalValueSalesExVAT: box6, totalValuePurchasesExVAT: box7, totalValueGoodsSuppliedExVAT: box8,
            totalAcquisitionsExVAT: box9, finalised: finalised, fraudPrevention: client)
    }

    static func checkVRN(_ vrn: String, _ problems: inout HMRCProblems) {
        if vrn.utf8.count != 9 || !vrn.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) {
            problems.add("vrn", "must be exactly 9 digits (VRN_INVALID)")
        }
    }

    static func checkPeriodKey(_ key: String, _ problems: inout HMRCProblems) {
        let allowed = key.utf8.allSatisfy {
            (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || $0 == UInt8(ascii: "#")
        }
        if key.utf8.count != 4 || !allowed {
            problems.add("periodKey", "must be 4 characters, letters, digits or # (PERIOD_KEY_INVALID)")
        }
    }

    static func invalid(kind: String, _ problems: [HMRCPayloadProblem]) -> JobError {
        JobError(
            code: "payload_invalid", message: "the \(kind) payload has \(problems.count) problem(s)",
            problems: problems.map { JobError.Problem(path: $0.path, reason: $0.reason) })
    }

    /// The request body HMRC's `VATReturnDeclaration` takes, exactly: keys in the OpenAPI's order, money as JSON
    /// numbers with two decimals (`105.50`), no floating point anywhere.
    public var requestBody: Data {
        let boxes: [(String, HMRCMoney)] = [
            ("vatDueSales", vatDueSales), ("vatDueAcquisitions", vatDueAcquisitions), ("totalVatDue", totalVatDue),
            ("vatReclaimedCurrPeriod", vatReclaimedCurrPeriod), ("netVatDue", netVatDue), ("totalValueSalesExVAT", totalValueSalesExVAT),
            ("totalValuePurchasesExVAT", totalValuePurchasesExVAT), ("totalValueGoodsSuppliedExVAT", totalValueGoodsSuppliedExVAT),
            ("totalAcquisitionsExVAT", totalAcquisitionsExVAT),
        ]
        // periodKey holds only A-Z a-z 0-9 # once validated, so it needs no JSON escaping.
        var text = "{\"periodKey\":\"\(periodKey)\""
        for (key, amount) in boxes { text += ",\"\(key)\":\(amount.text)" }
        text += ",\"finalised\":\(finalised ? "true" : "false")}"
        return Data(text.utf8)
    }
}
