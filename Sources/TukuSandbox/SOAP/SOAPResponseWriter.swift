import TukuGateway

/// Writes the sandbox's answers in exactly the shapes of IRD's sample responses (`body-ei-returnfile-response.xml`,
/// `body-ei-returnstatus-response.xml`, `body-employment-*-response.xml`) and, for RetrieveReturn (of which IRD
/// publishes no sample file), the shape of `rc:RetrieveReturnResponseType` and the EI build pack §3.3; and its SOAP
/// faults.
public enum SOAPResponseWriter {
    /// The SOAP action IRD's faults carry.
    static let faultAction = "http://www.w3.org/2005/08/addressing/soap/fault"

    /// An IRD response document for `operation`: status messages, then (on success) the operation's response body.
    public static func result(
        _ operation: GatewayOperation, messages: [StatusMessage], gatewayId: String? = nil,
        submissionKey: Int64? = nil, returnStatuses: [ReturnStatus] = [], returns: [FilingRegistry.StoredReturn] = []
    ) -> String {
        let succeeded = messages.allSatisfy { $0.statusCode == 0 }
        var document = ""
        let (element, namespace) = responseDocument(for: operation)
        document += "<\(element) xmlns=\"\(namespace)\">"
        for message in messages {
            document += "<statusMessage xmlns=\"\(IRDNamespace.common)\"><statusCode>\(message.statusCode)</statusCode>"
            document += message.errorMessage.isEmpty ? "<errorMessage/>" : "<errorMessage>\(escape(message.errorMessage))</errorMessage>"
            if let description = message.errorDescription {
                document += "<errorDescription>\(escape(description))</errorDescription>"
            }
            document += "</statusMessage>"
        }
        if succeeded {
            if operation == .fileReturn {
                document += "<responseBody><gatewayId>\(escape(gatewayId ?? ""))</gatewayId>"
                if let submissionKey { document += "<submissionKey>\(submissionKey)</submissionKey>" }
                document += "</responseBody>"
            } else if operation == .retrieveReturnStatus {
                document += "<responseBody>"
                for status in returnStatuses {
                    document += "<returnStatus><status code=\"\(escape(status.code ?? ""))\">\(escape(status.text))</status>"
                    if let date = status.receivedDate { document += "<receivedDate>\(date)</receivedDate>" }
                    if let key = status.submissionKey { document += "<submissionKey>\(key)</submissionKey>" }
                    if let major = status.majorFormType { document += "<majorFormType>\(escape(major))</majorFormType>" }
                    if let minor = status.minorFormType { document += "<minorFormType>\(escape(minor))</minorFormType>" }
                    document += "</returnStatus>"
                }
                document += "</responseBody>"
            } else if operation == .retrieveReturn {
                // rc:RetrieveReturnResponseBodyType is abstract: each body names ReturnEI's extension (standardFields in
                // ReturnCommon, then formFields in ReturnEI, whose sequence opens with the return's submissionKey).
                for stored in returns {
                    document += "<responseBody xmlns:r=\"\(IRDNamespace.returnEI)\" xmlns:xsi=\"\(IRDNamespace.schemaInstance)\""
                        + " xsi:type=\"r:RetrieveReturnResponseBodyType\">"
                    if let isNil = stored.isNilReturn {
                        document += "<standardFields><isNilReturn>\(isNil)</isNilReturn></standardFields>"
                    }
                    document += "<r:formFields><r:submissionKey>\(stored.submissionKey)</r:submissionKey>"
                        + stored.formFieldsXML + "</r:formFields></responseBody>"
                }
            }
        }
        document += "</\(element)>"
        let name = operation.name
        let service = operation.serviceNamespace
        return "<s:Envelope xmlns:s=\"\(IRDNamespace.soapEnvelope)\"><s:Header>"
            + "<Action xmlns=\"\(IRDNamespace.addressing)\" s:mustUnderstand=\"1\">\(operation.responseAction)</Action>"
            + "</s:Header><s:Body><\(name)Response xmlns=\"\(service)\"><\(name)Result>"
            + "<d4p1:\(name)ResponseWrapper xmlns:d4p1=\"\(service):types/\(name)Response\">"
            + document
            + "</d4p1:\(name)ResponseWrapper></\(name)Result></\(name)Response></s:Body></s:Envelope>"
    }

    /// A SOAP 1.2 fault: `code` is `Sender` or `Receiver`; `subcode` an optional WS-Addressing subcode local name
    /// (e.g. `ActionNotSupported`).
    public static func fault(code: String, subcode: String? = nil, reason: String) -> String {
        var codeXML = "<s:Value>s:\(code)</s:Value>"
        if let subcode { codeXML += "<s:Subcode><s:Value>a:\(escape(subcode))</s:Value></s:Subcode>" }
        return "<s:Envelope xmlns:s=\"\(IRDNamespace.soapEnvelope)\" xmlns:a=\"\(IRDNamespace.addressing)\"><s:Header>"
            + "<a:Action s:mustUnderstand=\"1\">\(faultAction)</a:Action></s:Header><s:Body><s:Fault>"
            + "<s:Code>\(codeXML)</s:Code><s:Reason><s:Text xml:lang=\"en-NZ\">\(escape(reason))</s:Text></s:Reason>"
            + "</s:Fault></s:Body></s:Envelope>"
    }

    /// IRD's technical fault "UnAuthorised" (with HTTP 429: maximum concurrency exceeded).
    public static var unauthorisedFault: String { fault(code: "Receiver", reason: "UnAuthorised") }

    /// A small HTML error page, as a load balancer in front of the gateway sends.
    public static func htmlPage(status: Int, title: String) -> String {
        "<!DOCTYPE html><html><head><title>\(status) \(escape(title))</title></head><body><h1>\(status) \(escape(title))</h1>"
            + "<p>The server encountered a temporary error and could not complete your request.</p></body></html>"
    }

    /// The response document element and namespace of an operation.
    static func responseDocument(for operation: GatewayOperation) -> (String, String) {
        switch operation {
        case .fileReturn: ("fileResponse", IRDNamespace.returnCommon)
        case .retrieveReturnStatus: ("retrieveStatusResponse", IRDNamespace.returnCommon)
        case .retrieveReturn: ("retrieveReturnResponse", IRDNamespace.returnCommon)
        default: ("employmentResponse", IRDNamespace.employment)
        }
    }

    /// Escapes XML text and attribute values.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: out.append(character)
            }
        }
        return out
    }
}
