import Foundation
import NIOHTTP1
import Testing
import TukuCore
import TukuGateway
import TukuHMRC

@Suite("HMRC outcome classification (docs/hmrc.md)")
struct HMRCOutcomeClassifierTests {
    static let classifier = HMRCOutcomeClassifier()
    static let now = Date(timeIntervalSince1970: 1_796_453_412)

    /// One row of docs/hmrc.md's outcome table.
    struct Row: Sendable, CustomTestStringConvertible {
        var call: String
        var http: String
        var code: String
        var retryAfter: String
        var outcome: String
        var testDescription: String { "\(call) \(http) \(code) \(retryAfter) → \(outcome)" }
    }

    static let calls: Set<String> = ["submit", "obligations", "lookup", "any"]

    /// Every table row of docs/hmrc.md (the document has no other tables).
    static func rows() throws -> [Row] {
        let text = try String(contentsOf: HMRCFixtures.repositoryRoot.appendingPathComponent("docs/hmrc.md"), encoding: .utf8)
        return text.split(separator: "\n").filter { $0.hasPrefix("| ") && !$0.hasPrefix("| Call ") }.map { line in
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).dropFirst().map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            func unquoted(_ text: String) -> String { text.trimmingCharacters(in: CharacterSet(charactersIn: "`")) }
            return Row(
                call: cells[0], http: cells.count > 1 ? cells[1] : "", code: cells.count > 2 ? unquoted(cells[2]) : "",
                retryAfter: cells.count > 3 ? cells[3] : "", outcome: cells.count > 4 ? unquoted(cells[4]) : "")
        }
    }

    static let receiptBody =
        #"{"processingDate":"2026-12-05T06:41:02.123Z","paymentIndicator":"DD","formBundleNumber":"256660290587","chargeRefNumber":"aCxFaNx0FZsCvyWF"}"#
    static let returnBody =
        #"{"periodKey":"A001","vatDueSales":105.50,"vatDueAcquisitions":-100.45,"totalVatDue":5.05,"vatReclaimedCurrPeriod":105.15,"netVatDue":100.10,"totalValueSalesExVAT":300.00,"totalValuePurchasesExVAT":300.00,"totalValueGoodsSuppliedExVAT":3000.00,"totalAcquisitionsExVAT":3000.00}"#
    static let obligationsBody =
        #"{"obligations":[{"start":"2026-01-01","end":"2026-03-31","due":"2026-05-07","status":"O","periodKey":"26A1"}]}"#

    static func exchange(_ row: Row) -> HMRCExchange {
        guard let status = Int(row.http) else {
            return .noResponse(requestSent: row.code == "(timeout after sending)")
        }
        var headers = HTTPHeaders()
        headers.add(name: "X-CorrelationId", value: "c75f40a6-a3df-4429-a697-471eeec46435")
        if row.retryAfter != "—" { headers.add(name: "Retry-After", value: row.retryAfter) }
        let body: String
        switch row.code {
        case "(receipt)":
            headers.add(name: "Receipt-ID", value: "2dd537bc-4244-4ebf-bac9-96321be13cdc")
            headers.add(name: "Receipt-Timestamp", value: "2026-12-05T06:41:02.123Z")
            body = receiptBody
        case "(return)": body = returnBody
        case "(obligations)": body = obligationsBody
        case "(unreadable)": body = "<html><body>upstream error</body></html>"
        default: body = #"{"code":"\#(row.code)","message":"as HMRC says"}"#
        }
        return .response(status: status, headers: headers, body: Data(body.utf8))
    }

    static func label(_ lookup: HMRCReturnLookup) -> String {
        switch lookup {
        case .held: "held"
        case .none: "none"
        case .undetermined(let outcome): "undetermined \(outcome.label)"
        }
    }

    @Test("docs/hmrc.md's table is well formed and covers the cases issue #12 names")
    func table() throws {
        let rows = try Self.rows()
        #expect(rows.count >= 40)
        for row in rows {
            #expect(Self.calls.contains(row.call), "unknown Call in \(row.testDescription)")
            #expect(Int(row.http) != nil || row.http == "—", "\(row.testDescription)")
        }
        let codes = Set(rows.map(\.code))
        for code in [
            "DUPLICATE_SUBMISSION", "CLIENT_OR_AGENT_NOT_AUTHORISED", "INVALID_CREDENTIALS", "MESSAGE_THROTTLED_OUT",
            "SCHEDULED_MAINTENANCE",
            "VAT_TOTAL_VALUE", "VAT_NET_VALUE", "INVALID_MONETARY_AMOUNT", "NOT_FINALISED", "VRN_INVALID", "PERIOD_KEY_INVALID",
            "NOT_FOUND",
        ] {
            #expect(codes.contains(code), "no row for \(code)")
        }
        #expect(rows.contains { $0.http == "504" && $0.outcome == "outcomeUnknown" })
    }

    @Test("each row of docs/hmrc.md's outcome table", arguments: try rows())
    func row(_ row: Row) {
        let exchange = Self.exchange(row)
        switch row.call {
        case "lookup":
            #expect(Self.label(HMRCReturnLookup.read(exchange, classifier: Self.classifier, now: Self.now)) == row.outcome)
        case "any":
            for operation in HMRCRequest.Operation.allCases {
                #expect(Self.classifier.classify(exchange, operation: operation, now: Self.now).label == row.outcome, "\(operation)")
            }
        default:
            let operation: HMRCRequest.Operation = row.call == "submit" ? .submitReturn : .obligations
            #expect(Self.classifier.classify(exchange, operation: operation, now: Self.now).label == row.outcome)
        }
    }

    @Test("a filed return's receipt: headers and body fields, and the formBundleNumber as the gateway id")
    func receipt() throws {
        var headers = HTTPHeaders()
        headers.add(name: "Receipt-ID", value: "2dd537bc-4244-4ebf-bac9-96321be13cdc")
        headers.add(name: "Receipt-Timestamp", value: "2026-12-05T06:41:02.123Z")
        headers.add(name: "X-CorrelationId", value: "c75f40a6-a3df-4429-a697-471eeec46435")
        let outcome = Self.classifier.classify(
            .response(status: 201, headers: headers, body: Data(Self.receiptBody.utf8)), operation: .submitReturn, now: Self.now)
        let expected = HMRCReceipt(
            receiptID: "2dd537bc-4244-4ebf-bac9-96321be13cdc", receiptTimestamp: "2026-12-05T06:41:02.123Z",
            correlationID: "c75f40a6-a3df-4429-a697-471eeec46435", processingDate: "2026-12-05T06:41:02.123Z",
            formBundleNumber: "256660290587", chargeRefNumber: "aCxFaNx0FZsCvyWF", paymentIndicator: "DD")
        #expect(outcome == .succeeded(expected))
        #expect(outcome.gatewayOutcome == .succeeded(gatewayId: "256660290587", submissionKey: nil))
        #expect(outcome.jobError == nil)
        // Stored as JSON beside the exchange: absent values left out, read back equal.
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let partial = HMRCReceipt(receiptID: "r", formBundleNumber: "256660290587")
        #expect(String(decoding: try encoder.encode(partial), as: UTF8.self) == #"{"formBundleNumber":"256660290587","receiptID":"r"}"#)
        #expect(try JSONDecoder().decode(HMRCReceipt.self, from: encoder.encode(expected)) == expected)
    }

    @Test("a rejection keeps HMRC's code and every errors[] path as a problem")
    func rejection() {
        let body =
            #"{"code":"INVALID_REQUEST","message":"Invalid request","errors":[{"code":"INVALID_MONETARY_AMOUNT","message":"amount should be a monetary value","path":"/vatDueSales"},{"code":"INVALID_NUMERIC_VALUE","message":"please provide a numeric field","path":"/boxes/1/value"}]}"#
        let outcome = Self.classifier.classify(
            .response(status: 400, headers: HTTPHeaders(), body: Data(body.utf8)), operation: .submitReturn, now: Self.now)
        let error = outcome.jobError
        #expect(error?.code == "gateway_rejected")
        #expect(error?.message == "HMRC HTTP 400 INVALID_REQUEST: Invalid request")
        #expect(
            error?.problems == [
                JobError.Problem(path: "vatDueSales", reason: "INVALID_MONETARY_AMOUNT: amount should be a monetary value"),
                JobError.Problem(path: "boxes[1].value", reason: "INVALID_NUMERIC_VALUE: please provide a numeric field"),
            ])
        #expect(outcome.gatewayOutcome == .rejected(code: nil, message: "HMRC HTTP 400 INVALID_REQUEST: Invalid request"))
    }

    @Test("a duplicate submission and a missing authorisation have their own job error codes")
    func distinctCodes() {
        func classify(_ code: String) -> HMRCOutcome {
            Self.classifier.classify(
                .response(status: 403, headers: HTTPHeaders(), body: Data(#"{"code":"\#(code)","message":"m"}"#.utf8)),
                operation: .submitReturn,
                now: Self.now)
        }
        #expect(classify("DUPLICATE_SUBMISSION").jobError?.code == "hmrc_duplicate_submission")
        #expect(classify("CLIENT_OR_AGENT_NOT_AUTHORISED").jobError?.code == "hmrc_consent_required")
        #expect(
            classify("CLIENT_OR_AGENT_NOT_AUTHORISED").gatewayOutcome
                == .rejected(code: nil, message: "HMRC CLIENT_OR_AGENT_NOT_AUTHORISED: m"))
    }

    @Test("Retry-After as an HTTP-date is read against now")
    func retryAfterDate() {
        var headers = HTTPHeaders()
        headers.add(name: "Retry-After", value: "Sat, 05 Dec 2026 06:11:42 GMT")
        let outcome = Self.classifier.classify(
            .response(status: 429, headers: headers, body: Data()), operation: .submitReturn,
            now: Date(timeIntervalSince1970: 1_796_451_072))
        #expect(outcome == .throttled(retryAfter: .seconds(30)))
    }
}

@Suite("HMRC obligations answer")
struct HMRCObligationsTests {
    @Test("the obligations body is read into periods, open and fulfilled, and kept as the job result")
    func parse() throws {
        let body =
            #"{"obligations":[{"start":"2017-01-01","end":"2017-03-31","due":"2017-05-07","status":"F","periodKey":"18A1","received":"2017-05-06"},{"start":"2017-04-01","end":"2017-06-30","due":"2017-08-07","status":"O","periodKey":"18A2"}]}"#
        let obligations = try #require(HMRCObligations.parse(Data(body.utf8)))
        #expect(obligations.obligations.map(\.periodKey) == ["18A1", "18A2"])
        #expect(obligations.obligations.map(\.isOpen) == [false, true])
        #expect(obligations.obligations[0].received == "2017-05-06")
        let result = String(decoding: obligations.resultJSON, as: UTF8.self)
        #expect(result.hasPrefix(#"{"obligations":[{"due":"2017-05-07","end":"2017-03-31","periodKey":"18A1","received":"2017-05-06""#))
        #expect(HMRCObligations.parse(Data(#"{"code":"NOT_FOUND"}"#.utf8)) == nil)
    }
}
