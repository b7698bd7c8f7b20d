import Foundation
import Testing
import TukuGateway
import TukuIRD

/// IRD still answers some returns in its first-generation namespaces (`Common.v1`, `ReturnCommon.v1`). A v1
/// answer must decode to the same outcome as its v2 equivalent; before, every one of them was "not an IRD
/// response" and so `outcome_unknown`, which loops through retries and reconciliation instead of ending.
@Suite("Gateway responses in IRD's v1 namespaces")
struct GatewayResponseV1Tests {
    static let classifier = GatewayOutcomeClassifier()

    static func result(_ name: String) throws -> GatewayResult {
        let response = try GatewayResponseParser.parse(try ReferencePaths.v1Sample(name))
        guard case .result(let result) = response.content else {
            Issue.record("expected an IRD response document in \(name), got \(response.content)")
            throw CancellationError()
        }
        return result
    }

    static func outcome(_ name: String) throws -> GatewayOutcome {
        let data = try ReferencePaths.v1Sample(name)
        return classifier.classify(
            .response(status: 200, retryAfter: nil, body: Result { () throws(GatewayError) in try GatewayResponseParser.parse(data) }))
    }

    @Test("a v1 File success keeps its gateway id and submission key, and succeeds")
    func fileSuccess() throws {
        let result = try Self.result("body-gst-returnfile-response.xml")
        #expect(result.responseElement == "fileResponse")
        #expect(result.statusMessages == [StatusMessage(statusCode: 0, errorMessage: "")])
        #expect(result.gatewayId == "0000 002G M22W 9")
        #expect(result.submissionKey == 1_108_852_352)
        #expect(try Self.outcome("body-gst-returnfile-response.xml") == .succeeded(gatewayId: "0000 002G M22W 9", submissionKey: 1_108_852_352))
    }

    @Test("a v1 rejection (4, Unauthorised Delegation) is rejected with IRD's code, as in v2")
    func unauthorisedDelegation() throws {
        #expect(try Self.result("body-gst-returnfile-respcode4.xml").statusMessages == [StatusMessage(statusCode: 4, errorMessage: "Unauthorised Delegation")])
        #expect(try Self.outcome("body-gst-returnfile-respcode4.xml") == .rejected(code: 4, message: "Unauthorised Delegation"))
    }

    @Test("a v1 schema failure (21) is rejected with the validator's message")
    func schemaFailure() throws {
        let outcome = try Self.outcome("body-gst-returnfile-schema-error-response.xml")
        guard case .rejected(code: 21, let message) = outcome else {
            Issue.record("expected rejected(21), got \(outcome)")
            return
        }
        #expect(message.hasPrefix("XML Request Failed Validation: [ValidationProblem { line=25, column=55"))
    }

    @Test("IRD's v1 RetrieveReturn response (GST, the shape IRD publishes) is one retrieved return, and succeeds")
    func retrieveReturn() throws {
        let result = try Self.result("body-gst-retrievereturn-response.xml")
        #expect(result.responseElement == "retrieveReturnResponse")
        #expect(result.statusMessages == [StatusMessage(statusCode: 0, errorMessage: "")])
        // GST's form fields are not EI's: only standardFields is read.
        #expect(result.retrievedReturns == [RetrievedReturn(isNilReturn: false)])
        #expect(try Self.outcome("body-gst-retrievereturn-response.xml") == .succeeded(gatewayId: nil, submissionKey: nil))
    }

    @Test("an EI v1 RetrieveReturn body (ReturnCommon.v1, ReturnEI.v1) is read like v2's; a v1 103 is rejected")
    func eiV1RetrieveReturn() throws {
        let sample = String(decoding: try ReferencePaths.v1Sample("body-gst-retrievereturn-response.xml"), as: UTF8.self)
        let start = try #require(sample.range(of: "<formFields"))
        let end = try #require(sample.range(of: "</formFields>"))
        let ei = sample.replacingCharacters(
            in: start.lowerBound..<end.upperBound,
            with: """
                <formFields xmlns="urn:www.ird.govt.nz/GWS:types/ReturnEI.v1"><submissionKey>987654321</submissionKey>\
                <payDayDate>2018-04-10</payDayDate><employeeFields><employee><referenceId>a1</referenceId></employee>\
                <employee><referenceId>b2</referenceId></employee></employeeFields><totalGrossEarnings>2000.00</totalGrossEarnings>\
                <totalPAYESchedularTaxDeductions>300.00</totalPAYESchedularTaxDeductions></formFields>
                """)
        let result = try Self.parsed(Data(ei.utf8))
        #expect(
            result.retrievedReturns == [
                RetrievedReturn(
                    isNilReturn: false, submissionKey: 987_654_321, payDayDate: try CalendarDate("2018-04-10"),
                    lineReferences: ["a1", "b2"], totalGrossEarnings: "2000.00", totalPAYE: "300.00")
            ])
        let notFound = try #require(ei.range(of: #"(?s)<statusMessage.*</responseBody>"#, options: .regularExpression))
        let refused = ei.replacingCharacters(
            in: notFound,
            with: #"<statusMessage xmlns="urn:www.ird.govt.nz/GWS:types/Common.v1"><statusCode>103</statusCode><errorMessage>No return found</errorMessage></statusMessage>"#
        )
        let outcome = Self.classifier.classify(
            .response(
                status: 200, retryAfter: nil,
                body: Result { () throws(GatewayError) in try GatewayResponseParser.parse(Data(refused.utf8)) }))
        #expect(outcome == .rejected(code: 103, message: "No return found"))
    }

    static func parsed(_ data: Data) throws -> GatewayResult {
        guard case .result(let result) = try GatewayResponseParser.parse(data).content else {
            Issue.record("expected an IRD response document")
            throw CancellationError()
        }
        return result
    }

    @Test("a v1 RetrieveStatus names one status and the return's submission key, read as one return status")
    func statusSubmitted() throws {
        let result = try Self.result("body-gst-returnstatus-response.xml")
        #expect(result.responseElement == "retrieveStatusResponse")
        #expect(result.returnStatuses == [ReturnStatus(code: "SUB", text: "Submitted", submissionKey: 235_067_864)])
        #expect(try Self.outcome("body-gst-returnstatus-response.xml") == .succeeded(gatewayId: nil, submissionKey: 235_067_864))
    }

    @Test("v1 RetrieveStatus without a return (Expected, Overdue) has statuses but no submission key")
    func statusWithoutReturn() throws {
        #expect(try Self.result("body-aim-returnstatus-expected.xml").returnStatuses == [ReturnStatus(code: "EXP", text: "Expected")])
        #expect(try Self.result("body-aim-returnstatus-overdue.xml").returnStatuses == [ReturnStatus(code: "OVERDU", text: "Overdue")])
        #expect(try Self.result("body-aim-returnstatus-overdue.xml").submissionKey == nil)
    }

    @Test("a v1 RetrieveStatus error (114 Invalid Period) is rejected with its code")
    func statusError() throws {
        #expect(try Self.outcome("body-aim-returnstatus-invalid.xml") == .rejected(code: 114, message: "Invalid Period"))
    }

    @Test("a statusMessage in the other generation's namespace is not read as this document's (v1 document, v2 status)")
    func mixedGenerations() throws {
        let text = String(decoding: try ReferencePaths.v1Sample("body-gst-returnfile-respcode4.xml"), as: UTF8.self)
            .replacingOccurrences(of: "GWS:types/Common.v1", with: "GWS:types/Common.v2")
        #expect(throws: GatewayError.self) { try GatewayResponseParser.parse(Data(text.utf8)) }
    }
}
