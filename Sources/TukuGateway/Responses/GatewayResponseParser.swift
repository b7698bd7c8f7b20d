import Foundation
import FoundationXML
import TukuIRD

/// Reads IRD gateway replies into ``GatewayResponse`` values.
///
/// Elements are matched on namespace URI and local name as the schemas define them, never on prefixes. Anything
/// that is not a SOAP 1.2 envelope holding a fault or an IRD response document becomes a ``GatewayError``:
/// an empty body, a non-XML body (IRD's "parsing exception" replies), an HTML page, or an unexpected document.
public enum GatewayResponseParser {
    /// IRD response documents, by namespace and local name (Returns service v2 and v1, Employment service v2),
    /// each with the namespace its `statusMessage` elements are in.
    static let responseElements: [QualifiedName: String] = {
        var elements: [QualifiedName: String] = [:]
        let returns = [
            "fileResponse", "retrieveStatusResponse", "retrieveReturnResponse", "prepopResponse",
            "retrieveFilingObligationsResponse",
        ]
        for name in returns {
            elements[QualifiedName(IRDNamespace.returnCommon, name)] = IRDNamespace.common
            // IRD still answers other returns in the first generation's namespaces; the status codes mean the same.
            elements[QualifiedName(IRDNamespace.returnCommonV1, name)] = IRDNamespace.commonV1
        }
        for name in ["employmentResponse", "retrieveListResponse", "eventResponse"] {
            elements[QualifiedName(IRDNamespace.employment, name)] = IRDNamespace.common
        }
        return elements
    }()

    /// Parses a reply body.
    public static func parse(_ body: Data) throws(GatewayError) -> GatewayResponse {
        let excerpt = Self.excerpt(of: body)
        let leading = String(decoding: body.prefix(512), as: UTF8.self)
            .drop { $0.isWhitespace || $0 == "\u{FEFF}" }
        if leading.isEmpty {
            throw GatewayError(code: .emptyResponse, reason: "reply body is empty")
        }
        let lowered = leading.prefix(64).lowercased()
        if lowered.hasPrefix("<!doctype html") || lowered.hasPrefix("<html") {
            throw GatewayError(code: .htmlResponse, reason: "reply is an HTML page, not SOAP", excerpt: excerpt)
        }
        // FoundationXML's XMLDocument parses in libxml2's recovery mode and accepts truncated or broken documents,
        // so well-formedness is checked first with the strict (SAX) XMLParser.
        let checker = XMLParser(data: body)
        checker.shouldResolveExternalEntities = false
        guard checker.parse(), checker.parserError == nil else {
            throw GatewayError(code: .nonXMLResponse, reason: "reply body is not well-formed XML", excerpt: excerpt)
        }
        let document: XMLDocument
        do {
            document = try XMLDocument(data: body, options: [.nodeLoadExternalEntitiesNever])
        } catch {
            throw GatewayError(code: .nonXMLResponse, reason: "reply body is not well-formed XML", excerpt: excerpt)
        }
        // The elements below point into the document's libxml2 tree, which the document frees when it is released:
        // keep it alive until parsing is done (the optimiser may otherwise release it after its last direct use).
        defer { withExtendedLifetime(document) {} }
        guard let root = document.rootElement() else {
            throw GatewayError(code: .nonXMLResponse, reason: "reply body has no root element", excerpt: excerpt)
        }
        if root.localName?.lowercased() == "html" {
            throw GatewayError(code: .htmlResponse, reason: "reply is an XHTML page, not SOAP", excerpt: excerpt)
        }
        guard root.is(IRDNamespace.soapEnvelope, "Envelope") else {
            throw GatewayError(
                code: .notSOAPEnvelope,
                reason: "root element is not a SOAP 1.2 Envelope (found {\(root.uri ?? "")}\(root.localName ?? ""))",
                excerpt: excerpt
            )
        }
        let action = root.child(IRDNamespace.soapEnvelope, "Header")?
            .child(IRDNamespace.addressing, "Action")?.trimmedText
        guard let soapBody = root.child(IRDNamespace.soapEnvelope, "Body") else {
            throw GatewayError(code: .notSOAPEnvelope, reason: "SOAP envelope has no Body", excerpt: excerpt)
        }
        if let fault = soapBody.child(IRDNamespace.soapEnvelope, "Fault") {
            return GatewayResponse(action: action, content: .fault(try parseFault(fault, excerpt: excerpt)))
        }
        guard let response = soapBody.firstDescendant(where: { responseElements[$0.qualifiedName] != nil }),
            let common = responseElements[response.qualifiedName]
        else {
            throw GatewayError(
                code: .unexpectedResponse, reason: "SOAP body holds neither a fault nor an IRD response",
                excerpt: excerpt
            )
        }
        return GatewayResponse(action: action, content: .result(try parseResult(response, common: common, excerpt: excerpt)))
    }

