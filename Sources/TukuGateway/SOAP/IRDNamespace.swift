/// The XML namespace URIs of IRD's Gateway Services messages, exactly as the WSDLs and XSDs define them.
public enum IRDNamespace {
    /// SOAP 1.2 envelope.
    public static let soapEnvelope = "http://www.w3.org/2003/05/soap-envelope"
    /// WS-Addressing 1.0 (the `Action` header).
    public static let addressing = "http://www.w3.org/2005/08/addressing"
    /// XML Schema instance (`xsi:type` on `formFields`).
    public static let schemaInstance = "http://www.w3.org/2001/XMLSchema-instance"
    /// `Common.v2.xsd`: headers, `statusMessage`, addresses, phones, names.
    public static let common = "urn:www.ird.govt.nz/GWS:types/Common.v2"
    /// `Common.v1.xsd`: the first generation of the common types. IRD still answers in it for returns that have
    /// not moved to v2 (GST, AIM): the same `statusMessage`, in this namespace.
    public static let commonV1 = "urn:www.ird.govt.nz/GWS:types/Common.v1"
    /// `ReturnCommon.v1.xsd`: the first generation of the return documents (`fileResponse`,
    /// `retrieveStatusResponse`, …), whose RetrieveStatus body holds one `status` rather than `returnStatus` entries.
    public static let returnCommonV1 = "urn:www.ird.govt.nz/GWS:types/ReturnCommon.v1"
    /// `ReturnCommon.v2.xsd`: file header/body, `fileResponse`, `retrieveStatusResponse`.
    public static let returnCommon = "urn:www.ird.govt.nz/GWS:types/ReturnCommon.v2"
    /// `ReturnEI.v2.xsd`: `fileRequest`, `retrieveEIRequest`, EI form fields.
    public static let returnEI = "urn:www.ird.govt.nz/GWS:types/ReturnEI.v2"
    /// `ReturnEI.v1.xsd`: EI v1's form fields (majorFormType `EI`), in which IRD answers RetrieveReturn for a return
    /// filed as EI v1.
    public static let returnEIV1 = "urn:www.ird.govt.nz/GWS:types/ReturnEI.v1"
    /// `Employment.v2.xsd`: `createRequest`, `updateRequest`, `terminateRequest`, `employmentResponse`.
    public static let employment = "urn:www.ird.govt.nz/GWS:types/Employment.v2"
    /// The Returns service (operation elements `File`, `RetrieveStatus`, …).
    public static let returnsService = "https://services.ird.govt.nz/GWS/Returns/"
    /// The Employment v2 service (operation elements `Create`, `Update`, `Terminate`, …).
    public static let employmentService = "https://services.ird.govt.nz/GWS/Employment/v2/"
}
