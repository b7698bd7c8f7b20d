import Crypto
import Foundation
import FoundationXML
import TukuGateway
import TukuIRD

/// Reads a SOAP 1.2 request the way IRD's gateway checks it: well-formed XML, the SOAP 1.2 envelope, the
/// `wsa:Action` against the service's operations, the body's wrapper elements, the payload element against IRD's
/// XSDs (status 21 with the validator's problems in `errorMessage`), then the checks of the payload that need no
/// stored state (IRD numbers, dates, line items).
///
/// Answers carry IRD's standard messages (EI build pack §5, Employment build pack §5) and, like IRD's samples, no
/// `errorDescription`.
///
/// Elements are matched by namespace URI and local name, never by prefix; attributes by name.
public enum SOAPRequestReader {
    /// EI amend reasons (`rc:AmendReasonType`).
    static let amendReasons: Set<String> = ["KEY", "MATH", "OTHER", "TRNSPO"]
    /// Identifier types IRD accepts in `cmn:identifier/@IdentifierValueType`.
    static let identifierTypes: Set<String> = ["IRD", "ACCIRD", "ACC"]
    /// Account types the payday-filing services accept.
    static let accountTypes: Set<String> = ["EMP", "PSO"]

    /// Reads `body` sent to a service offering `operations`.
    public static func read(_ body: Data, operations: [GatewayOperation], schemas: IRDSchemaValidator) -> SOAPReadResult {
        let checker = XMLParser(data: body)
        checker.shouldResolveExternalEntities = false
        guard !body.isEmpty, checker.parse(), checker.parserError == nil,
            let document = try? XMLDocument(data: body, options: [.nodeLoadExternalEntitiesNever])
        else {
            return .notXML
        }
        // Elements point into the document's libxml2 tree: keep the document alive while reading them.
        return withExtendedLifetime(document) { () -> SOAPReadResult in
            guard let root = document.rootElement(), root.matches(IRDNamespace.soapEnvelope, "Envelope") else {
                return .notSOAP12(reason: "the root element is not a SOAP 1.2 Envelope")
            }
            guard let soapBody = root.element(IRDNamespace.soapEnvelope, "Body") else {
                return .notSOAP12(reason: "the SOAP envelope has no Body")
            }
            let action = root.element(IRDNamespace.soapEnvelope, "Header")?
                .element(IRDNamespace.addressing, "Action")?.stringValue?
                .trimmingCharacters(in: .whitespacesAndNewlines)
            guard let action, let operation = operations.first(where: { $0.action == action }) else {
                return .unknownAction(action)
            }
            return .call(
                ParsedCall(operation: operation, content: content(of: soapBody, operation: operation, body: body, schemas: schemas)))
        }
    }

    // MARK: Body structure

    private static func content(
        of soapBody: XMLElement, operation: GatewayOperation, body: Data, schemas: IRDSchemaValidator
    ) -> ParsedCall.Content {
        let service = operation.serviceNamespace
        let payload = operation.payloadElement
        guard let operationElement = soapBody.element(service, operation.name),
            let message = operationElement.element(service, operation.requestMessageElement),
            let wrapper = message.element(operation.requestWrapperNamespace, operation.requestWrapperElement)
        else {
            return .refused([unrecognised])
        }
        let path = [
            QualifiedName(IRDNamespace.soapEnvelope, "Envelope"), QualifiedName(IRDNamespace.soapEnvelope, "Body"),
            QualifiedName(service, operation.name), QualifiedName(service, operation.requestMessageElement),
            QualifiedName(operation.requestWrapperNamespace, operation.requestWrapperElement),
        ]
        // IRD validates late, against its published XSDs; a wrong namespace fails validation (EI build pack §2.3).
        switch schemas.validate(body, childOf: path) {
        case .notXML, .notFound:
            return .refused([unrecognised])
        case .invalid(let problems):
            return .refused([failedValidation(problems)])
        case .valid(let name, let line):
            let expected = QualifiedName(payload.namespace, payload.localName)
            guard name == expected, let request = wrapper.element(payload.namespace, payload.localName) else {
                return .refused([
                    failedValidation([
                        SchemaProblem(
                            line: line, column: 1,
                            message: "Element '\(name)': This element is not expected. Expected is ( \(expected) ).")
                    ])
                ])
            }
            switch operation {
            case .fileReturn: return file(request)
            case .retrieveReturnStatus: return status(request)
            case .retrieveReturn:
                // The same retrieveEIRequest as RetrieveStatus (EI build pack §3.3).
                let content = status(request)
                if case .status(let query) = content { return .retrieveReturn(query) }
                return content
            default: return employment(request, operation: operation)
            }
        }
    }

