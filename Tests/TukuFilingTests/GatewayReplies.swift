/// IRD response envelopes in the shapes of IRD's own samples (shared/reference/ird/samples), for the scripted
/// test gateway to answer with.
enum GatewayReplies {
    static func file(
        code: Int = 0, message: String = "", gatewayID: String = "0000 002G N2?N N", submissionKey: Int64 = 987_654_321
    ) -> String {
        """
        <s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Header>\
        <Action xmlns="http://www.w3.org/2005/08/addressing" s:mustUnderstand="1">https://services.ird.govt.nz/GWS/Returns/Return/FileResponse</Action>\
        </s:Header><s:Body><FileResponse xmlns="https://services.ird.govt.nz/GWS/Returns/"><FileResult>\
        <d4p1:FileResponseWrapper xmlns:d4p1="https://services.ird.govt.nz/GWS/Returns/:types/FileResponse">\
        <fileResponse xmlns="urn:www.ird.govt.nz/GWS:types/ReturnCommon.v2">\
        <statusMessage xmlns="urn:www.ird.govt.nz/GWS:types/Common.v2"><statusCode>\(code)</statusCode><errorMessage>\(message)</errorMessage></statusMessage>\
        \(code == 0 ? "<responseBody><gatewayId>\(gatewayID)</gatewayId><submissionKey>\(submissionKey)</submissionKey></responseBody>" : "")\
        </fileResponse></d4p1:FileResponseWrapper></FileResult></FileResponse></s:Body></s:Envelope>
        """
    }

    /// RetrieveStatus for a payday IRD holds a return for (the shape of IRD's sample).
    static func status(submissionKey: Int64) -> String {
        retrieveStatus(
            code: 0, message: "",
            body:
                "<responseBody><returnStatus><status code=\"LPRCG\">Late-processing</status><submissionKey>\(submissionKey)</submissionKey><minorFormType>EI2</minorFormType></returnStatus></responseBody>"
        )
    }

    /// RetrieveStatus for a payday with no return: IRD's status 103, "No return found".
    static let noReturnFound = retrieveStatus(code: 103, message: "No return found", body: "")

    /// RetrieveStatus for an expected return not yet filed: status `EXP` without a submission key.
    static let expected = retrieveStatus(
        code: 0, message: "",
        body: "<responseBody><returnStatus><status code=\"EXP\">Expected</status><minorFormType>EI2</minorFormType></returnStatus></responseBody>")

    private static func retrieveStatus(code: Int, message: String, body: String) -> String {
        """
            <s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Header>\
            <Action xmlns="http://www.w3.org/2005/08/addressing" s:mustUnderstand="1">https://services.ird.govt.nz/GWS/Returns/Return/RetrieveStatusResponse</Action>\
            </s:Header><s:Body><RetrieveStatusResponse xmlns="https://services.ird.govt.nz/GWS/Returns/"><RetrieveStatusResult>\
            <d4p1:RetrieveStatusResponseWrapper xmlns:d4p1="https://services.ird.govt.nz/GWS/Returns/:types/RetrieveStatusResponse">\
            <retrieveStatusResponse xmlns="urn:www.ird.govt.nz/GWS:types/ReturnCommon.v2">\
            <statusMessage xmlns="urn:www.ird.govt.nz/GWS:types/Common.v2"><statusCode>\(code)</statusCode><errorMessage>\(message)</errorMessage></statusMessage>\
            \(body)</retrieveStatusResponse></d4p1:RetrieveStatusResponseWrapper></RetrieveStatusResult></RetrieveStatusResponse></s:Body></s:Envelope>
            """
    }

    static let unauthorisedFault = """
        <s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><s:Fault>\
        <s:Code><s:Value>s:Receiver</s:Value></s:Code><s:Reason><s:Text xml:lang="en">UnAuthorised</s:Text></s:Reason>\
        </s:Fault></s:Body></s:Envelope>
        """
}
