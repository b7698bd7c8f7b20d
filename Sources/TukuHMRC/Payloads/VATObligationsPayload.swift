import Foundation
import TukuCore

/// The payload of an `hmrc.vat.obligations` job: which VAT periods of one registration are open or fulfilled.
///
/// HMRC's rules (VAT (MTD) API 1.0, "Retrieve VAT obligations"): `vrn` nine digits; `status` `O` (open) or `F`
/// (fulfilled), or absent for both; `from` and `to` dates (`YYYY-MM-DD`) are mandatory unless `status` is `O`, and
/// `to` may not be before `from` (`INVALID_DATE_RANGE`). HMRC also limits the range to 366 days (`INVALID_DATE_RANGE`).
public struct VATObligationsPayload: Sendable, Hashable {
    /// The VAT registration number, nine digits.
    public var vrn: String
    /// The first day of the range, `YYYY-MM-DD`.
    public var from: String?
    /// The last day of the range, `YYYY-MM-DD`.
    public var to: String?
    /// `O` or `F`; `nil` for both.
    public var status: String?
    /// The fraud prevention client values.
    public var fraudPrevention: FraudPreventionClientValues

    /// Creates a payload (unchecked).
    public init(vrn: String, from: String?, to: String?, status: String?, fraudPrevention: FraudPreventionClientValues) {
        self.vrn = vrn
        self.from = from
        self.to = to
        self.status = status
        self.fraudPrevention = fraudPrevention
    }

    /// The job kind.
    public static let kind = "hmrc.vat.obligations"

    private struct Raw: Decodable {
        var vrn: LooseField<String>?
        var from: LooseField<String>?
        var to: LooseField<String>?
        var status: LooseField<String>?
        var fraudPrevention: LooseField<RawFraudPrevention>?
    }

    /// Decodes and validates a payload; throws a `JobError` with code `payload_invalid` listing every problem.
    public static func decodeValidated(from json: Data) throws(JobError) -> VATObligationsPayload {
        var problems = HMRCProblems()
        guard let object = try? JSONSerialization.jsonObject(with: json) as? [String: Any],
            let raw = try? JSONDecoder().decode(Raw.self, from: json)
        else {
            throw JobError(code: "payload_invalid", message: "the hmrc.vat.obligations payload is not a JSON object")
        }
        problems.unknownKeys(object, known: ["vrn", "from", "to", "status", "fraudPrevention"], prefix: "")
        let vrn = problems.required(raw.vrn, "vrn")
        if let vrn { VATReturnPayload.checkVRN(vrn, &problems) }
        let status = problems.optional(raw.status, "status")
        if let status, status != "O", status != "F" { problems.add("status", "must be O (open) or F (fulfilled), or left out for both") }
        let from = problems.optional(raw.from, "from")
        let to = problems.optional(raw.to, "to")
        let fromDay = from.flatMap { day(of: $0, "from", &problems) }
        let toDay = to.flatMap { day(of: $0, "to", &problems) }
        if status != "O" {
            if from == nil { problems.add("from", "is required unless status is O") }
            if to == nil { problems.add("to", "is required unless status is O") }
        }
        if let fromDay, let toDay {
            if toDay < fromDay {
                problems.add("to", "must not be before from (INVALID_DATE_RANGE)")
            } else if toDay - fromDay > 366 {
                problems.add("to", "must be at most 366 days after from (INVALID_DATE_RANGE)")
            }
        }
        var client: FraudPreventionClientValues?
        if let fraud = problems.required(raw.fraudPrevention, "fraudPrevention") {
            client = fraud.values(&problems, raw: object["fraudPrevention"] as? [String: Any], prefix: "fraudPrevention")
        }
        guard problems.list.isEmpty, let vrn, let client else { throw VATReturnPayload.invalid(kind: kind, problems.list) }
        return VATObligationsPayload(vrn: vrn, from: from, to: to, status: status, fraudPrevention: client)
    }

    /// Days since 1970-01-01 of a `YYYY-MM-DD` calendar date, or `nil` after recording why it is not one.
    static func day(of text: String, _ path: String, _ problems: inout HMRCProblems) -> Int? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard text.utf8.count == 10, parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            let year = Int(parts[0]), let month = Int(parts[1]), let dayOfMonth = Int(parts[2]), (1...12).contains(month),
            year >= 1900
        else {
            problems.add(path, "must be a date YYYY-MM-DD")
            return nil
        }
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        let lengths = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard (1...lengths[month - 1]).contains(dayOfMonth) else {
            problems.add(path, "must be a date YYYY-MM-DD (no such day)")
            return nil
        }
        // Days from civil (Howard Hinnant's algorithm).
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + dayOfMonth - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The query string of the obligations call: `from`, `to`, `status` in that order, each only when set.
    public var query: String {
        var items: [String] = []
        if let from { items.append("from=\(from)") }
        if let to { items.append("to=\(to)") }
        if let status { items.append("status=\(status)") }
        return items.joined(separator: "&")
    }
}
