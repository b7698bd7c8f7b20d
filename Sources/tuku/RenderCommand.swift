import ArgumentParser
import Foundation
import NIOHTTP1
import TukuCore
import TukuFiling
import TukuGateway
import TukuHMRC
import TukuIRD

#if canImport(FoundationXML)
import FoundationXML
#endif

struct RenderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Print the request Tuku would send for a payload (no credentials), or every validation problem.",
        discussion: """
            Exits 0 with the envelope alone on standard output (the request line and headers go to standard error), \
            or 2 with one problem per line on standard error. With --payload-only, standard output is the request element \
            inside the SOAP body (e.g. fileRequest) as a document of its own, for IRD's schema:
              tuku render --payload-only ird.ei.file FILE | xmllint --noout --schema ReturnEI.v2.xsd -
            With --operation RetrieveReturn, an ird.ei.status payload is rendered as a RetrieveReturn call (the returns \
            filed for the payday, every field as filed) instead of RetrieveStatus.
            For hmrc.vat.return and hmrc.vat.obligations, the request line and every header (fraud prevention headers \
            included, Authorization left out) go to standard error and the JSON body alone to standard output; vendor values \
            come from --fraud-vendor-config FILE (JSON), else an example configuration with documentation addresses. \
            --operation view renders an hmrc.vat.return payload's lookup (GET /returns/{periodKey}).
            """
    )

    @Argument(help: "The job kind, e.g. ird.ei.file.") var kind: String
    @Argument(help: "The payload JSON file (as inserted into tuku.jobs.payload), or - for standard input.") var payload: String
    @Option(name: .customLong("software-provider"), help: "softwareProvider sent to IRD.") var softwareProvider = "Tuku"
    @Flag(help: "Print only the request element inside the SOAP body, as IRD's XSDs define it.") var payloadOnly = false
    @Option(
        help: "The operation, when the kind's payload serves more than one: RetrieveReturn for ird.ei.status, view for hmrc.vat.return.")
    var operation: String?
    @Option(
        name: .customLong("fraud-vendor-config"),
        help: "HMRC kinds: a JSON file of Tuku's fraud prevention vendor values (FraudPreventionHeaders.Configuration).")
    var fraudVendorConfig: String?

    func run() throws {
        let data =
            self.payload == "-" ? FileHandle.standardInput.readDataToEndOfFile() : try Data(contentsOf: URL(fileURLWithPath: self.payload))
        if self.kind.hasPrefix("hmrc.") {
            try self.renderHMRC(data)
            return
        }
        let decoded: IRDJobPayload
        do {
            decoded = try IRDJobPayload.decodeValidated(kind: self.kind, from: data)
        } catch {
            FileHandle.standardError.write(Data("\(self.kind): \(error.reason)\n".utf8))
            for problem in error.problems {
                FileHandle.standardError.write(Data("  \(problem.path): \(problem.reason)\n".utf8))
            }
            throw ExitCode(2)
        }
        let builder = SOAPEnvelopeBuilder(
            configuration: .init(softwareProvider: self.softwareProvider, softwarePlatform: "Linux", softwareRelease: Tuku.version))
        let envelope: SOAPEnvelope
        switch (self.operation, decoded) {
        case (nil, _): envelope = try builder.envelope(for: decoded)
        case (GatewayOperation.retrieveReturn.name?, .eiStatus(let status)): envelope = try builder.retrieveReturn(status)
        case (let name?, _):
            let message = "\(self.kind): --operation \(name) is not available (RetrieveReturn takes ird.ei.status)\n"
            FileHandle.standardError.write(Data(message.utf8))
            throw ExitCode(2)
        }
        let head =
            "POST <gateway>/\(KindDefinitionLookup.servicePath(for: self.kind) ?? "?")\n"
            + "Content-Type: \(envelope.contentType)\nAuthorization: <left out>\n"
        FileHandle.standardError.write(Data(head.utf8))
        let output = self.payloadOnly ? try Self.payloadDocument(of: envelope) : envelope.body
        FileHandle.standardOutput.write(output)
        if output.last != UInt8(ascii: "\n") { FileHandle.standardOutput.write(Data("\n".utf8)) }
    }

    /// The request element of the envelope's body (e.g. `fileRequest`) as a standalone document. Copying the element
    /// into a new document carries along the namespace declarations made on its ancestors.
    static func payloadDocument(of envelope: SOAPEnvelope) throws -> Data {
        let (localName, namespace) = envelope.operation.payloadElement
        let document = try XMLDocument(data: envelope.body, options: [])
        func find(_ element: XMLElement) -> XMLElement? {
            if element.uri == namespace && element.localName == localName { return element }
            for case let child as XMLElement in element.children ?? [] {
                if let found = find(child) { return found }
            }
            return nil
        }
        guard let root = document.rootElement(), let element = find(root), let copy = element.copy() as? XMLElement else {
            throw ValidationError("the envelope holds no {\(namespace)}\(localName)")
        }
        let standalone = XMLDocument(rootElement: copy)
        standalone.characterEncoding = "UTF-8"
        return standalone.xmlData(options: [])
    }
}