    /// Code 20: no schema can be determined for the body.
    static let unrecognised = StatusMessage(statusCode: 20, errorMessage: "Unrecognised XML request")

    /// Code 21 with the validator's problems, worded as IRD's schema-error sample words them.
    static func failedValidation(_ problems: [SchemaProblem]) -> StatusMessage {
        StatusMessage(
            statusCode: 21,
            errorMessage: "XML Request Failed Validation: [" + problems.map(\.description).joined(separator: ", ") + "]")
    }

    // MARK: Shared header

    private struct Header {
        var employer: String
    }

    /// Checks `cmn:identifier` and `cmn:accountType` under `parent`; problems are appended.
    private static func header(in parent: XMLElement, problems: inout [StatusMessage]) -> Header? {
        let common = IRDNamespace.common
        guard let identifier = parent.element(common, "identifier"),
            let value = identifier.stringValue?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty
        else {
            problems.append(invalidData)
            return nil
        }
        let type = identifier.plainAttribute("IdentifierValueType") ?? ""
        guard identifierTypes.contains(type) else {
            problems.append(
                StatusMessage(
                    statusCode: 4, errorMessage: "Unauthorised delegation"))
            return nil
        }
        // ACC identifiers carry the IRD number followed by the account suffix, e.g. 131065914EMP002.
        let digits = type == "ACC" ? String(value.prefix(9)) : value
        // EI build pack §5.1: "The submitted cmn:identifier has an invalid value" is code 4.
        guard isValidIRDNumber(digits, allowUnknown: false) else {
            problems.append(StatusMessage(statusCode: 4, errorMessage: "Unauthorised delegation"))
            return nil
        }
        guard let accountType = parent.text(common, "accountType"), accountTypes.contains(accountType) else {
            problems.append(
                StatusMessage(
                    statusCode: 7, errorMessage: "Account type not supported"))
            return nil
        }
        return Header(employer: digits)
    }

    // MARK: File

