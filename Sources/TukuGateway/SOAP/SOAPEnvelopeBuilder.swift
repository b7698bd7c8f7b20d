import FoundationXML
import TukuIRD

/// Builds the SOAP 1.2 envelopes for the payday-filing operations from validated job payloads.
///
/// Each envelope has a `wsa:Action` header and IRD's nested body wrappers; elements follow the XSDs' sequence
/// order, and all text goes through `XMLElement`, so libxml2 escapes it. A payload with any validation problem is
/// refused (``GatewayError/Code/invalidPayload``), so every envelope the builder produces carries a body that
/// validates against IRD's schemas. Credentials are not part of the envelope.
public struct SOAPEnvelopeBuilder: Sendable {
    /// The software identification sent in every request header (`cmn:softwareProviderData`).
    public struct Configuration: Sendable, Hashable {
        /// The company that developed the software, as agreed with IRD at onboarding (1–50 characters).
        public var softwareProvider: String
        /// The platform value IRD assigned at onboarding (1–50 characters).
        public var softwarePlatform: String
        /// The software release (1–50 characters).
        public var softwareRelease: String

        /// Creates a configuration.
        public init(softwareProvider: String, softwarePlatform: String, softwareRelease: String) {
            self.softwareProvider = softwareProvider
            self.softwarePlatform = softwarePlatform
            self.softwareRelease = softwareRelease
        }
    }

    /// The software identification.
    public var configuration: Configuration

    /// Creates a builder.
    public init(configuration: Configuration) {
        self.configuration = configuration
    }

    /// The envelope for any IRD job payload.
    public func envelope(for payload: IRDJobPayload) throws(GatewayError) -> SOAPEnvelope {
        switch payload {
        case .eiFile(let payload): try fileReturn(payload)
        case .eiStatus(let payload): try retrieveReturnStatus(payload)
        case .edCreate(let payload): try createEmployment(payload)
        case .edUpdate(let payload): try updateEmployment(payload)
        case .edTerminate(let payload): try terminateEmployment(payload)
        }
    }

    /// Problems with the configuration itself (lengths from `cmn:SoftwareInformationType`).
    public func configurationProblems() -> [ValidationProblem] {
        var problems: [ValidationProblem] = []
        for (key, value) in [
            ("softwareProvider", configuration.softwareProvider),
            ("softwarePlatform", configuration.softwarePlatform),
            ("softwareRelease", configuration.softwareRelease),
        ] {
            let count = value.unicodeScalars.count
            if count < 1 || count > 50
                || value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
            {
                problems.append(
                    ValidationProblem(
                        path: "configuration.\(key)", reason: "must be 1 to 50 characters without control characters"
                    ))
            }
        }
        return problems
    }

    // MARK: - Shared structure

    /// Throws when the payload (or the configuration) has problems.
    func check(_ problems: [ValidationProblem]) throws(GatewayError) {
        let all = configurationProblems() + problems
        guard all.isEmpty else {
            throw GatewayError(
                code: .invalidPayload, reason: "payload has \(all.count) validation problem(s)", problems: all
            )
        }
    }

    /// `soap:Envelope/{soap:Header/wsa:Action, soap:Body/<Op>/<Op>RequestMsg/<Wrapper>/payload}`.
    func envelope(_ operation: GatewayOperation, payload: XMLElement) -> SOAPEnvelope {
        let envelope = XMLElement(prefix: "soap", "Envelope", declaring: IRDNamespace.soapEnvelope)
        let header = XMLElement(name: "soap:Header")
        let action = XMLElement(prefix: "wsa", "Action", declaring: IRDNamespace.addressing)
        action.stringValue = operation.action
        header.addChild(action)
        envelope.addChild(header)

        let body = XMLElement(name: "soap:Body")
        let operationElement = XMLElement(prefix: "svc", operation.name, declaring: operation.serviceNamespace)
        let message = XMLElement(name: "svc:\(operation.requestMessageElement)")
        let wrapper = XMLElement(
            prefix: "wrp", operation.requestWrapperElement, declaring: operation.requestWrapperNamespace
        )
        wrapper.addChild(payload)
        message.addChild(wrapper)
        operationElement.addChild(message)
        body.addChild(operationElement)
        envelope.addChild(body)

        let document = XMLDocument(rootElement: envelope)
        document.version = "1.0"
        document.characterEncoding = "UTF-8"
        return SOAPEnvelope(operation: operation, body: document.xmlData(options: []))
    }

    /// `cmn:softwareProviderData`, `cmn:identifier`, `cmn:accountType` (`cmn:HeaderType`), appended to `parent`.
    func appendHeaderFields(
        to parent: XMLElement, employer: IRDNumber, accountType: EmployerAccountType?
    ) {
        let software = XMLElement(name: "cmn:softwareProviderData")
        software.append("cmn:softwareProvider", configuration.softwareProvider)
        software.append("cmn:softwarePlatform", configuration.softwarePlatform)
        software.append("cmn:softwareRelease", configuration.softwareRelease)
        parent.addChild(software)
        let identifier = XMLElement(name: "cmn:identifier", stringValue: employer.wireForm)
        identifier.addAttribute(XMLNode.attribute(withName: "IdentifierValueType", stringValue: "ACCIRD") as! XMLNode)
        parent.addChild(identifier)
        parent.append("cmn:accountType", (accountType ?? .emp).rawValue)
    }
}

/// A validated field's value. Only called after `validate()` returned no problems, so a required field is valid.
func required<Value>(_ field: Field<Value>, _ name: StaticString) -> Value {
    guard let value = field.value else {
        preconditionFailure("validated payload has no valid \(name)")
    }
    return value
}

extension XMLElement {
    /// An element `prefix:name` that declares `prefix` for `namespace`.
    convenience init(prefix: String, _ localName: String, declaring namespace: String) {
        self.init(name: "\(prefix):\(localName)")
        addNamespace(XMLNode.namespace(withName: prefix, stringValue: namespace) as! XMLNode)
    }

    /// Declares `prefix` for `namespace` on this element.
    func declare(_ prefix: String, _ namespace: String) {
        addNamespace(XMLNode.namespace(withName: prefix, stringValue: namespace) as! XMLNode)
    }

    /// Appends `<name>text</name>` when `text` is not `nil`; libxml2 escapes the text.
    func append(_ name: String, _ text: String?) {
        guard let text else { return }
        addChild(XMLElement(name: name, stringValue: text))
    }

    /// Appends `<name>true|false</name>` when `flag` is not `nil`.
    func append(_ name: String, _ flag: Bool?) {
        append(name, flag.map { $0 ? "true" : "false" })
    }

    /// Appends `<name>` with the amount's `xsd:decimal` text when the field holds a valid amount.
    func append(_ name: String, _ amount: Field<Money>) {
        append(name, amount.value?.xsdDecimal)
    }

    /// Appends `<name>yyyy-MM-dd</name>` when the field holds a valid date.
    func append(_ name: String, _ date: Field<CalendarDate>) {
        append(name, date.value?.description)
    }

    /// Appends `<name>CODE</name>` when the field holds a valid code.
    func append<Code: IRDCode>(_ name: String, _ code: Field<Code>) {
        append(name, code.value?.rawValue)
    }

    /// Appends and returns an empty child element.
    @discardableResult
    func appendElement(_ name: String) -> XMLElement {
        let child = XMLElement(name: name)
        addChild(child)
        return child
    }
}
