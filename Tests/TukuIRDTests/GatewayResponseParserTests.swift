import Foundation
import Testing
import TukuGateway
import TukuIRD

@Suite("Gateway response parser")
struct GatewayResponseParserTests {
    static func result(_ data: Data) throws -> GatewayResult {
        let response = try GatewayResponseParser.parse(data)
        guard case .result(let result) = response.content else {
            Issue.record("expected a result, got \(response.content)")
            throw CancellationError()
        }
        return result
    }

    static func fault(_ text: String) throws -> SOAPFault {
        let response = try GatewayResponseParser.parse(Data(text.utf8))
        guard case .fault(let fault) = response.content else {
            Issue.record("expected a fault, got \(response.content)")
            throw CancellationError()
        }
        return fault
    }

    static func parseError(_ data: Data) -> GatewayError? {
        do {
            _ = try GatewayResponseParser.parse(data)
            return nil
        } catch {
            return error
        }
    }

    /// The EI build pack's `retrieveReturnResponse` example (§3.3), as printed (empty values, `standardFields` in the
    /// EI namespace) but with its closing tag matched to its opening one, inside IRD's Returns response envelope.
    static let buildPackRetrieveReturn = """
        <s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://www.w3.org/2005/08/addressing">
        <s:Header><a:Action s:mustUnderstand="1">https://services.ird.govt.nz/GWS/Returns/Return/RetrieveReturnResponse</a:Action></s:Header>
        <s:Body><RetrieveReturnResponse xmlns="https://services.ird.govt.nz/GWS/Returns/"><RetrieveReturnResult>
        <b:RetrieveReturnResponseWrapper xmlns:b="https://services.ird.govt.nz/GWS/Returns/:types/RetrieveReturnResponse">
        <retrieveReturnResponse xmlns="urn:www.ird.govt.nz/GWS:types/ReturnCommon.v2" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
         <statusMessage xmlns="urn:www.ird.govt.nz/GWS:types/Common.v2">
          <statusCode>0</statusCode>
          <errorMessage></errorMessage>
         </statusMessage>
         <responseBody xmlns:r="urn:www.ird.govt.nz/GWS:types/ReturnEI.v2" xsi:type="r:RetrieveReturnResponseBodyType">
             <r:standardFields>
                       <isNilReturn xmlns="urn:www.ird.govt.nz/GWS:types/ReturnCommon.v2"/>
             </r:standardFields>
                 <r:formFields>
          <r:employeeFields>
           <r:employee>
            <r:irdNumber></r:irdNumber>
            <r:employeeName></r:employeeName>
            <r:taxCode></r:taxCode>
            <r:payPeriodStartDate></r:payPeriodStartDate>
            <r:payPeriodEndDate></r:payPeriodEndDate>
           </r:employee>
           <r:employee>
            <r:irdNumber></r:irdNumber>
            <r:employeeName></r:employeeName>
            <r:taxCode></r:taxCode>
            <r:payPeriodStartDate></r:payPeriodStartDate>
            <r:payPeriodEndDate></r:payPeriodEndDate>
           </r:employee>
          </r:employeeFields>
              </r:formFields>
         </responseBody>
        </retrieveReturnResponse>
        </b:RetrieveReturnResponseWrapper></RetrieveReturnResult></RetrieveReturnResponse></s:Body></s:Envelope>
        """

    @Test("the build pack's RetrieveReturn example: success, one return of two lines, nothing invented for empty fields")
    func buildPackRetrieveReturn() throws {
        let response = try GatewayResponseParser.parse(Data(Self.buildPackRetrieveReturn.utf8))
        #expect(response.action == GatewayOperation.retrieveReturn.responseAction)
        let result = try Self.result(Data(Self.buildPackRetrieveReturn.utf8))
        #expect(result.isSuccess)
        #expect(result.responseElement == "retrieveReturnResponse")
        #expect(result.retrievedReturns == [RetrievedReturn(lineReferences: ["", ""])])
        #expect(result.gatewayId == nil && result.submissionKey == nil && result.returnStatuses.isEmpty)
    }

    @Test("IRD's File response sample: success, gatewayId, submissionKey and the reply action")
    func fileResponseSample() throws {
        let data = try ReferencePaths.sample("body-ei-returnfile-response.xml")
        let response = try GatewayResponseParser.parse(data)
        #expect(response.action == "https://services.ird.govt.nz/GWS/Returns/Return/FileResponse")
        let result = try Self.result(data)
        #expect(result.responseElement == "fileResponse")
        #expect(result.statusMessages == [StatusMessage(statusCode: 0, errorMessage: "")])
        #expect(result.gatewayId == "0000 002G N2?N N")
        #expect(result.submissionKey == 987_654_321)
        #expect(result.isSuccess)
    }

