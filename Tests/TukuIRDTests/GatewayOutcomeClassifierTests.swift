import Foundation
import Testing
import TukuGateway

@Suite("Outcome classification (docs/outcomes.md)")
struct GatewayOutcomeClassifierTests {
    static let classifier = GatewayOutcomeClassifier()

    static func result(_ codes: [Int], message: String = "msg") -> Result<GatewayResponse, GatewayError> {
        .success(
            GatewayResponse(
                action: nil,
                content: .result(
                    GatewayResult(
                        responseElement: "fileResponse",
                        statusMessages: codes.map { StatusMessage(statusCode: $0, errorMessage: $0 == 0 ? "" : message) },
                        gatewayId: codes.allSatisfy { $0 == 0 } ? "0000 002J ZJ5N 6" : nil,
                        submissionKey: codes.allSatisfy { $0 == 0 } ? 1_829_404_672 : nil
                    ))))
    }

    static func fault(_ code: String, _ reason: String) -> Result<GatewayResponse, GatewayError> {
        .success(
            GatewayResponse(
                action: nil,
                content: .fault(
                    SOAPFault(
                        code: SOAPFault.Code(namespace: "http://www.w3.org/2003/05/soap-envelope", localName: code),
                        reason: reason
                    ))))
    }

    static func unreadable(_ code: GatewayError.Code) -> Result<GatewayResponse, GatewayError> {
        .failure(GatewayError(code: code, reason: "test"))
    }

    struct Row: Sendable, CustomTestStringConvertible {
        var name: String
        var exchange: GatewayExchange
        var expected: GatewayOutcome
        var testDescription: String { name }
    }

    static let rows: [Row] = [
        Row(
            name: "200 + code 0 → succeeded with gatewayId and submissionKey",
            exchange: .response(status: 200, retryAfter: nil, body: result([0])),
            expected: .succeeded(gatewayId: "0000 002J ZJ5N 6", submissionKey: 1_829_404_672)),
        Row(
            name: "200 + code 1 (authentication failure) → reauthorize",
            exchange: .response(status: 200, retryAfter: nil, body: result([1])), expected: .reauthorize),
        Row(
            name: "200 + code -1 (unknown error) → retry",
            exchange: .response(status: 200, retryAfter: nil, body: result([-1])), expected: .retry(after: .seconds(60))),
        Row(
            name: "200 + code 108 (return locked) → retry",
            exchange: .response(status: 200, retryAfter: nil, body: result([108])), expected: .retry(after: .seconds(60))),
        Row(
            name: "200 + code 166 (v1: temporarily locked) → retry after 10 minutes",
            exchange: .response(status: 200, retryAfter: nil, body: result([166])), expected: .retry(after: .seconds(600))),
        Row(
            name: "200 + code 160 (duplicate payday submission) → outcome unknown",
            exchange: .response(status: 200, retryAfter: nil, body: result([160])),
            expected: .outcomeUnknown(
                reason:
                    "IRD code 160: an identical payday submission was made in the last hour; check its status")),
        Row(
            name: "200 + code 4 → rejected with IRD's code and message",
            exchange: .response(status: 200, retryAfter: nil, body: result([4], message: "Unauthorised delegation")),
            expected: .rejected(code: 4, message: "Unauthorised delegation")),
        Row(
            name: "200 + codes 0 and 134 → the first non-zero code decides (rejected 134)",
            exchange: .response(status: 200, retryAfter: nil, body: result([0, 134])),
            expected: .rejected(code: 134, message: "msg")),
        Row(
            name: "200 + code 2 (missing token) → rejected",
            exchange: .response(status: 200, retryAfter: nil, body: result([2])), expected: .rejected(code: 2, message: "msg")),
        Row(
            name: "200 + code 3 → rejected",
            exchange: .response(status: 200, retryAfter: nil, body: result([3])), expected: .rejected(code: 3, message: "msg")),
        Row(
            name: "200 + code 21 (schema failure) → rejected",
            exchange: .response(status: 200, retryAfter: nil, body: result([21])), expected: .rejected(code: 21, message: "msg")),
        Row(
            name: "200 + code 107 (duplicate return) → rejected",
            exchange: .response(status: 200, retryAfter: nil, body: result([107])), expected: .rejected(code: 107, message: "msg")),
        Row(
            name: "200 + an unlisted code 999 → rejected",
            exchange: .response(status: 200, retryAfter: nil, body: result([999])), expected: .rejected(code: 999, message: "msg")),
        Row(
            name: "429 → throttled, Retry-After honoured",
            exchange: .response(status: 429, retryAfter: .seconds(30), body: fault("Receiver", "UnAuthorised")),
            expected: .throttled(retryAfter: .seconds(30))),
        Row(
            name: "429 without Retry-After → throttled after the default",
            exchange: .response(status: 429, retryAfter: nil, body: unreadable(.emptyResponse)),
            expected: .throttled(retryAfter: .seconds(10))),
        Row(
            name: "429 with a huge Retry-After → capped at one hour",
            exchange: .response(status: 429, retryAfter: .seconds(86_400), body: unreadable(.emptyResponse)),
            expected: .throttled(retryAfter: .seconds(3600))),
        Row(
            name: "503 → retry, Retry-After honoured",
            exchange: .response(status: 503, retryAfter: .seconds(120), body: unreadable(.htmlResponse)),
            expected: .retry(after: .seconds(120))),
        Row(
            name: "503 without Retry-After → retry after the default",
            exchange: .response(status: 503, retryAfter: nil, body: unreadable(.htmlResponse)),
            expected: .retry(after: .seconds(60))),
        Row(
            name: "504 → outcome unknown",
            exchange: .response(status: 504, retryAfter: nil, body: unreadable(.htmlResponse)),
            expected: .outcomeUnknown(reason: "HTTP 504: the gateway timed out waiting for IRD")),
        Row(
            name: "UnAuthorised SOAP fault (HTTP 500) → retry after at least 5 s",
            exchange: .response(status: 500, retryAfter: nil, body: fault("Receiver", "UnAuthorised")),
            expected: .retryAfterUnauthorisedFault(after: .seconds(5))),
        Row(
            name: "other Receiver fault → retry",
            exchange: .response(status: 500, retryAfter: nil, body: fault("Receiver", "Server busy")),
            expected: .retry(after: .seconds(60))),
        Row(
            name: "Sender fault → rejected",
            exchange: .response(status: 400, retryAfter: nil, body: fault("Sender", "Bad message")),
            expected: .rejected(code: nil, message: "SOAP fault Sender: Bad message")),
        Row(
            name: "200 with an unreadable body → outcome unknown",
            exchange: .response(status: 200, retryAfter: nil, body: unreadable(.nonXMLResponse)),
            expected: .outcomeUnknown(reason: "HTTP 200 with an unreadable reply (nonXMLResponse)")),
        Row(
            name: "401 with an unreadable body → reauthorize",
            exchange: .response(status: 401, retryAfter: nil, body: unreadable(.emptyResponse)), expected: .reauthorize),
        Row(
            name: "500/502 with an unreadable body → retry",
            exchange: .response(status: 502, retryAfter: nil, body: unreadable(.htmlResponse)),
            expected: .retry(after: .seconds(60))),
        Row(
            name: "other 4xx with an unreadable body → rejected",
            exchange: .response(status: 404, retryAfter: nil, body: unreadable(.htmlResponse)),
            expected: .rejected(code: nil, message: "HTTP 404 with an unreadable reply (htmlResponse)")),
        Row(
            name: "timeout or connection drop after sending → outcome unknown",
            exchange: .noResponse(requestSent: true),
            expected: .outcomeUnknown(reason: "no response after the request was sent (timeout or connection lost)")),
        Row(
            name: "connection failure before sending → retry",
            exchange: .noResponse(requestSent: false), expected: .retry(after: .seconds(60))),
    ]