    private static func file(_ request: XMLElement) -> ParsedCall.Content {
        let rc = IRDNamespace.returnCommon
        let ei = IRDNamespace.returnEI
        var problems: [StatusMessage] = []
        guard let fileHeader = request.element(rc, "fileHeader"), let fileBody = request.element(rc, "fileBody"),
            let formFields = fileBody.element(rc, "formFields")
        else {
            return .refused([invalidData])
        }
        let header = header(in: fileHeader, problems: &problems)
        let periodEnd = date(fileHeader.text(rc, "periodEndDate"), "rc:periodEndDate", problems: &problems)
        if fileHeader.text(rc, "majorFormType") != "EI2" {
            problems.append(wrongMajorFormType)
        }
        let standard = fileBody.element(rc, "standardFields")
        let isNilText = standard?.text(rc, "isNilReturn")
        let isNil = isNilText == "true" || isNilText == "1"
        let amendment = standard?.element(rc, "amendmentRequest")
        let isAmended = amendment?.text(rc, "isAmended") == "true"
        let payDay = date(formFields.text(ei, "payDayDate"), "ei:payDayDate", problems: &problems)
        let submissionKeyText = formFields.text(ei, "submissionKey")
        let submissionKey = submissionKeyText.flatMap { Int64($0) }
        if submissionKeyText != nil, submissionKey == nil {
            problems.append(invalidData)
        }
        if formFields.text(ei, "isReverseReplace") == "true", !isAmended {
            problems.append(StatusMessage(statusCode: 132, errorMessage: "Reverse/replace can only be used for an amendment"))
        }
        if isAmended, !amendReasons.contains(amendment?.text(rc, "amendReason") ?? "") {
            problems.append(StatusMessage(statusCode: 109, errorMessage: "Invalid Amend Reason"))
        }
        if let pi = formFields.text(ei, "piIrdNumber"), !isValidIRDNumber(pi, allowUnknown: false) {
            problems.append(
                StatusMessage(
                    statusCode: 22, errorMessage: "Invalid payload IRD number"))
        }
        if let periodEnd, let payDay {
            if periodEnd != periodEnd.lastDayOfMonth {
                problems.append(
                    StatusMessage(
                        statusCode: 104, errorMessage: "Invalid filing period"))
            }
            if !payDay.isInSameMonth(as: periodEnd) {
                problems.append(StatusMessage(statusCode: 161, errorMessage: "Payday date not in filing period"))
            }
        }
        let employees = formFields.element(ei, "employeeFields")?.elements(ei, "employee") ?? []
        if employees.isEmpty, !isNil {
            problems.append(StatusMessage(statusCode: 136, errorMessage: "Nil return not indicated despite missing line items"))
        }
        var referenceIds: Set<String> = []
        var lineProblems: Set<Int> = []
        for employee in employees {
            if let reference = employee.text(ei, "referenceId"), !reference.isEmpty {
                if !referenceIds.insert(reference).inserted, lineProblems.insert(131).inserted {
                    problems.append(
                        StatusMessage(
                            statusCode: 131, errorMessage: "Duplicate line items"))
                }
            } else if lineProblems.insert(137).inserted {
                problems.append(StatusMessage(statusCode: 137, errorMessage: "ReferenceId is required for all line items"))
            }
            if !isValidIRDNumber(employee.text(ei, "irdNumber") ?? "", allowUnknown: true) {
                problems.append(
                    StatusMessage(
                        statusCode: 134, errorMessage: "Invalid employee IRD number"))
            }
            if let start = try? CalendarDate(employee.text(ei, "payPeriodStartDate") ?? ""),
                let end = try? CalendarDate(employee.text(ei, "payPeriodEndDate") ?? ""), end < start
            {
                problems.append(
                    StatusMessage(
                        statusCode: 163, errorMessage: "Pay period end date before pay period start"))
            }
        }
        guard problems.isEmpty, let header, let periodEnd, let payDay else {
            return .refused(Array(problems.prefix(200)))
        }
        let canonical = request.xmlString
        let hash = SHA256.hash(data: Data(canonical.utf8)).map { String(format: "%02x", $0) }.joined()
        return .file(
            FileRequest(
                employer: header.employer, periodEndDate: periodEnd, payDayDate: payDay, isAmended: isAmended,
                submissionKey: submissionKey, payloadHash: hash, lineCount: employees.count,
                isNilReturn: isNilText.map { $0 == "true" || $0 == "1" },
                formFieldsXML: formFields.contentXML(prefix: "r", skipping: ["submissionKey"])))
    }

    // MARK: RetrieveStatus and RetrieveReturn

    private static func status(_ request: XMLElement) -> ParsedCall.Content {
        let rc = IRDNamespace.returnCommon
        let ei = IRDNamespace.returnEI
        var problems: [StatusMessage] = []
        let header = header(in: request, problems: &problems)
        let periodEnd = date(request.text(rc, "periodEndDate"), "rc:periodEndDate", problems: &problems)
        let payDayText = request.text(ei, "payDayDate")
        let payDay = payDayText.flatMap { date($0, "ei:payDayDate", problems: &problems) }
        let keyText = request.text(ei, "submissionKey") ?? request.text(rc, "submissionKey")
        let key = keyText.flatMap { Int64($0) }
        if keyText != nil, key == nil { problems.append(invalidData) }
        guard problems.isEmpty, let header, let periodEnd else { return .refused(problems) }
        return .status(StatusQuery(employer: header.employer, periodEndDate: periodEnd, payDayDate: payDay, submissionKey: key))
    }