    /// Reads a response document whose `statusMessage` elements are in the `common` namespace (Common.v2, or
    /// Common.v1 beside ReturnCommon.v1).
    private static func parseResult(_ response: XMLElement, common: String, excerpt: String) throws(GatewayError) -> GatewayResult {
        let responseNamespace = response.uri ?? ""
        var messages: [StatusMessage] = []
        for element in response.children(common, "statusMessage") {
            guard let codeText = element.child(common, "statusCode")?.trimmedText,
                let code = Int(codeText)
            else {
                throw GatewayError(
                    code: .unexpectedResponse, reason: "statusMessage has no integer statusCode", excerpt: excerpt
                )
            }
            messages.append(
                StatusMessage(
                    statusCode: code,
                    errorMessage: element.child(common, "errorMessage")?.trimmedText ?? "",
                    errorDescription: element.child(common, "errorDescription")?.trimmedText
                ))
        }
        guard !messages.isEmpty else {
            throw GatewayError(code: .unexpectedResponse, reason: "IRD response has no statusMessage", excerpt: excerpt)
        }
        var result = GatewayResult(responseElement: response.localName ?? "", statusMessages: messages)
        // responseBody is declared in the response document's own schema (ReturnCommon or Employment).
        let bodies = response.children(responseNamespace, "responseBody")
        for body in bodies {
            if let gatewayId = body.child(responseNamespace, "gatewayId")?.trimmedText {
                result.gatewayId = gatewayId
            }
            if result.responseElement == "retrieveReturnResponse" {
                result.retrievedReturns.append(parseRetrievedReturn(body, namespace: responseNamespace))
                continue
            }
            if let key = body.child(responseNamespace, "submissionKey")?.trimmedText {
                result.submissionKey = Int64(key)
            }
            for status in body.children(responseNamespace, "returnStatus") {
                result.returnStatuses.append(parseReturnStatus(status, namespace: responseNamespace))
            }
            // ReturnCommon.v1's RetrieveStatus body is a single status (and the return's submission key) with no
            // `returnStatus` wrapper: read it as one entry.
            if responseNamespace == IRDNamespace.returnCommonV1, body.child(responseNamespace, "status") != nil {
                result.returnStatuses.append(parseReturnStatus(body, namespace: responseNamespace))
            }
        }
        return result
    }

    /// A RetrieveReturn `responseBody`: `standardFields` in the response's namespace (ReturnCommon v2 or v1), then
    /// `formFields` in the EI namespace of the same generation (ReturnEI v2 or v1; the field names are shared).
    private static func parseRetrievedReturn(_ body: XMLElement, namespace: String) -> RetrievedReturn {
        let isNil = body.child(namespace, "standardFields")?.child(namespace, "isNilReturn")?.trimmedText
        let ei = [IRDNamespace.returnEI, IRDNamespace.returnEIV1].first { body.child($0, "formFields") != nil }
        guard let ei, let fields = body.child(ei, "formFields") else {
            return RetrievedReturn(isNilReturn: isNil.flatMap(Self.boolean))
        }
        let lines = fields.child(ei, "employeeFields")?.children(ei, "employee") ?? []
        return RetrievedReturn(
            isNilReturn: isNil.flatMap(Self.boolean),
            submissionKey: fields.child(ei, "submissionKey")?.trimmedText.flatMap { Int64($0) },
            payDayDate: fields.child(ei, "payDayDate")?.trimmedText.flatMap { try? CalendarDate($0) },
            lineReferences: lines.map { $0.child(ei, "referenceId")?.trimmedText ?? "" },
            totalGrossEarnings: fields.child(ei, "totalGrossEarnings")?.trimmedText,
            totalPAYE: fields.child(ei, "totalPAYESchedularTaxDeductions")?.trimmedText)
    }

    /// An `xsd:boolean`'s value (`true`, `false`, `1`, `0`).
    private static func boolean(_ text: String) -> Bool? {
        switch text {
        case "true", "1": true
        case "false", "0": false
        default: nil
        }
    }

    private static func parseReturnStatus(_ element: XMLElement, namespace: String) -> ReturnStatus {
        let status = element.child(namespace, "status")
        return ReturnStatus(
            code: status?.unqualifiedAttribute("code"),
            text: status?.trimmedText ?? "",
            receivedDate: element.child(namespace, "receivedDate")?.trimmedText
                .flatMap { try? CalendarDate($0) },
            submissionKey: element.child(namespace, "submissionKey")?.trimmedText.flatMap { Int64($0) },
            majorFormType: element.child(namespace, "majorFormType")?.trimmedText,
            minorFormType: element.child(namespace, "minorFormType")?.trimmedText,
            additionalInfo: element.child(namespace, "additionalInfo")?.trimmedText
        )
    }

