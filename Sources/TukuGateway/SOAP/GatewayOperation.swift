/// A Gateway Services operation this client calls: its SOAP action and the element names that wrap its payload.
///
/// Values come from `ReturnsEIDevWsdl.v2.wsdl` and `EmploymentV2DevWsdl.wsdl`: the action is
/// `wsdl:binding/soap12:operation/@soapAction`; the body is `<Op>/<Op>RequestMsg/<Op>RequestWrapper/<payload>` with
/// the wrapper in the service namespace + `:types/<Op>Request`; the reply is `<Op>Response/<Op>Result/…`.
public struct GatewayOperation: Hashable, Sendable, CustomStringConvertible {
    private enum Base: Hashable, Sendable {
        case fileReturn, retrieveReturnStatus, retrieveReturn, createEmployment, updateEmployment, terminateEmployment
    }

    private let base: Base

    /// Returns service `File`: file an EI return.
    public static let fileReturn = GatewayOperation(base: .fileReturn)
    /// Returns service `RetrieveStatus`: status of EI returns for a payday.
    public static let retrieveReturnStatus = GatewayOperation(base: .retrieveReturnStatus)
    /// Returns service `RetrieveReturn`: the EI returns filed for a payday, every field as filed (EI build pack §3.3).
    public static let retrieveReturn = GatewayOperation(base: .retrieveReturn)
    /// Employment service v2 `Create`.
    public static let createEmployment = GatewayOperation(base: .createEmployment)
    /// Employment service v2 `Update`.
    public static let updateEmployment = GatewayOperation(base: .updateEmployment)
    /// Employment service v2 `Terminate`.
    public static let terminateEmployment = GatewayOperation(base: .terminateEmployment)

    /// The WSDL operation name, e.g. `File`.
    public var name: String {
        switch base {
        case .fileReturn: "File"
        case .retrieveReturnStatus: "RetrieveStatus"
        case .retrieveReturn: "RetrieveReturn"
        case .createEmployment: "Create"
        case .updateEmployment: "Update"
        case .terminateEmployment: "Terminate"
        }
    }

    /// The service namespace, which is also the operation elements' namespace.
    public var serviceNamespace: String {
        switch base {
        case .fileReturn, .retrieveReturnStatus, .retrieveReturn: IRDNamespace.returnsService
        case .createEmployment, .updateEmployment, .terminateEmployment: IRDNamespace.employmentService
        }
    }

    /// The `wsa:Action` value, e.g. `https://services.ird.govt.nz/GWS/Returns/Return/File`.
    public var action: String {
        switch base {
        case .fileReturn, .retrieveReturnStatus, .retrieveReturn: "https://services.ird.govt.nz/GWS/Returns/Return/\(name)"
        case .createEmployment, .updateEmployment, .terminateEmployment:
            "https://services.ird.govt.nz/GWS/Employment/v2/Employment/\(name)"
        }
    }

    /// The `wsa:Action` IRD puts on the reply, e.g. `…/Return/FileResponse`.
    public var responseAction: String { action + "Response" }

    /// The request message element inside the operation element, e.g. `ReturnFileRequestMsg`.
    public var requestMessageElement: String {
        switch base {
        case .fileReturn: "ReturnFileRequestMsg"
        case .retrieveReturnStatus: "ReturnStatusRequestMsg"
        case .retrieveReturn: "RetrieveReturnRequestMsg"
        case .createEmployment, .updateEmployment, .terminateEmployment: "\(name)RequestMsg"
        }
    }

    /// The wrapper element, e.g. `FileRequestWrapper`.
    public var requestWrapperElement: String { "\(name)RequestWrapper" }

    /// The wrapper element's namespace, e.g. `https://services.ird.govt.nz/GWS/Returns/:types/FileRequest`.
    public var requestWrapperNamespace: String { serviceNamespace + ":types/\(name)Request" }

    /// The payload element inside the wrapper and its namespace, e.g. `fileRequest` in ReturnEI.v2.
    public var payloadElement: (localName: String, namespace: String) {
        switch base {
        case .fileReturn: ("fileRequest", IRDNamespace.returnEI)
        case .retrieveReturnStatus, .retrieveReturn: ("retrieveEIRequest", IRDNamespace.returnEI)
        case .createEmployment: ("createRequest", IRDNamespace.employment)
        case .updateEmployment: ("updateRequest", IRDNamespace.employment)
        case .terminateEmployment: ("terminateRequest", IRDNamespace.employment)
        }
    }

    /// The operation name.
    public var description: String { name }
}
