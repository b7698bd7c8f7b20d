import ArgumentParser
import Foundation
import TukuFiling
import TukuGateway
import TukuIRD

struct RenderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Print the SOAP envelope Tuku would send for a payload (no credentials), or every validation problem.",
        discussion: "Exits 0 with the envelope on standard output, or 2 with one problem per line on standard error."
    )

    @Argument(help: "The job kind, e.g. ird.ei.file.") var kind: String
    @Argument(help: "The payload JSON file (as inserted into tuku.jobs.payload), or - for standard input.") var payload: String
    @Option(name: .customLong("software-provider"), help: "softwareProvider sent to IRD.") var softwareProvider = "Tuku"

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
        let envelope = try builder.envelope(for: decoded)
        print("# POST <gateway>/\(KindDefinitionLookup.servicePath(for: self.kind) ?? "?")")
        print("# Content-Type: \(envelope.contentType)")
        print("# Authorization: <left out>")
        print(String(decoding: envelope.body, as: UTF8.self))
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
