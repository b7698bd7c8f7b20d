import Foundation

/// A nine-box VAT return as `POST /organisations/vat/{vrn}/returns` receives it, validated as HMRC does. Amounts
/// are kept in pence, so the arithmetic rules are exact.
public struct HMRCVATReturn: Sendable, Hashable {
    /// The nine boxes in the OpenAPI's order, with their bounds in pence and whether pence must be zero.
    static let boxes: [(name: String, minimum: Int64, maximum: Int64, wholePounds: Bool)] = [
        ("vatDueSales", -999_999_999_999_999, 999_999_999_999_999, false),
        ("vatDueAcquisitions", -999_999_999_999_999, 999_999_999_999_999, false),
        ("totalVatDue", -999_999_999_999_999, 999_999_999_999_999, false),
        ("vatReclaimedCurrPeriod", -999_999_999_999_999, 999_999_999_999_999, false),
        ("netVatDue", 0, 9_999_999_999_999, false),
        ("totalValueSalesExVAT", -999_999_999_999_900, 999_999_999_999_900, true),
        ("totalValuePurchasesExVAT", -999_999_999_999_900, 999_999_999_999_900, true),
        ("totalValueGoodsSuppliedExVAT", -999_999_999_999_900, 999_999_999_999_900, true),
        ("totalAcquisitionsExVAT", -999_999_999_999_900, 999_999_999_999_900, true),
    ]

    /// The period key (4 characters).
    public var periodKey: String
    /// The boxes in pence, by name.
    public var pence: [String: Int64]

    /// Whether `vrn` is a VAT registration number as the API takes it: nine digits.
    public static func isValidVRN(_ vrn: String) -> Bool {
        vrn.utf8.count == 9 && vrn.utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
    }

    /// Whether `key` is a period key: four characters, letters, digits or `#`.
    public static func isValidPeriodKey(_ key: String) -> Bool {
        key.count == 4 && key.allSatisfy { ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == "#" }
    }

    /// Parses and validates a request body, in HMRC's order: JSON, period key, amounts, the two arithmetic rules,
    /// then the declaration.
    public static func parse(_ body: Data) -> Result<HMRCVATReturn, HMRCError> {
        guard let object = try? JSONDecoder().decode([String: HMRCJSONValue].self, from: body) else {
            return .failure(.invalidRequest)
        }
        guard case .string(let periodKey)? = object["periodKey"] else {
            return .failure(HMRCError(400, "INVALID_REQUEST", "Invalid request", errors: [missing("/periodKey")]))
        }
        guard isValidPeriodKey(periodKey) else { return .failure(.periodKeyInvalid) }
        var problems: [HMRCError.Detail] = []
        var pence: [String: Int64] = [:]
        for box in boxes {
            guard let raw = object[box.name] else {
                problems.append(missing("/\(box.name)"))
                continue
            }
            guard case .number(let number) = raw else {
                problems.append(.init(code: "INVALID_NUMERIC_VALUE", message: "please provide a numeric field", path: "/\(box.name)"))
                continue
            }
            // In pence; a two-decimal number scaled by 100 lands within two ulps of a whole number.
            let scaled = number * 100
            let rounded = scaled.rounded()
            let minimum = Double(box.minimum)
            let maximum = Double(box.maximum)
            guard scaled.isFinite, abs(scaled - rounded) <= max(1e-6, scaled.magnitude.ulp * 2), rounded >= minimum, rounded <= maximum,
                !box.wholePounds || Int64(rounded) % 100 == 0
            else {
                problems.append(.init(code: "INVALID_MONETARY_AMOUNT", message: monetaryMessage(box), path: "/\(box.name)"))
                continue
            }
            pence[box.name] = Int64(rounded)
        }
        if problems.isEmpty, let sales = pence["vatDueSales"], let acquisitions = pence["vatDueAcquisitions"],
            let total = pence["totalVatDue"], let reclaimed = pence["vatReclaimedCurrPeriod"], let net = pence["netVatDue"]
        {
            if total != sales + acquisitions {
                problems.append(
                    .init(
                        code: "VAT_TOTAL_VALUE", message: "totalVatDue should be equal to the sum of vatDueSales and vatDueAcquisitions",
                        path: "/totalVatDue"))
            }
            if net != abs(total - reclaimed) {
                problems.append(
                    .init(
                        code: "VAT_NET_VALUE",
                        message:
                            "netVatDue should be the difference between the largest and the smallest values among totalVatDue and vatReclaimedCurrPeriod",
                        path: "/netVatDue"))
            }
        }
        guard case .bool(let finalised)? = object["finalised"] else {
            problems.append(missing("/finalised"))
            return .failure(HMRCError(400, "INVALID_REQUEST", "Invalid request", errors: problems))
        }
        if !problems.isEmpty { return .failure(HMRCError(400, "INVALID_REQUEST", "Invalid request", errors: problems)) }
        guard finalised else { return .failure(.notFinalised) }
        return .success(HMRCVATReturn(periodKey: periodKey, pence: pence))
    }

    /// Pence as a JSON number with two decimals, e.g. `-100.45`.
    public static func amount(_ pence: Int64) -> String {
        let sign = pence < 0 ? "-" : ""
        let magnitude = pence.magnitude
        let fraction = magnitude % 100
        return "\(sign)\(magnitude / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }

    /// The JSON of `GET …/returns/{periodKey}` (the OpenAPI's `SubmitVAT`).
    public var json: String {
        let fields = Self.boxes.map { "\"\($0.name)\":\(Self.amount(pence[$0.name] ?? 0))" }
        return "{\"periodKey\":\(Arrival.quoted(periodKey)),\(fields.joined(separator: ","))}"
    }

    private static func missing(_ path: String) -> HMRCError.Detail {
        .init(code: "MISSING_FIELD", message: "a required field is missing or of the wrong type", path: path)
    }

    private static func monetaryMessage(_ box: (name: String, minimum: Int64, maximum: Int64, wholePounds: Bool)) -> String {
        if box.name == "netVatDue" { return "amount should be a monetary value (to 2 decimal places), between 0 and 99,999,999,999.99" }
        if box.wholePounds {
            return "amount should be a monetary value (to 2 zeroed decimal places), between -9,999,999,999,999 and 9,999,999,999,999"
        }
        return "amount should be a monetary value (to 2 decimal places), between -9,999,999,999,999.99 and 9,999,999,999,999.99"
    }
}