    // MARK: Employment service

    private static func employment(_ request: XMLElement, operation: GatewayOperation) -> ParsedCall.Content {
        let employment = IRDNamespace.employment
        var problems: [StatusMessage] = []
        guard let headerElement = request.element(employment, "header") else {
            return .refused([employmentInvalidData])
        }
        let header = self.header(in: headerElement, problems: &problems)
        for irdNumber in request.descendants(employment, "employeeIRD") {
            let text = irdNumber.stringValue?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            if !isValidIRDNumber(text, allowUnknown: true) {
                problems.append(
                    StatusMessage(
                        statusCode: 121, errorMessage: "The provided employee IRD number is not valid"))
            }
        }
        // Create names the employee in its body; Update and Terminate in `employeeIdentifier`.
        let kind: EmploymentRequest.Operation
        let subject: XMLElement?
        switch operation {
        case .createEmployment: (kind, subject) = (.create, request.element(employment, "createBody"))
        case .updateEmployment: (kind, subject) = (.update, request.element(employment, "employeeIdentifier"))
        default: (kind, subject) = (.terminate, request.element(employment, "employeeIdentifier"))
        }
        guard let subject else {
            problems.append(employmentInvalidData)
            return .refused(problems)
        }
        let irdNumber = subject.text(employment, "employeeIRD") ?? ""
        let name = subject.text(employment, "employeeNameOnEILine")?.lowercased() ?? ""
        let employee: EmploymentRequest.Employee
        if irdNumber.allSatisfy({ $0 == "0" }) {
            guard !name.isEmpty else {
                problems.append(employmentInvalidData)
                return .refused(problems)
            }
            employee = .nameOnEILine(name)
        } else {
            // Checked above (code 121 otherwise), so it parses; the wire form is the 9-digit one.
            employee = .irdNumber((try? IRDNumber(irdNumber))?.wireForm ?? irdNumber)
        }
        let startDate = subject.text(employment, "employmentStartDate").flatMap { try? CalendarDate($0) }
        let finishText =
            kind == .terminate
            ? request.element(employment, "terminateBody")?.text(employment, "employmentFinishDate")
            : subject.text(employment, "employmentFinishDate")
        let finishDate = finishText.flatMap { try? CalendarDate($0) }
        if kind == .terminate, finishDate == nil {
            problems.append(employmentInvalidData)
        }
        guard problems.isEmpty, let header else { return .refused(problems) }
        return .employment(
            EmploymentRequest(operation: kind, employer: header.employer, employee: employee, startDate: startDate, finishDate: finishDate))
    }

    // MARK: Helpers

    /// Whether `text` is 8 or 9 digits passing IRD's range and modulus-11 check (or all zeros, where allowed).
    static func isValidIRDNumber(_ text: String, allowUnknown: Bool) -> Bool {
        guard (8...9).contains(text.count), text.allSatisfy({ $0.isASCII && $0.isNumber }) else { return false }
        guard let number = try? IRDNumber(text) else { return false }
        return allowUnknown || !number.isUnknown
    }

    private static func date(_ text: String?, _ name: String, problems: inout [StatusMessage]) -> CalendarDate? {
        guard let text, let date = try? CalendarDate(text) else {
            problems.append(invalidData)
            return nil
        }
        return date
    }

    /// Returns service code 100: the body passed the XSDs but its data cannot be read (EI build pack §5.2).
    static let invalidData = StatusMessage(statusCode: 100, errorMessage: "Invalid request data")

    /// Employment service code 100 (Employment build pack §5.2).
    static let employmentInvalidData = StatusMessage(statusCode: 100, errorMessage: "Could not extract data from XML payload")

    /// Code 106: a File for a major form type other than EI2 at the EI v2 service (EI build pack §5.2).
    static let wrongMajorFormType = StatusMessage(statusCode: 106, errorMessage: "Operation not available for major form type")
}