extension RenderCommand {
    /// An example vendor configuration (documentation addresses, RFC 5737 and RFC 7042) for rendering without one.
    static let exampleVendorConfiguration = FraudPreventionHeaders.Configuration(
        productName: "Tuku", versions: ["tuku": Tuku.version], licenseIDs: ["tuku": "example-licence-id"], publicIP: "203.0.113.6",
        batchProcess: .init(
            deviceID: "00000000-0000-4000-8000-000000000000", localIPs: ["192.0.2.10"], macAddresses: ["00:00:5e:00:53:01"],
            timezone: "UTC+00:00", osFamily: "Linux", osVersion: "example", deviceManufacturer: "example", deviceModel: "example",
            userIDs: ["os": "tuku"]))

    /// Renders an HMRC kind: the request line and headers on standard error, the JSON body on standard output.
    func renderHMRC(_ data: Data) throws {
        func fail(_ error: JobError) throws -> Never {
            FileHandle.standardError.write(Data("\(self.kind): \(error.code): \(error.message)\n".utf8))
            for problem in error.problems ?? [] {
                FileHandle.standardError.write(Data("  \(problem.path): \(problem.reason)\n".utf8))
            }
            throw ExitCode(2)
        }
        let vendor: FraudPreventionHeaders.Configuration
        if let path = self.fraudVendorConfig {
            vendor = try JSONDecoder().decode(FraudPreventionHeaders.Configuration.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        } else {
            vendor = Self.exampleVendorConfiguration
            FileHandle.standardError.write(Data("(vendor values: an example configuration; --fraud-vendor-config FILE for yours)\n".utf8))
        }
        do {
            let fraud = try FraudPreventionHeaders(configuration: vendor)
            let request: HMRCRequest
            switch (self.kind, self.operation) {
            case (VATReturnPayload.kind, nil):
                let payload = try VATReturnPayload.decodeValidated(from: data)
                request = .submitReturn(payload, fraudPreventionHeaders: try fraud.headers(for: payload.fraudPrevention, now: Date()))
            case (VATReturnPayload.kind, "view"?):
                let payload = try VATReturnPayload.decodeValidated(from: data)
                request = .viewReturn(
                    vrn: payload.vrn, periodKey: payload.periodKey,
                    fraudPreventionHeaders: try fraud.headers(for: payload.fraudPrevention, now: Date()))
            case (VATObligationsPayload.kind, nil):
                let payload = try VATObligationsPayload.decodeValidated(from: data)
                request = .obligations(payload, fraudPreventionHeaders: try fraud.headers(for: payload.fraudPrevention, now: Date()))
            default:
                try fail(
                    JobError(
                        code: "unknown_kind",
                        message: "renders hmrc.vat.return (--operation view for its lookup) and hmrc.vat.obligations"))
            }
            var head = "\(request.method.rawValue) <hmrc>\(request.path)\n"
            for header in request.headers { head += "\(header.name): \(header.value)\n" }
            if let body = request.body { head += "Content-Length: \(body.count)\n" }
            head += "Authorization: Bearer <left out>\n"
            FileHandle.standardError.write(Data(head.utf8))
            if let body = request.body {
                FileHandle.standardOutput.write(body)
                FileHandle.standardOutput.write(Data("\n".utf8))
            }
        } catch let error as JobError {
            try fail(error)
        }
    }
}

enum KindDefinitionLookup {
    static func servicePath(for kind: String) -> String? {
        (try? KindDefinition.bundled())?[kind]?.gatewayService?.path
    }
}

struct DecodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "Parse a gateway response (IRD SOAP, or HMRC JSON) and print its messages, ids and the outcome Tuku assigns to it."
    )

    @Argument(help: "The response body file, or - for standard input.") var response: String
    @Option(name: .customLong("http-status"), help: "The HTTP status it came with.") var httpStatus = 200
    @Option(name: .customLong("retry-after"), help: "The Retry-After header it came with.") var retryAfter: String?
    @Option(
        help: "Read an HMRC JSON answer to this call: submit, obligations or lookup (a body starting with { is read as submit).")
    var hmrc: String?
    @Option(name: .customLong("header"), help: "HMRC: a response header 'Name: value' (Receipt-ID, X-CorrelationId, …); repeatable.")
    var headers: [String] = []

    func run() throws {
        let data =
            self.response == "-"
            ? FileHandle.standardInput.readDataToEndOfFile() : try Data(contentsOf: URL(fileURLWithPath: self.response))
        let looksLikeJSON = data.first { !$0.isASCIIWhitespace }.map { $0 == UInt8(ascii: "{") } ?? false
        if self.hmrc != nil || looksLikeJSON {
            try self.decodeHMRC(data)
            return
        }
        let parsed = Result { () throws(GatewayError) in try GatewayResponseParser.parse(data) }
        switch parsed {
        case .success(let response):
            print("action          \(response.action ?? "-")")
            switch response.content {
            case .result(let result):
                print("response        \(result.responseElement)")
                for message in result.statusMessages {
                    print(
                        "statusMessage   \(message.statusCode) \(message.errorMessage)\(message.errorDescription.map { " — \($0)" } ?? "")")
                }
                print("gatewayId       \(result.gatewayId ?? "-")")
                print("submissionKey   \(result.submissionKey.map(String.init) ?? "-")")
                for retrieved in result.retrievedReturns {
                    let key = retrieved.submissionKey.map(String.init) ?? "-"
                    let payday = retrieved.payDayDate.map { "\($0)" } ?? "-"
                    let isNil = retrieved.isNilReturn.map { "\($0)" } ?? "-"
                    print(
                        "return          key \(key) payday \(payday) nil \(isNil) lines \(retrieved.lineReferences.count)"
                            + " gross \(retrieved.totalGrossEarnings ?? "-") paye \(retrieved.totalPAYE ?? "-")")
                }
                for status in result.returnStatuses {
                    print(
                        "returnStatus    \(status.code ?? "-") \(status.text) received \(status.receivedDate.map { "\($0)" } ?? "-") key \(status.submissionKey.map(String.init) ?? "-")"
                    )
                }
            case .fault(let fault):
                print("fault           \(fault.code) \(fault.reason)")
            }
        case .failure(let error):
            print("unparsed        \(error)")
        }
        let retryAfter = self.retryAfter.flatMap { RetryAfter.delay(fromHeader: $0, now: Date()) }
        let outcome = GatewayOutcomeClassifier().classify(.response(status: self.httpStatus, retryAfter: retryAfter, body: parsed))
        print("outcome         \(outcome)")
    }
}