    private static func parseFault(_ fault: XMLElement, excerpt: String) throws(GatewayError) -> SOAPFault {
        let soap = IRDNamespace.soapEnvelope
        guard let codeElement = fault.child(soap, "Code"), let code = faultCode(codeElement) else {
            throw GatewayError(code: .unexpectedResponse, reason: "SOAP fault has no Code/Value", excerpt: excerpt)
        }
        var subcodes: [SOAPFault.Code] = []
        var current = codeElement.child(soap, "Subcode")
        while let subcode = current, let value = faultCode(subcode) {
            subcodes.append(value)
            current = subcode.child(soap, "Subcode")
        }
        let texts = fault.child(soap, "Reason")?.children(soap, "Text") ?? []
        let english = texts.first { $0.languageAttribute?.lowercased().hasPrefix("en") == true }
        let reason = (english ?? texts.first)?.trimmedText ?? ""
        let detail = fault.child(soap, "Detail")?.trimmedText
        return SOAPFault(code: code, subcodes: subcodes, reason: reason, detail: detail?.isEmpty == true ? nil : detail)
    }

    /// A `Code`/`Subcode` element's `Value`, a QName resolved against the in-scope namespace declarations.
    private static func faultCode(_ element: XMLElement) -> SOAPFault.Code? {
        guard let value = element.child(IRDNamespace.soapEnvelope, "Value")?.trimmedText, !value.isEmpty else {
            return nil
        }
        let parts = value.split(separator: ":", maxSplits: 1)
        let localName = parts.count == 2 ? String(parts[1]) : value
        let prefix = parts.count == 2 ? String(parts[0]) : ""
        let namespace = element.namespaceURI(forPrefix: prefix)
        return SOAPFault.Code(namespace: namespace, localName: localName)
    }

    /// At most 200 characters from the start of the body, for diagnostics.
    private static func excerpt(of body: Data) -> String {
        String(String(decoding: body.prefix(800), as: UTF8.self).prefix(200))
    }
}

/// A namespace URI and local name.
struct QualifiedName: Hashable {
    var namespace: String
    var localName: String

    init(_ namespace: String, _ localName: String) {
        self.namespace = namespace
        self.localName = localName
    }
}

extension XMLElement {
    var qualifiedName: QualifiedName { QualifiedName(uri ?? "", localName ?? name ?? "") }

    func `is`(_ namespace: String, _ localName: String) -> Bool {
        uri == namespace && self.localName == localName
    }

    /// Child elements with this namespace URI and local name.
    func children(_ namespace: String, _ localName: String) -> [XMLElement] {
        (children ?? []).compactMap { $0 as? XMLElement }.filter { $0.is(namespace, localName) }
    }

    /// The first child element with this namespace URI and local name.
    func child(_ namespace: String, _ localName: String) -> XMLElement? {
        children(namespace, localName).first
    }

    /// The first descendant element (depth-first, document order) matching `predicate`.
    func firstDescendant(where predicate: (XMLElement) -> Bool) -> XMLElement? {
        for case let element as XMLElement in children ?? [] {
            if predicate(element) { return element }
            if let found = element.firstDescendant(where: predicate) { return found }
        }
        return nil
    }

    /// The value of an attribute without a namespace (`attribute(forName:)` misses these on namespaced elements
    /// in swift-corelibs-foundation, so the attributes are searched directly).
    func unqualifiedAttribute(_ localName: String) -> String? {
        // Matched on the qualified name: an unprefixed attribute has no namespace. (Reading `localName` or `uri`
        // of attribute nodes crashes intermittently in swift-corelibs-foundation's _CFXMLNodeCopyURI.)
        for attribute in attributes ?? [] where attribute.name == localName {
            return attribute.stringValue
        }
        return nil
    }

    /// The `xml:lang` attribute's value.
    var languageAttribute: String? {
        for attribute in attributes ?? [] where attribute.name == "xml:lang" {
            return attribute.stringValue
        }
        return nil
    }

    /// The text content with surrounding whitespace removed.
    var trimmedText: String? {
        stringValue?.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The namespace URI bound to `prefix` ("" for the default namespace) on this element or an ancestor.
    func namespaceURI(forPrefix prefix: String) -> String? {
        var node: XMLElement? = self
        while let element = node {
            for namespace in element.namespaces ?? [] where (namespace.name ?? "") == prefix {
                return namespace.stringValue
            }
            node = element.parent as? XMLElement
        }
        return nil
    }
}
