import Foundation
import Testing
import TukuTestSupport

/// `tuku render` as its help promises: the envelope alone on standard output, so it pipes into `xmllint`.
@Suite("tuku render pipes into xmllint")
struct RenderCommandTests {
    static let schemas = TestCertificates.repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared/reference/ird/schemas")

    /// Runs a shell pipeline; (exit status, standard output, standard error).
    static func shell(_ script: String, _ arguments: [String]) throws -> (Int32, String, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-o", "pipefail", "-c", script, "render-test"] + arguments
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let out = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let err = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, out, err)
    }

    static func example(_ kind: String, _ name: String) -> String {
        TestCertificates.repositoryRoot.appendingPathComponent("jobs/\(kind)/examples/\(name).json").path
    }

    @Test("standard output is the envelope alone (well-formed XML); the request line and headers go to standard error")
    func envelopeAloneOnStandardOutput() throws {
        let tuku = try TukuProcess.executableURL().path
        let (status, out, err) = try Self.shell(
            "\"$1\" render ird.ei.file \"$2\" | tee /dev/stderr | xmllint --noout --nonet -", [tuku, Self.example("ird.ei.file", "three-employees")])
        #expect(status == 0, "\(err)")
        #expect(out.isEmpty)
        #expect(err.contains("POST <gateway>/gws/returns/"))
        #expect(err.contains("Authorization: <left out>"))
        let (_, envelope, _) = try Self.shell("\"$1\" render ird.ei.file \"$2\" 2>/dev/null", [tuku, Self.example("ird.ei.file", "three-employees")])
        #expect(envelope.hasPrefix("<"))
        #expect(envelope.contains("Envelope"))
        #expect(!envelope.contains("POST "))
    }

    @Test("--payload-only | xmllint --schema: the request inside the body validates against IRD's XSD, and a wrong schema fails")
    func payloadValidatesAgainstIRDSchema() throws {
        let tuku = try TukuProcess.executableURL().path
        let returns = Self.schemas.appendingPathComponent("ReturnEI.v2.xsd").path
        let employment = Self.schemas.appendingPathComponent("Employment.v2.xsd").path
        let pipe = "\"$1\" render --payload-only \"$2\" \"$3\" 2>/dev/null | xmllint --noout --nonet --schema \"$4\" -"
        for (kind, name, schema) in [
            ("ird.ei.file", "three-employees", returns), ("ird.ei.file", "nil-return", returns), ("ird.ed.create", "new-employee", employment),
        ] {
            let (status, _, err) = try Self.shell(pipe, [tuku, kind, Self.example(kind, name), schema])
            #expect(status == 0, "\(kind) \(name): \(err)")
            #expect(err.contains("- validates"), "\(err)")
        }
        // The pipe can fail: a return is not an employment request.
        let (status, _, err) = try Self.shell(pipe, [tuku, "ird.ei.file", Self.example("ird.ei.file", "three-employees"), employment])
        #expect(status != 0)
        #expect(err.contains("fails to validate") || err.contains("validity error"))
    }

    @Test("--operation RetrieveReturn renders an ird.ei.status payload as RetrieveReturn, XSD-valid; tuku decode reads the answer")
    func retrieveReturn() throws {
        let tuku = try TukuProcess.executableURL().path
        let returns = Self.schemas.appendingPathComponent("ReturnEI.v2.xsd").path
        let example = Self.example("ird.ei.status", "by-payday")
        let (status, envelope, err) = try Self.shell("\"$1\" render --operation RetrieveReturn ird.ei.status \"$2\"", [tuku, example])
        #expect(status == 0, "\(err)")
        #expect(envelope.contains(">https://services.ird.govt.nz/GWS/Returns/Return/RetrieveReturn<"))
        #expect(envelope.contains("RetrieveReturnRequestMsg>") && envelope.contains("RetrieveReturnRequestWrapper "))
        let pipe =
            "\"$1\" render --operation RetrieveReturn --payload-only ird.ei.status \"$2\" 2>/dev/null"
            + " | xmllint --noout --nonet --schema \"$3\" -"
        let (valid, _, validation) = try Self.shell(pipe, [tuku, example, returns])
        #expect(valid == 0, "\(validation)")
        #expect(validation.contains("- validates"))
        // A File payload has no RetrieveReturn form.
        let (refused, _, message) = try Self.shell(
            "\"$1\" render --operation RetrieveReturn ird.ei.file \"$2\"", [tuku, Self.example("ird.ei.file", "three-employees")])
        #expect(refused == 2)
        #expect(message.contains("--operation RetrieveReturn is not available"))

        // IRD's published RetrieveReturn response shape (GST, v1 namespaces), decoded.
        let sample = TestCertificates.repositoryRoot
            .appendingPathComponent("Tests/Fixtures/ird-v1/body-gst-retrievereturn-response.xml").path
        let (decoded, out, decodeErr) = try Self.shell("\"$1\" decode \"$2\"", [tuku, sample])
        #expect(decoded == 0, "\(decodeErr)")
        #expect(out.contains("response        retrieveReturnResponse"))
        #expect(out.contains("return          key - payday - nil false lines 0"))
        #expect(out.contains("outcome         succeeded"))
    }
}