extension UInt8 {
    fileprivate var isASCIIWhitespace: Bool { self == 0x20 || self == 0x09 || self == 0x0A || self == 0x0D }
}

extension DecodeCommand {
    /// Prints an HMRC JSON answer: its error code, message and `errors[]`, the receipt, and the outcome Tuku assigns.
    func decodeHMRC(_ data: Data) throws {
        var headers = HTTPHeaders()
        for line in self.headers {
            guard let colon = line.firstIndex(of: ":") else { throw ValidationError("--header takes 'Name: value', got '\(line)'") }
            headers.add(
                name: String(line[..<colon]).trimmingCharacters(in: .whitespaces),
                value: String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces))
        }
        if let retryAfter = self.retryAfter { headers.replaceOrAdd(name: "Retry-After", value: retryAfter) }
        let operation: HMRCRequest.Operation?
        switch self.hmrc ?? "submit" {
        case "submit": operation = .submitReturn
        case "obligations": operation = .obligations
        case "lookup": operation = nil
        case let other: throw ValidationError("--hmrc takes submit, obligations or lookup, not '\(other)'")
        }
        let exchange = HMRCExchange.response(status: self.httpStatus, headers: headers, body: data)
        if let error = HMRCErrorBody.parse(data) {
            print("code            \(error.code)")
            print("message         \(error.message ?? "-")")
            for detail in error.errors {
                print("error           \(detail.path ?? "-") \(detail.code)\(detail.message.map { ": \($0)" } ?? "")")
            }
        }
        let classifier = HMRCOutcomeClassifier()
        guard let operation else {
            switch HMRCReturnLookup.read(exchange, classifier: classifier, now: Date()) {
            case .held(let periodKey, let correlationID):
                print("lookup          held: HMRC holds a return for \(periodKey) (X-CorrelationId \(correlationID ?? "-"))")
            case .none:
                print("lookup          none: no return for the period")
            case .undetermined(let outcome):
                print("lookup          undetermined")
                Self.printOutcome(outcome)
            }
            return
        }
        if operation == .obligations, let obligations = HMRCObligations.parse(data) {
            for obligation in obligations.obligations {
                let received = obligation.received.map { " received \($0)" } ?? ""
                let period = "\(obligation.periodKey) \(obligation.status) \(obligation.start)…\(obligation.end)"
                print("obligation      \(period) due \(obligation.due)\(received)")
            }
        }
        Self.printOutcome(classifier.classify(exchange, operation: operation, now: Date()))
    }

    static func printOutcome(_ outcome: HMRCOutcome) {
        if case .succeeded(let receipt) = outcome, receipt != HMRCReceipt() {
            print("receiptID       \(receipt.receiptID ?? "-")")
            print("receiptTime     \(receipt.receiptTimestamp ?? "-")")
            print("correlationId   \(receipt.correlationID ?? "-")")
            print("formBundle      \(receipt.formBundleNumber ?? "-")")
            print("chargeRef       \(receipt.chargeRefNumber ?? "-")")
        }
        print("outcome         \(outcome.label)")
        print("gatewayOutcome  \(outcome.gatewayOutcome)")
        if let error = outcome.jobError { print("jobError        \(error)") }
    }
}