    @Test("each row of docs/outcomes.md", arguments: rows)
    func row(_ row: Row) {
        #expect(Self.classifier.classify(row.exchange) == row.expected)
    }

    @Test("the UnAuthorised-fault delay is never configured below IRD's five seconds")
    func unauthorisedMinimum() {
        let classifier = GatewayOutcomeClassifier(configuration: .init(unauthorisedFaultDelay: .seconds(1)))
        #expect(
            classifier.classify(.response(status: 500, retryAfter: nil, body: Self.fault("Receiver", "UnAuthorised")))
                == .retryAfterUnauthorisedFault(after: .seconds(5)))
    }

    @Test("docs/outcomes.md has one table row per test row")
    func documentMatches() throws {
        let url = ReferencePaths.repositoryRoot.appendingPathComponent("docs/outcomes.md")
        let text = try String(contentsOf: url, encoding: .utf8)
        let tableRows = text.split(separator: "\n").filter { $0.hasPrefix("| ") && !$0.hasPrefix("| HTTP") }
        #expect(tableRows.count == Self.rows.count)
    }

    @Test("Retry-After reads delay-seconds and HTTP-dates")
    func retryAfter() {
        let now = Date(timeIntervalSince1970: 1_445_412_480)  // Wed, 21 Oct 2015 07:28:00 GMT
        #expect(RetryAfter.delay(fromHeader: "120", now: now) == .seconds(120))
        #expect(RetryAfter.delay(fromHeader: "Wed, 21 Oct 2015 07:29:30 GMT", now: now) == .seconds(90))
        #expect(RetryAfter.delay(fromHeader: "Wed, 21 Oct 2015 07:00:00 GMT", now: now) == .zero)
        #expect(RetryAfter.delay(fromHeader: "soon", now: now) == nil)
        #expect(RetryAfter.delay(fromHeader: "-5", now: now) == nil)
    }
}