    @Test("IRD's RetrieveStatus response sample, whose Action sits in a default namespace declared on the envelope")
    func returnStatusSample() throws {
        let data = try ReferencePaths.sample("body-ei-returnstatus-response.xml")
        #expect(
            try GatewayResponseParser.parse(data).action
                == "https://services.ird.govt.nz/GWS/Returns/Return/RetrieveStatusResponse")
        let result = try Self.result(data)
        #expect(result.responseElement == "retrieveStatusResponse")
        #expect(
            result.returnStatuses == [
                ReturnStatus(
                    code: "LPRCG", text: "Late-processing", submissionKey: 987_654_321, minorFormType: "EI2"
                )
            ])
    }

    @Test(
        "IRD's Employment responses: success, unauthorised delegation (code 4), and terminate",
        arguments: [
            ("body-employment-create-response.xml", 0, "", "CreateResponse"),
            ("body-employment-create-response-error-unauth-delegate.xml", 4, "Unauthorised Delegation", "CreateResponse"),
            ("body-employment-terminate-response.xml", 0, "", "TerminateResponse"),
        ])
    func employmentSamples(name: String, code: Int, message: String, action: String) throws {
        let data = try ReferencePaths.sample(name)
        #expect(
            try GatewayResponseParser.parse(data).action
                == "https://services.ird.govt.nz/GWS/Employment/v2/Employment/\(action)")
        let result = try Self.result(data)
        #expect(result.responseElement == "employmentResponse")
        #expect(result.statusMessages == [StatusMessage(statusCode: code, errorMessage: message)])
        #expect(result.isSuccess == (code == 0))
    }

    @Test("every sample parses: responses to results, requests to an 'unexpected response' error")
    func everySample() throws {
        let names = try ReferencePaths.sampleNames()
        #expect(names.count >= 9)
        for name in names {
            let data = try ReferencePaths.sample(name)
            if name.contains("request") {
                #expect(Self.parseError(data)?.code == .unexpectedResponse, "\(name)")
            } else {
                #expect(throws: Never.self, "\(name)") { _ = try GatewayResponseParser.parse(data) }
            }
        }
    }

    static let prefixedResponse = """
        <?xml version="1.0" encoding="utf-8"?>
        <zz:Envelope xmlns:zz="http://www.w3.org/2003/05/soap-envelope">
          <zz:Header><q:Action xmlns:q="http://www.w3.org/2005/08/addressing">urn:x</q:Action></zz:Header>
          <zz:Body>
            <op:FileResponse xmlns:op="https://services.ird.govt.nz/GWS/Returns/"><op:FileResult>
              <w:FileResponseWrapper xmlns:w="https://services.ird.govt.nz/GWS/Returns/:types/FileResponse">
                <rc9:fileResponse xmlns:rc9="urn:www.ird.govt.nz/GWS:types/ReturnCommon.v2"
                                  xmlns:c="urn:www.ird.govt.nz/GWS:types/Common.v2">
                  <c:statusMessage><c:statusCode> 0 </c:statusCode><c:errorMessage/></c:statusMessage>
                  <rc9:responseBody><rc9:gatewayId>0000 002J ZJ5N 6</rc9:gatewayId>
                    <rc9:submissionKey>1829404672</rc9:submissionKey></rc9:responseBody>
                </rc9:fileResponse>
              </w:FileResponseWrapper>
            </op:FileResult></op:FileResponse>
          </zz:Body>
        </zz:Envelope>
        """

    @Test("the same document with different prefixes parses to the same value")
    func prefixesDoNotMatter() throws {
        let result = try Self.result(Data(Self.prefixedResponse.utf8))
        #expect(result.gatewayId == "0000 002J ZJ5N 6")
        #expect(result.submissionKey == 1_829_404_672)
        #expect(result.statusMessages.map(\.statusCode) == [0])
    }

    @Test("elements with the right names in the wrong namespace are not matched")
    func namespacesMatter() {
        // statusMessage in ReturnCommon instead of Common, as in the build pack's sloppy prose example.
        let wrongNamespace = Self.prefixedResponse.replacingOccurrences(
            of: "<c:statusMessage><c:statusCode> 0 </c:statusCode><c:errorMessage/></c:statusMessage>",
            with: "<rc9:statusMessage><rc9:statusCode>0</rc9:statusCode></rc9:statusMessage>"
        )
        #expect(Self.parseError(Data(wrongNamespace.utf8))?.code == .unexpectedResponse)
        // A SOAP 1.1 envelope with the same body is not a SOAP 1.2 reply.
        let soap11 = Self.prefixedResponse.replacingOccurrences(
            of: "http://www.w3.org/2003/05/soap-envelope", with: "http://schemas.xmlsoap.org/soap/envelope/"
        )
        #expect(Self.parseError(Data(soap11.utf8))?.code == .notSOAPEnvelope)
    }

    @Test("several status messages are all kept, in order, with their descriptions")
    func severalStatusMessages() throws {
        let text = Self.prefixedResponse.replacingOccurrences(
            of: "<c:statusMessage><c:statusCode> 0 </c:statusCode><c:errorMessage/></c:statusMessage>",
            with: """
                <c:statusMessage><c:statusCode>21</c:statusCode><c:errorMessage>XML request failed validation\
                </c:errorMessage><c:errorDescription>Line 3, column 7: bad</c:errorDescription></c:statusMessage>\
                <c:statusMessage><c:statusCode>134</c:statusCode><c:errorMessage>Invalid employee IRD number\
                </c:errorMessage></c:statusMessage>
                """
        )
        let result = try Self.result(Data(text.utf8))
        #expect(
            result.statusMessages == [
                StatusMessage(
                    statusCode: 21, errorMessage: "XML request failed validation",
                    errorDescription: "Line 3, column 7: bad"),
                StatusMessage(statusCode: 134, errorMessage: "Invalid employee IRD number"),
            ])
        #expect(result.firstError?.statusCode == 21)
    }

    @Test("a SOAP 1.2 fault with IRD's UnAuthorised reason, whatever the prefixes")
    func unauthorisedFault() throws {
        let fault = try Self.fault(
            """
            <e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body><e:Fault>
              <e:Code><e:Value>e:Receiver</e:Value></e:Code>
              <e:Reason><e:Text xml:lang="mi">Kāore i whakaaetia</e:Text><e:Text xml:lang="en">UnAuthorised</e:Text></e:Reason>
            </e:Fault></e:Body></e:Envelope>
            """)
        #expect(fault.code == SOAPFault.Code(namespace: IRDNamespace.soapEnvelope, localName: "Receiver"))
        #expect(fault.reason == "UnAuthorised")
        #expect(fault.isUnauthorised)
    }

    @Test("a Sender fault with subcodes and detail, and a fault code whose prefix is unbound")
    func senderFault() throws {
        let fault = try Self.fault(
            """
            <s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="urn:app"><s:Body><s:Fault>
              <s:Code><s:Value>s:Sender</s:Value><s:Subcode><s:Value>a:BadRequest</s:Value></s:Subcode></s:Code>
              <s:Reason><s:Text xml:lang="en">The message could not be processed</s:Text></s:Reason>
              <s:Detail><a:info>bad header</a:info></s:Detail>
            </s:Fault></s:Body></s:Envelope>
            """)
        #expect(fault.code.isSOAP("Sender"))
        #expect(fault.subcodes == [SOAPFault.Code(namespace: "urn:app", localName: "BadRequest")])
        #expect(fault.detail == "bad header")
        #expect(!fault.isUnauthorised)
        let unbound = try Self.fault(
            """
            <s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><s:Fault>
              <s:Code><s:Value>x:Receiver</s:Value></s:Code><s:Reason><s:Text>oops</s:Text></s:Reason>
            </s:Fault></s:Body></s:Envelope>
            """)
        #expect(!unbound.code.isSOAP("Receiver"))
    }

    @Test(
        "empty, whitespace, non-XML, HTML and XHTML bodies become typed errors",
        arguments: [
            ("", GatewayError.Code.emptyResponse),
            (" \n\t ", .emptyResponse),
            ("Internal Server Error", .nonXMLResponse),
            ("<soap:Envelope><unclosed>", .nonXMLResponse),
            (#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><x>1</x>"#, .nonXMLResponse),
            ("<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>", .htmlResponse),
            ("\n  <HTML><HEAD><TITLE>Maintenance</TITLE></HEAD></HTML>", .htmlResponse),
            (#"<html xmlns="http://www.w3.org/1999/xhtml"><body/></html>"#, .htmlResponse),
            (#"<?xml version="1.0"?><error>nope</error>"#, .notSOAPEnvelope),
            (#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"/>"#, .notSOAPEnvelope),
            (
                #"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body/></s:Envelope>"#,
                .unexpectedResponse
            ),
        ])
    func unreadableBodies(text: String, code: GatewayError.Code) {
        let error = Self.parseError(Data(text.utf8))
        #expect(error?.code == code)
        #expect(error.map { !$0.description.contains("Bad Gateway") } ?? false, "description must not echo the body")
    }

    @Test("a File response cut off mid-stream is not read as a success")
    func truncatedResponse() throws {
        let full = try ReferencePaths.sample("body-ei-returnfile-response.xml")
        let cut = full.prefix(upTo: full.count * 2 / 3)
        #expect(Self.parseError(Data(cut))?.code == .nonXMLResponse)
    }

    @Test("a non-integer status code is an error, not a success")
    func badStatusCode() {
        let text = Self.prefixedResponse.replacingOccurrences(of: "> 0 <", with: ">zero<")
        #expect(Self.parseError(Data(text.utf8))?.code == .unexpectedResponse)
    }
}
