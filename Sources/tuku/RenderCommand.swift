import ArgumentParser
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import TukuFiling
import TukuGateway
import TukuIRD

struct RenderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Print the SOAP envelope Tuku would send for a payload (no credentials), or every validation problem.",
        discussion: """
            Exits 0 with the envelope alone on standard output (the request line and headers go to standard error), \
            or 2 with one problem per line on standard error. With --payload-only, standard output is the request element \
            inside the SOAP body (e.g. fileRequest) as a document of its own, for IRD's schema:
              tuku render --payload-only ird.ei.file FILE | xmllint --noout --schema ReturnEI.v2.xsd -
            With --operation RetrieveReturn, an ird.ei.status payload is rendered as a RetrieveReturn call (the returns \
            filed for the payday, every field as filed) instead of RetrieveStatus.
            """
    )

    @Argument(help: "The job kind, e.g. ird.ei.file.") var kind: String
    @Argument(help: "The payload JSON file (as inserted into tuku.jobs.payload), or - for standard input.") var payload: String
    @Option(name: .customLong("software-provider"), help: "softwareProvider sent to IRD.") var softwareProvider = "Tuku"
    @Flag(help: "Print only the request element inside the SOAP body, as IRD's XSDs define it.") var payloadOnly = false
    @Option(help: "The operation, when the kind's payload serves more than one: RetrieveReturn for ird.ei.status.")
    var operation: String?

    func run() throws {
        let data =
            self.payload == "-" ? FileHandle.standardInput.readDataToEndOfFile() : try Data(contentsOf: URL(fileURLWithPath: self.payload))
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

enum KindDefinitionLookup {
    static func servicePath(for kind: String) -> String? {
        (try? KindDefinition.bundled())?[kind]?.gatewayService?.path
    }
}

struct DecodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "Parse a gateway response and print its status messages, ids and the outcome Tuku assigns to it."
    )

    @Argument(help: "The response body file, or - for standard input.") var response: String
    @Option(name: .customLong("http-status"), help: "The HTTP status it came with.") var httpStatus = 200
    @Option(name: .customLong("retry-after"), help: "The Retry-After header it came with.") var retryAfter: String?

    func run() throws {
        let data =
            self.response == "-"
            ? FileHandle.standardInput.readDataToEndOfFile() : try Data(contentsOf: URL(fileURLWithPath: self.response))
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
