/// What ``SOAPRequestReader`` made of a request body.
public enum SOAPReadResult: Sendable {
    /// The body is not well-formed XML: IRD answers with a bare parsing exception, not SOAP.
    case notXML
    /// The body is XML but not a SOAP 1.2 envelope with a body.
    case notSOAP12(reason: String)
    /// `wsa:Action` is missing or names no operation of the service at this path.
    case unknownAction(String?)
    /// A call to a known operation.
    case call(ParsedCall)
}
